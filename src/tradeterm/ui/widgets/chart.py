"""The candle chart widget: candles, overlays, SMC zones, trading marks, crosshair, history.

The drawing is :class:`~tradeterm.ui.chart.render.ChartRenderer`'s (pure, cached per column;
see its module for the cost model). This widget holds what the user chose (overlays on, zoom,
history anchor, crosshair), takes data from the app (:meth:`CandleChart.update_data`,
:meth:`CandleChart.update_marks`) and repaints only the rows that changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from textual.binding import Binding
from textual.events import MouseMove, MouseScrollDown, MouseScrollUp
from textual.reactive import var
from textual.strip import Strip
from textual.widget import Widget

from tradeterm.core.models import Candle, Signal
from tradeterm.core.trading import Fill, Order, Position
from tradeterm.ui.chart.marks import Marks, chart_marks
from tradeterm.ui.chart.overlays import (
    Overlays,
    Series,
    Zone,
    INDICATORS_LOAD_DELAY_S,
    indicators_loaded,
    load_indicators,
)
from tradeterm.ui.chart.render import ChartRenderer, Crosshair
from tradeterm.ui.chart.view import ZOOM_LEVELS, ChartView
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.lines import changed_regions


class CandleChart(Widget, can_focus=True):
    """Draws the candles handed to it by :meth:`update_data`; repaints only changed rows.

    Focused, the arrow keys move a crosshair (its bar's time and OHLCV in the header, its price
    on the axis); :meth:`toggle_log_scale` switches the price scale (kept while the app runs);
    the mouse moves it too, and the wheel scrolls history. ``view`` (a Textual var) is the
    window last drawn; the indicator pane watches it to stay column-aligned.
    """

    DEFAULT_CSS = """
    CandleChart { width: 1fr; height: 1fr; }
    """

    BINDINGS = [
        Binding("left", "cross_move(-1)", "Crosshair left", id="chart.cross_left", show=False),
        Binding("right", "cross_move(1)", "Crosshair right", id="chart.cross_right",
                show=False),
        Binding("shift+left", "cross_move(-10)", "Crosshair 10 left", id="chart.cross_left10",
                show=False),
        Binding("shift+right", "cross_move(10)", "Crosshair 10 right",
                id="chart.cross_right10", show=False),
        Binding("up", "cross_price(-1)", "Crosshair price up", id="chart.cross_up", show=False),
        Binding("down", "cross_price(1)", "Crosshair price down", id="chart.cross_down",
                show=False),
        Binding("escape", "cross_hide", "Hide the crosshair", id="chart.cross_hide",
                show=False),
    ]

    view: var[ChartView | None] = var(None, init=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.renderer = ChartRenderer()
        self.overlays = Overlays(("ema",))
        self.market_colors = TradingColors()
        self.marks = Marks()
        self.per_column = 1
        self.log_scale = False  # a logarithmic price scale (kept across symbols and timeframes)
        # Open time of the newest candle in view; None: live.
        self.history_anchor: int | None = None
        self.crosshair: Crosshair | None = None
        self._data: tuple[tuple[Candle, ...], str, str, int, str] = ((), "", "", 60_000, "")
        self.tick: Decimal | None = None  # the market's price tick, once known
        self.step: Decimal | None = None  # and its lot step
        self._lines: list[Strip] = []
        self._lines_size: tuple[int, int] | None = None
        self._overlays_pending = False  # the overlays' import is scheduled (_load_overlays)

    # -- data in ----------------------------------------------------------------------------

    def update_data(
        self,
        candles: tuple[Candle, ...],
        *,
        symbol: str,
        timeframe: str,
        timeframe_ms: int,
        message: str = "",
        colors: TradingColors | None = None,
        tick: Decimal | None = None,
        step: Decimal | None = None,
    ) -> None:
        """Take new data; recompute and repaint only if something this widget shows changed.
        ``tick`` and ``step`` (the market's) put the header's and the axis' prices and the
        volume on its grid."""
        data = (candles, symbol, timeframe, timeframe_ms, message)
        colors = colors or self.market_colors
        grid = (tick, step)
        if data == self._data and colors == self.market_colors and grid == (self.tick, self.step):
            return
        self.tick, self.step = grid
        if (symbol, timeframe) != self._data[1:3]:
            self.history_anchor = None  # another market: its history has nothing to anchor on
        self._data = data
        self.market_colors = colors
        self._rebuild()

    def update_marks(
        self,
        *,
        signals: tuple[Signal, ...],
        fills: tuple[Fill, ...],
        positions: tuple[Position, ...],
        orders: tuple[Order, ...],
    ) -> None:
        """Signal and fill markers, stop/target lines of open positions, working order prices
        (of the chart's symbol only)."""
        marks = chart_marks(self._data[1], signals, fills, positions, orders)
        if marks != self.marks:
            self.marks = marks
            self._rebuild()

    # -- commands ---------------------------------------------------------------------------

    def toggle_overlay(self, name: str) -> bool:
        """Turn overlay ``name`` (``ema``, ``bollinger``, ``vwap``, ``smc``) on or off; returns
        whether it is now shown."""
        shown = self.overlays.toggle(name)
        self._rebuild()
        return shown

    def toggle_log_scale(self) -> bool:
        """Switch between a linear and a logarithmic price scale; returns whether it is now
        logarithmic."""
        self.log_scale = not self.log_scale
        self._rebuild(repaint_changed_only=False)
        return self.log_scale

    def scroll_bars(self, bars: int) -> None:
        """Move the view ``bars`` columns back (negative) or forward in history, no further
        than the oldest candle or the newest."""
        candles, view = self._data[0], self.view
        if not candles or view is None or not view.groups:
            return
        last = view.groups[-1][1] + bars * self.per_column
        oldest = min(len(candles) - 1, view.plot_width * self.per_column - 1)
        last = max(oldest, last)
        self.history_anchor = None if last >= len(candles) - 1 else candles[last].open_time
        self._rebuild()

    def zoom(self, step: int) -> None:
        """More candles per column (``step`` < 0, zoom out) or fewer (> 0, zoom in), among
        :data:`ZOOM_LEVELS`; the newest candle in view stays in view."""
        index = ZOOM_LEVELS.index(self.per_column) - step
        self.per_column = ZOOM_LEVELS[max(0, min(len(ZOOM_LEVELS) - 1, index))]
        self._rebuild()

    def go_live(self) -> None:
        """Back to the newest candle at the default zoom."""
        self.history_anchor, self.per_column = None, 1
        self._rebuild()

    def action_cross_move(self, columns: int) -> None:
        """Show the crosshair, or move it ``columns`` to the right (negative: left)."""
        view = self.view
        if view is None:
            return
        if self.crosshair is None:
            self._show_crosshair()
            return
        x = max(0, min(view.plot_width - 1, self.crosshair.column + columns))
        self.crosshair = Crosshair(x, self.crosshair.row)
        self._rebuild()

    def action_cross_price(self, rows: int) -> None:
        """Show the crosshair, or move its price line ``rows`` down (negative: up)."""
        scale = self.renderer.scale
        if scale is None:
            return
        if self.crosshair is None:
            self._show_crosshair()
            return
        row = max(0, min(scale.rows - 1, self.crosshair.row + rows))
        self.crosshair = Crosshair(self.crosshair.column, row)
        self._rebuild()

    def action_cross_hide(self) -> None:
        """Hide the crosshair."""
        if self.crosshair is not None:
            self.crosshair = None
            self._rebuild()

    def _show_crosshair(self) -> None:
        """On the newest bar in view, at its close."""
        view, scale = self.view, self.renderer.scale
        if view is None or scale is None or not view.bars:
            return
        self.crosshair = Crosshair(view.plot_width - 1, scale.row(view.bars[-1].close))
        self._rebuild()

    def on_mouse_move(self, event: MouseMove) -> None:
        view, scale = self.view, self.renderer.scale
        if view is None or scale is None:
            return
        top = self.renderer.header_rows
        if 0 <= event.x < view.plot_width and top <= event.y < top + scale.rows:
            crosshair = Crosshair(event.x, event.y - top)
            if crosshair != self.crosshair:
                self.crosshair = crosshair
                self._rebuild()

    def on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        event.stop()
        self.scroll_bars(-_WHEEL_BARS)

    def on_mouse_scroll_down(self, event: MouseScrollDown) -> None:
        event.stop()
        self.scroll_bars(_WHEEL_BARS)

    # -- drawing ----------------------------------------------------------------------------

    def _rebuild(self, *, repaint_changed_only: bool = True) -> None:
        old, old_size = self._lines, self._lines_size
        lines = self._compute()
        width, height = self.size.width, self.size.height
        if repaint_changed_only and old_size == (width, height) and len(old) == len(lines):
            # Only the changed cells of each row: on a live tick that is the newest bar, the
            # price label and the header's figures, not the whole width (a 200-column chart
            # would otherwise resend every row the live bar touches).
            changed = changed_regions(old, lines, width)
            if changed:
                self.refresh(*changed)
        else:
            self.refresh()

    def _compute(self) -> list[Strip]:
        candles, symbol, timeframe, timeframe_ms, message = self._data
        width, height = self.size.width, self.size.height
        series: Sequence[Series] = ()
        zones: Sequence[tuple[Zone, ...]] = ()
        if candles and not indicators_loaded():  # attached: the first data frame goes first
            if not self._overlays_pending:
                self._overlays_pending = True
                self.set_timer(INDICATORS_LOAD_DELAY_S, self._load_overlays)
        else:
            self.overlays.update(candles)
            series, zones = self.overlays.series, self.overlays.zones
        self._lines = self.renderer.render(
            candles,
            width=width,
            height=height,
            colors=self.market_colors,
            symbol=symbol,
            timeframe=timeframe,
            timeframe_ms=timeframe_ms,
            message=message,
            per_column=self.per_column,
            anchor=self.history_anchor,
            series=series,
            zones=zones,
            marks=self.marks,
            crosshair=self.crosshair,
            tick=self.tick,
            step=self.step,
            log=self.log_scale,
        )
        self._lines_size = (width, height)
        self.view = self.renderer.view
        return self._lines

    def _load_overlays(self) -> None:
        """After the first frame with data: import what the overlays compute with, then draw
        them (see :func:`~tradeterm.ui.chart.overlays.indicators_loaded`)."""
        load_indicators()
        self._overlays_pending = False
        self._rebuild(repaint_changed_only=False)

    def on_resize(self) -> None:
        self._rebuild(repaint_changed_only=False)

    def render_line(self, y: int) -> Strip:
        if self._lines_size != (self.size.width, self.size.height):
            self._compute()
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width)


_WHEEL_BARS = 3  # columns scrolled per wheel notch
