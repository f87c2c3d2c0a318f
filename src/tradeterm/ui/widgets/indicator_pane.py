"""The indicator pane under the chart: RSI(14) with 30/70 guides, or MACD(12, 26, 9).

Column-for-column aligned with the chart: the pane draws one column per chart column, for the
same candles (the chart's :class:`~tradeterm.ui.chart.view.ChartView`: same zoom, same history
window, same price-axis width), so a value sits under its candle. The pane finds the chart on
its screen at mount and watches its ``view``: a scroll, zoom or resize of the chart redraws the
pane at once. Without a chart (tests, other screens) it draws the snapshot's newest candles,
one per column.

Values come from the project's TA-Lib wrappers (``tradeterm.indicators.ta``), imported on first
use. The candles are converted to numpy once per closed bar (:class:`CandleArrays`); a tick of
the live candle recomputes the series on those arrays (microseconds for a thousand bars).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tradeterm.core.models import Candle, EngineSnapshot
from tradeterm.ui.chart.glyphs import braille, quarter_row, style
from tradeterm.ui.chart.overlays import CandleArrays
from tradeterm.ui.chart.render import run_segments
from tradeterm.ui.chart.view import ChartView
from tradeterm.ui.fmt import fmt_price
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.chart import CandleChart
from tradeterm.ui.widgets.lines import LineCacheWidget

if TYPE_CHECKING:
    import numpy as np

MODES = ("rsi", "macd")
RSI_PERIOD = 14
RSI_GUIDES = (70.0, 30.0)
MACD_PARAMS = (12, 26, 9)
_FALLBACK_AXIS = 8  # axis width without a chart to align with
_SIGNAL_COLOR = "#42a5f5"


def compute(mode: str, candles: Sequence[Candle], data: CandleArrays) -> dict[str, np.ndarray]:
    """``{"rsi": ...}`` or ``{"macd", "signal", "hist"}``: one value per candle, NaN in warm-up."""
    from tradeterm.indicators.ta import compute_macd, compute_rsi

    data.update(candles)
    if mode == "rsi":
        return {"rsi": compute_rsi(data.arrays, RSI_PERIOD)[f"rsi_{RSI_PERIOD}"]}
    fast, slow, sig = MACD_PARAMS
    out = compute_macd(data.arrays, fast, slow, sig)
    suffix = f"{fast}_{slow}_{sig}"
    return {
        "macd": out[f"macd_{suffix}"],
        "signal": out[f"macd_signal_{suffix}"],
        "hist": out[f"macd_hist_{suffix}"],
    }


def column_values(values: np.ndarray, columns: Sequence[int | None]) -> list[float]:
    """The value shown in each column (the last candle of its group), NaN for empty columns."""
    return [float(values[i]) if i is not None else float("nan") for i in columns]


def line_dots(values: Sequence[float], lo: float, hi: float, rows: int) -> list[dict[int, int]]:
    """Per column, row -> Braille bits of a connected line through ``values``.

    Each column spans the dot rows from its own value halfway to its neighbours', so steep
    moves stay a continuous line instead of scattered dots."""
    qs = [quarter_row(v, lo, hi, rows) for v in values]
    out: list[dict[int, int]] = []
    for x, q in enumerate(qs):
        cells: dict[int, int] = {}
        if q is not None:
            ends = [q]
            for nx in (x - 1, x + 1):
                if 0 <= nx < len(qs) and qs[nx] is not None:
                    ends.append((q + qs[nx]) // 2)  # type: ignore[operator]
            for d in range(min(ends), max(ends) + 1):
                cells[d // 4] = cells.get(d // 4, 0) | (0x09, 0x12, 0x24, 0xC0)[d % 4]
        out.append(cells)
    return out


def _assemble(
    chars: list[list[str]], styles: list[list[Style | None]], axis: list[Segment]
) -> list[Strip]:
    lines = []
    for row_chars, row_styles, axis_cell in zip(chars, styles, axis, strict=True):
        lines.append(Strip([*run_segments(row_chars, row_styles), axis_cell]))
    return lines


def _draw_line(
    chars: list[list[str]], styles: list[list[Style | None]], dots: list[dict[int, int]],
    color: str,
) -> None:
    for x, cells in enumerate(dots):
        for r, bits in cells.items():
            old = chars[r][x]
            if "\u2800" <= old <= "\u28ff":  # another line already here: merge the dots
                bits |= ord(old) - 0x2800
            chars[r][x] = braille(bits)
            styles[r][x] = style(color)


def _axis(rows: int, axis_w: int, labels: dict[int, str], colors: TradingColors) -> list[Segment]:
    muted = style(colors.muted)
    return [
        Segment((("┤" + labels[r]) if r in labels else "│").ljust(axis_w)[:axis_w], muted)
        for r in range(rows)
    ]


def rsi_lines(
    values: Sequence[float], axis_w: int, height: int, colors: TradingColors
) -> list[Strip]:
    """Header ``RSI 14  56.3`` (the newest column's value), the line, the 30/70 guides."""
    rows = height - 1
    known = [v for v in values if v == v]
    head = [Segment(f" RSI {RSI_PERIOD} ", style(colors.accent, bold=True))]
    if known:
        head.append(Segment(f" {known[-1]:.1f}", style(colors.foreground)))
    if rows <= 0:
        return [Strip(head)]
    n = len(values)
    chars = [[" "] * n for _ in range(rows)]
    cell_styles: list[list[Style | None]] = [[None] * n for _ in range(rows)]
    labels = {}
    for guide in RSI_GUIDES:
        q = quarter_row(guide, 0.0, 100.0, rows)
        if q is not None:
            r = q // 4
            labels[r] = f"{guide:g}"
            chars[r] = ["┈"] * n
            cell_styles[r] = [style(colors.muted)] * n
    _draw_line(chars, cell_styles, line_dots(values, 0.0, 100.0, rows), colors.accent)
    return [Strip(head), *_assemble(chars, cell_styles, _axis(rows, axis_w, labels, colors))]


def macd_lines(
    macd: Sequence[float], signal: Sequence[float], hist: Sequence[float], axis_w: int,
    height: int, colors: TradingColors, tick: Decimal | None = None,
) -> list[Strip]:
    """Header with the newest values, histogram bars (half blocks) around 0, MACD and signal.
    MACD is in price units: its values show on the market's ``tick`` when known."""
    rows = height - 1
    fast, slow, sig = MACD_PARAMS
    head = [Segment(f" MACD {fast} {slow} {sig} ", style(colors.accent, bold=True))]
    last = next((i for i in range(len(macd) - 1, -1, -1) if macd[i] == macd[i]), None)
    if last is not None:
        head += [
            Segment(f" {fmt_price(macd[last], tick)}", style(colors.accent)),
            Segment("  signal ", style(colors.muted)),
            Segment(fmt_price(signal[last], tick), style(_SIGNAL_COLOR)),
            Segment("  hist ", style(colors.muted)),
            Segment(fmt_price(hist[last], tick),
                    style(colors.up if hist[last] >= 0 else colors.down)),
        ]
    if rows <= 0:
        return [Strip(head)]
    n = len(macd)
    finite = [v for v in (*macd, *signal, *hist) if v == v]
    lo, hi = min([0.0, *finite]), max([0.0, *finite])
    if hi == lo:
        lo, hi = lo - 1.0, hi + 1.0
    subs = 2 * rows
    to_sub = lambda v: min(subs - 1, max(0, int((hi - v) / (hi - lo) * subs)))  # noqa: E731
    zero = to_sub(0.0)
    chars = [[" "] * n for _ in range(rows)]
    cell_styles: list[list[Style | None]] = [[None] * n for _ in range(rows)]
    for x, h in enumerate(hist):
        if h != h or h == 0:
            continue
        end = to_sub(h)
        top, bottom = (end, zero) if h > 0 else (zero, end)
        bar_style = style(colors.up if h > 0 else colors.down)
        for r in range(top // 2, bottom // 2 + 1):
            upper, lower = top <= 2 * r <= bottom, top <= 2 * r + 1 <= bottom
            chars[r][x] = "█" if upper and lower else ("▀" if upper else "▄")
            cell_styles[r][x] = bar_style
    _draw_line(chars, cell_styles, line_dots(signal, lo, hi, rows), _SIGNAL_COLOR)
    _draw_line(chars, cell_styles, line_dots(macd, lo, hi, rows), colors.accent)
    labels = {0: fmt_price(hi, tick), rows - 1: fmt_price(lo, tick), zero // 2: "0"}
    return [Strip(head), *_assemble(chars, cell_styles, _axis(rows, axis_w, labels, colors))]


class IndicatorPane(LineCacheWidget):
    """RSI or MACD of the chart's candles, one column per chart column."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode = MODES[0]
        self.market_colors = TradingColors()
        self.chart: CandleChart | None = None
        self._candles: tuple[Candle, ...] = ()
        self._data = CandleArrays()
        self._values: tuple[object, str, dict[str, np.ndarray]] | None = None
        self._shown_key: tuple[object, ...] | None = None
        self.tick: Decimal | None = None  # the chart market's price tick, once known

    def on_mount(self) -> None:
        charts = self.screen.query(CandleChart)
        if charts:
            self.bind_chart(charts.first())

    def bind_chart(self, chart: CandleChart) -> None:
        """Align with ``chart`` from now on (redrawn whenever its view changes)."""
        self.chart = chart
        self.watch(chart, "view", self._view_changed, init=False)

    def update_data(self, snap: EngineSnapshot, colors: TradingColors) -> None:
        """Take the engine snapshot; repaint only if this panel's slice changed."""
        self._candles = snap.market.candles
        self.market_colors = colors
        precision = snap.precision(snap.market.symbol)
        self.tick = precision.tick if precision is not None else None
        self._refresh()

    def cycle_mode(self) -> str:
        """Switch RSI -> MACD -> RSI; returns the new mode's name."""
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self._refresh()
        return self.mode

    def _view_changed(self, _view: ChartView | None) -> None:
        self._refresh()

    def _view(self) -> ChartView | None:
        return self.chart.view if self.chart is not None else None

    def _refresh(self) -> None:
        view = self._view()  # with a chart, its view says which candles: ours may lag a frame
        key = (view or self._candles, self.mode, self.market_colors, self.tick)
        if key != self._shown_key:
            self._shown_key = key
            self.lines_changed()

    def values_for(self, candles: tuple[Candle, ...]) -> dict[str, np.ndarray]:
        """The current mode's series for ``candles`` (cached for the same candles)."""
        if self._values is None or self._values[:2] != (candles, self.mode):
            self._values = (candles, self.mode, compute(self.mode, candles, self._data))
        return self._values[2]

    def column_layout(self, width: int) -> tuple[tuple[Candle, ...], list[int | None], int]:
        """(candles, candle index per plot column, axis width): the chart's when there is one."""
        view = self._view()
        if view is not None:
            columns = [None] * view.pad + [last for _, last in view.groups]
            return view.candles, columns, view.axis_width
        candles = self._candles
        plot = max(0, width - _FALLBACK_AXIS)
        shown = list(range(max(0, len(candles) - plot), len(candles)))
        return candles, [None] * (plot - len(shown)) + shown, _FALLBACK_AXIS

    def build_lines(self, width: int, height: int) -> Sequence[Strip]:
        candles, columns, axis_w = self.column_layout(width)
        if not candles or height <= 0:
            title = "RSI" if self.mode == "rsi" else "MACD"
            return [Strip([Segment(f" {title}", style(self.market_colors.muted))])]
        values = self.values_for(candles)
        if self.mode == "rsi":
            return rsi_lines(column_values(values["rsi"], columns), axis_w, height, self.market_colors)
        return macd_lines(
            column_values(values["macd"], columns), column_values(values["signal"], columns),
            column_values(values["hist"], columns), axis_w, height, self.market_colors,
            self.tick,
        )
