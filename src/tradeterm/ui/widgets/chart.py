"""The candle chart: one terminal column per candle, half blocks for double vertical resolution.

Layout, top to bottom: a header line (symbol, timeframe, OHLCV of the last candle), the candle
area with a price axis on the right, volume bars (eighth blocks), and a time axis.

Cost model (a frame may be ~10 ms at 120x40 and the link may be a slow ssh session):

* a candle's column of characters depends only on the candle and the :class:`PriceScale`, so
  :class:`ChartRenderer` caches columns by ``(candle, scale)``; when only the live candle ticks,
  only its column is recomputed (``columns_computed`` counts, for tests);
* the scale is snapped to a coarse grid, so it changes only when the visible range really
  changes, not on every tick of the last price;
* the widget compares the new lines with the old and repaints only the rows that changed.

Everything except :class:`CandleChart` is a pure function of data, easy to test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from tradeterm.core.models import Candle, Signal
from tradeterm.core.trading import Fill, Order, Position
from tradeterm.ui.fmt import fmt_price, fmt_size, nice_step, step_decimals
from tradeterm.ui.themes import TradingColors, blend

# Cell kinds of one sub-row (half a cell): empty, wick, body.
_EMPTY, _WICK, _BODY = 0, 1, 2
# (top half, bottom half) -> character.
HALF_CHARS: dict[tuple[int, int], str] = {
    (_EMPTY, _EMPTY): " ",
    (_BODY, _BODY): "█",
    (_BODY, _EMPTY): "▀",
    (_EMPTY, _BODY): "▄",
    (_WICK, _WICK): "│",
    (_WICK, _EMPTY): "╹",
    (_EMPTY, _WICK): "╻",
    (_BODY, _WICK): "▀",
    (_WICK, _BODY): "▄",
}
VOLUME_CHARS = " ▁▂▃▄▅▆▇█"

# Intervals the time axis may label, in ms (candle boundaries are crossed at these).
_TIME_STEPS_MS = tuple(
    m * 60_000
    for m in (1, 5, 15, 30, 60, 120, 240, 360, 720, 1440, 2880, 10_080, 20_160, 40_320)
)
_MIN_LABEL_GAP = 10  # columns between time labels at least


@dataclass(frozen=True, slots=True)
class PriceScale:
    """Maps prices to sub-rows of the candle area (``2 * rows`` of them, 0 at the top)."""

    lo: float
    hi: float
    rows: int

    def sub_row(self, price: float) -> int:
        subs = 2 * self.rows
        frac = (self.hi - price) / (self.hi - self.lo)
        return min(subs - 1, max(0, int(frac * subs)))

    def row(self, price: float) -> int:
        return self.sub_row(price) // 2


def make_scale(candles: Sequence[Candle], rows: int) -> PriceScale:
    """A scale covering the candles' lows and highs, snapped outward to a grid of about a
    twentieth of the range, so small moves of the last price leave it unchanged."""
    lo = min(c.low for c in candles)
    hi = max(c.high for c in candles)
    span = hi - lo
    if span <= 0:
        span = abs(hi) * 0.002 or 1.0
    grid = nice_step(span, 20)
    lo_s = math.floor(lo / grid) * grid
    hi_s = math.ceil(hi / grid) * grid
    if hi_s - lo_s < span:  # rounding in floor/ceil of an exact multiple
        hi_s += grid
    if hi_s == lo_s:
        lo_s, hi_s = lo_s - grid, hi_s + grid
    return PriceScale(lo_s, hi_s, rows)


def candle_column(candle: Candle, scale: PriceScale) -> tuple[str, ...]:
    """The characters of one candle, top to bottom, ``scale.rows`` long."""
    subs = [_EMPTY] * (2 * scale.rows)
    for i in range(scale.sub_row(candle.high), scale.sub_row(candle.low) + 1):
        subs[i] = _WICK
    top = scale.sub_row(max(candle.open, candle.close))
    bottom = scale.sub_row(min(candle.open, candle.close))
    for i in range(top, bottom + 1):
        subs[i] = _BODY
    return tuple(HALF_CHARS[(subs[2 * r], subs[2 * r + 1])] for r in range(scale.rows))


def nice_ceiling(value: float) -> float:
    """The smallest 1/2/5 x 10^k not below ``value`` (volume scale: changes rarely)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for mult in (1, 2, 5, 10):
        if value <= mult * magnitude * (1 + 1e-12):
            return mult * magnitude
    return 10 * magnitude


def volume_column(volume: float, vmax: float, rows: int) -> tuple[str, ...]:
    """Eighth-block bar of ``volume`` against ``vmax``, top to bottom, ``rows`` long."""
    eighths = round(volume / vmax * rows * 8) if vmax > 0 else 0
    if volume > 0:
        eighths = max(1, eighths)
    cells = []
    for r in range(rows - 1, -1, -1):  # r counts from the bottom
        fill = min(8, max(0, eighths - 8 * r))
        cells.append(VOLUME_CHARS[fill])
    return tuple(cells)


def axis_labels(scale: PriceScale) -> dict[int, str]:
    """Row -> label for round prices inside the scale (about one label every 3 rows)."""
    step = nice_step(scale.hi - scale.lo, max(1, scale.rows // 3))
    decimals = step_decimals(step)
    labels: dict[int, str] = {}
    price = math.ceil(scale.lo / step) * step
    while price <= scale.hi + step * 1e-9:
        row = scale.row(price)
        labels.setdefault(row, f"{price:.{decimals}f}")
        price += step
    return labels


def time_step_ms(timeframe_ms: int) -> int:
    """The smallest label interval leaving at least ``_MIN_LABEL_GAP`` candles between labels."""
    for step in _TIME_STEPS_MS:
        if step >= timeframe_ms * _MIN_LABEL_GAP:
            return step
    return _TIME_STEPS_MS[-1]


def time_axis(columns: Sequence[Candle | None], timeframe_ms: int) -> str:
    """One line of time labels: a label where a candle crosses a round interval boundary."""
    step = time_step_ms(timeframe_ms)
    daily = step >= 86_400_000
    line = [" "] * len(columns)
    free_from = 0
    previous: int | None = None
    for x, candle in enumerate(columns):
        if candle is None:
            continue
        bucket = candle.open_time // step
        if previous is not None and bucket != previous and x >= free_from:
            when = datetime.fromtimestamp(candle.open_time / 1000, UTC)
            text = when.strftime("%m-%d" if daily else "%H:%M")
            if x + len(text) <= len(line):
                line[x : x + len(text)] = text
                free_from = x + len(text) + 2
        previous = bucket
    return "".join(line)


def header_text(symbol: str, timeframe: str, candle: Candle | None) -> list[tuple[str, str]]:
    """(text, role) pieces of the header line; roles: title, label, up, down, plain."""
    parts: list[tuple[str, str]] = [(f" {symbol} {timeframe} ", "title")]
    if candle is None:
        return parts
    role = "up" if candle.close >= candle.open else "down"
    change = (candle.close / candle.open - 1) * 100 if candle.open else 0.0
    for label, value in (("O", candle.open), ("H", candle.high), ("L", candle.low)):
        parts += [(f" {label} ", "label"), (fmt_price(value), "plain")]
    parts += [(" C ", "label"), (fmt_price(candle.close), role), (f" {change:+.2f}%", role)]
    parts += [(" V ", "label"), (fmt_size(candle.volume, 10), "plain")]
    return parts


class ChartRenderer:
    """Turns candles into Strips, caching per-candle columns (see the module docstring)."""

    def __init__(self) -> None:
        self.columns_computed = 0
        self._scale: PriceScale | None = None
        self._columns: dict[Candle, tuple[str, ...]] = {}
        self._volume_key: tuple[float, int] | None = None
        self._volumes: dict[float, tuple[str, ...]] = {}

    def _candle_column(self, candle: Candle, scale: PriceScale) -> tuple[str, ...]:
        if scale != self._scale:
            self._scale = scale
            self._columns = {}
        column = self._columns.get(candle)
        if column is None:
            column = candle_column(candle, scale)
            self.columns_computed += 1
            if len(self._columns) > 4096:  # a long session: drop scrolled-off candles
                self._columns = {}
            self._columns[candle] = column
        return column

    def _volume_column(self, volume: float, vmax: float, rows: int) -> tuple[str, ...]:
        if (vmax, rows) != self._volume_key:
            self._volume_key = (vmax, rows)
            self._volumes = {}
        column = self._volumes.get(volume)
        if column is None:
            if len(self._volumes) > 4096:
                self._volumes = {}
            column = self._volumes[volume] = volume_column(volume, vmax, rows)
        return column

    def render(
        self,
        candles: Sequence[Candle],
        *,
        width: int,
        height: int,
        colors: TradingColors,
        symbol: str = "",
        timeframe: str = "",
        timeframe_ms: int = 60_000,
        message: str = "",
    ) -> list[Strip]:
        """``height`` Strips of ``width`` cells. ``message`` is shown when there are no candles."""
        if width <= 0 or height <= 0:
            return []
        styles = _Styles(colors)
        header = _header_strip(header_text(symbol, timeframe, candles[-1] if candles else None),
                               styles, width)
        if not candles or height < 5:
            blank = Strip.blank(width)
            lines = [header] + [blank] * (height - 1)
            if message and height > 2:
                text = message[:width].center(width)
                lines[height // 2] = Strip([Segment(text, styles.label)], width)
            return lines[:height]

        body_rows = height - 2  # minus header and time axis
        vol_rows = max(1, round(body_rows * 0.2))
        rows = body_rows - vol_rows
        probe = make_scale(candles[-max(1, width) :], rows)
        axis_w = max(len(fmt_price(probe.hi)), len(fmt_price(probe.lo))) + 2
        n = max(1, width - axis_w)
        visible = list(candles[-n:])
        scale = make_scale(visible, rows)
        columns: list[Candle | None] = [None] * (n - len(visible)) + visible
        cells = [self._candle_column(c, scale) if c else None for c in columns]
        ups = [c is not None and c.close >= c.open for c in columns]

        labels = axis_labels(scale)
        last = visible[-1]
        last_row = scale.row(last.close)
        labels.pop(last_row, None)
        last_style = styles.last_up if last.close >= last.open else styles.last_down

        lines = [header]
        for r in range(rows):
            segments = _row_segments(
                [col[r] if col else " " for col in cells], ups, styles.up, styles.down
            )
            if r == last_row:
                segments.append(Segment("◀" + fmt_price(last.close).ljust(axis_w - 1), last_style))
            else:
                label = labels.get(r, "")
                tick = "┤" if label else "│"
                segments.append(Segment(tick + label.ljust(axis_w - 1), styles.axis))
            lines.append(Strip(segments, width).crop_extend(0, width, None))

        vmax = nice_ceiling(max(c.volume for c in visible))
        vcells = [self._volume_column(c.volume, vmax, vol_rows) if c else None for c in columns]
        for r in range(vol_rows):
            segments = _row_segments(
                [col[r] if col else " " for col in vcells], ups, styles.vol_up, styles.vol_down
            )
            label = f"│{vmax:g}" if r == 0 else "│"
            segments.append(Segment(label.ljust(axis_w), styles.axis))
            lines.append(Strip(segments, width).crop_extend(0, width, None))

        axis = time_axis(columns, timeframe_ms)
        lines.append(Strip([Segment(axis.ljust(width)[:width], styles.axis)], width))
        return lines


class _Styles:
    """Rich styles derived from the theme's trading colours, built once per render."""

    def __init__(self, c: TradingColors) -> None:
        self.up = Style(color=c.up)
        self.down = Style(color=c.down)
        self.vol_up = Style(color=blend(c.up, c.background, 0.45))
        self.vol_down = Style(color=blend(c.down, c.background, 0.45))
        self.axis = Style(color=c.muted)
        self.label = Style(color=c.muted)
        self.plain = Style(color=c.foreground)
        self.title = Style(color=c.accent, bold=True)
        self.last_up = Style(color=c.background, bgcolor=c.up, bold=True)
        self.last_down = Style(color=c.background, bgcolor=c.down, bold=True)


def _row_segments(chars: list[str], ups: list[bool], up: Style, down: Style) -> list[Segment]:
    """One row of cells as few Segments as possible (runs of one style)."""
    segments: list[Segment] = []
    run: list[str] = []
    run_style: Style | None = None
    for char, is_up in zip(chars, ups, strict=True):
        style = None if char == " " else (up if is_up else down)
        if style is not run_style and run:
            segments.append(Segment("".join(run), run_style))
            run = []
        run_style = style
        run.append(char)
    if run:
        segments.append(Segment("".join(run), run_style))
    return segments


def _header_strip(parts: list[tuple[str, str]], styles: _Styles, width: int) -> Strip:
    if sum(len(text) for text, _ in parts) > width:  # narrow: drop O, H, L before C and V
        parts = parts[:1] + parts[7:]
    roles = {
        "title": styles.title,
        "label": styles.label,
        "plain": styles.plain,
        "up": styles.up,
        "down": styles.down,
    }
    return Strip([Segment(text, roles[role]) for text, role in parts]).crop_extend(0, width, None)


class CandleChart(Widget):
    """Draws the candles handed to it by :meth:`update_data`; repaints only changed rows."""

    DEFAULT_CSS = """
    CandleChart { width: 1fr; height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.renderer = ChartRenderer()
        self.market_colors = TradingColors()
        self._data: tuple[tuple[Candle, ...], str, str, int, str] = ((), "", "", 60_000, "")
        self._lines: list[Strip] = []
        self._lines_size: tuple[int, int] | None = None

    def update_data(
        self,
        candles: tuple[Candle, ...],
        *,
        symbol: str,
        timeframe: str,
        timeframe_ms: int,
        message: str = "",
        colors: TradingColors | None = None,
    ) -> None:
        """Take new data; recompute and repaint only if something this widget shows changed."""
        data = (candles, symbol, timeframe, timeframe_ms, message)
        colors = colors or self.market_colors
        if data == self._data and colors == self.market_colors:
            return
        self._data = data
        self.market_colors = colors
        self._rebuild(repaint_changed_only=True)

    def _rebuild(self, *, repaint_changed_only: bool) -> None:
        old, old_size = self._lines, self._lines_size
        lines = self._compute()
        width, height = self.size.width, self.size.height
        if repaint_changed_only and old_size == (width, height) and len(old) == len(lines):
            changed = [
                Region(0, y, width, 1) for y, (a, b) in enumerate(zip(old, lines)) if a != b
            ]
            if changed:
                self.refresh(*changed)
        else:
            self.refresh()

    def _compute(self) -> list[Strip]:
        candles, symbol, timeframe, timeframe_ms, message = self._data
        width, height = self.size.width, self.size.height
        self._lines = self.renderer.render(
            candles,
            width=width,
            height=height,
            colors=self.market_colors,
            symbol=symbol,
            timeframe=timeframe,
            timeframe_ms=timeframe_ms,
            message=message,
        )
        self._lines_size = (width, height)
        return self._lines

    def on_resize(self) -> None:
        self._rebuild(repaint_changed_only=False)

    # -- contract stubs (overlays, markers, navigation): replaced by their implementation --

    def update_marks(
        self,
        *,
        signals: tuple[Signal, ...],
        fills: tuple[Fill, ...],
        positions: tuple[Position, ...],
        orders: tuple[Order, ...],
    ) -> None:
        """Signal and fill markers, stop/target lines of open positions, working order prices."""

    def toggle_overlay(self, name: str) -> bool:
        """Turn overlay ``name`` (``ema``, ``bollinger``, ``vwap``, ``smc``) on or off; returns
        whether it is now shown."""
        return False

    def scroll_bars(self, bars: int) -> None:
        """Move the view ``bars`` candles back (negative) or forward in history."""

    def zoom(self, step: int) -> None:
        """More candles per column (``step`` < 0, zoom out) or fewer (> 0, zoom in)."""

    def go_live(self) -> None:
        """Back to the newest candle at the default zoom."""

    def render_line(self, y: int) -> Strip:
        if self._lines_size != (self.size.width, self.size.height):
            self._compute()
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width)
