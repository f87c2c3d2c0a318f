"""An indicator pane under the chart: RSI(14) with 30/70 guides, MACD(12, 26, 9), ATR(14),
volume, relative volume (volume over its mean of the previous 20 bars, ``rvol_20``), or a column
a strategy declares in ``plots`` (values the engine sends, by candle open time).

Column-for-column aligned with the chart: the pane draws one column per chart column, for the
same candles (the chart's :class:`~tradeterm.ui.chart.view.ChartView`: same zoom, same history
window, same price-axis width), so a value sits under its candle. The pane finds the chart on
its screen at mount and watches its ``view``: a scroll, zoom or resize of the chart redraws the
pane at once. Without a chart (tests, other screens) it draws the snapshot's newest candles,
one per column.

Values come from the project's TA-Lib wrappers (``tradeterm.indicators.ta``, ``.volume``),
imported on first use. The candles are converted to numpy once per closed bar
(:class:`CandleArrays`); a tick of the live candle recomputes the series on those arrays
(microseconds for a thousand bars).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, cast

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tradeterm.core.models import Candle, EngineSnapshot
from tradeterm.ui.chart.glyphs import braille, quarter_row, style
from tradeterm.ui.chart.overlays import (
    INDICATORS_LOAD_DELAY_S,
    CandleArrays,
    indicators_loaded,
    load_indicators,
)
from tradeterm.ui.chart.render import run_segments
from tradeterm.ui.chart.view import ChartView
from tradeterm.ui.fmt import fmt_price, fmt_size
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.chart import CandleChart
from tradeterm.ui.widgets.lines import LineCacheWidget

if TYPE_CHECKING:
    import numpy as np

MODES = ("rsi", "macd", "atr", "volume", "rvol")
"""The built-in choices, in the order a key cycles them (strategy columns come after)."""
RSI_PERIOD = 14
RSI_GUIDES = (70.0, 30.0)
MACD_PARAMS = (12, 26, 9)
ATR_PERIOD = 14
RVOL_PERIOD = 20
TITLES = {"rsi": f"RSI {RSI_PERIOD}", "macd": "MACD {} {} {}".format(*MACD_PARAMS),
          "atr": f"ATR {ATR_PERIOD}", "volume": "Volume", "rvol": f"RVol {RVOL_PERIOD}"}
NO_PLOT_VALUES = "no values here yet (its own timeframe, after its next run)"
PLOT_SEPARATOR = ":"
"""A strategy column's choice is ``strategy:column`` (built-in names have no colon)."""


def plot_choice(strategy: str, column: str) -> str:
    """The choice naming ``column`` of ``strategy``'s frame."""
    return f"{strategy}{PLOT_SEPARATOR}{column}"


def is_plot(mode: str) -> bool:
    """True for a strategy column's choice (``strategy:column``)."""
    return PLOT_SEPARATOR in mode


def title(mode: str) -> str:
    """What a pane (and the palette) calls ``mode``: ``RSI 14``, ``ema_cross fast_ema``."""
    return TITLES.get(mode) or mode.replace(PLOT_SEPARATOR, " ", 1)
_FALLBACK_AXIS = 8  # axis width without a chart to align with
_SIGNAL_COLOR = "#42a5f5"


def compute(
    mode: str, candles: Sequence[Candle], data: CandleArrays,
    plot: Mapping[int, float] | None = None,
) -> dict[str, np.ndarray]:
    """``{"rsi"}``, ``{"macd", "signal", "hist"}``, ``{"atr"}``, ``{"volume", "up"}``,
    ``{"rvol"}`` or ``{"value"}`` (a strategy column: ``plot`` by open time): one value per
    candle, NaN in warm-up (and where a strategy column has no value)."""
    import numpy as np

    from tradeterm.indicators.ta import compute_atr, compute_macd, compute_rsi
    from tradeterm.indicators.volume import compute_relative_volume

    data.update(candles)
    if mode == "rsi":
        return {"rsi": compute_rsi(data.arrays, RSI_PERIOD)[f"rsi_{RSI_PERIOD}"]}
    if mode == "atr":
        return {"atr": compute_atr(data.arrays, ATR_PERIOD)[f"atr_{ATR_PERIOD}"]}
    if mode == "volume":
        up = (data.arrays["close"] >= data.arrays["open"]).astype(np.float64)
        return {"volume": data.arrays["volume"], "up": up}
    if mode == "rvol":
        return {"rvol": compute_relative_volume(data.arrays, RVOL_PERIOD)[f"rvol_{RVOL_PERIOD}"]}
    if is_plot(mode):
        known = plot or {}
        nan = float("nan")
        return {"value": np.array([known.get(c.open_time, nan) for c in candles],
                                  dtype=np.float64)}
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


def line_dots(
    values: Sequence[float], lo: float, hi: float, rows: int
) -> list[Mapping[int, int]]:
    """Per column, row -> Braille bits of a connected line through ``values``.

    Each column spans the dot rows from its own value halfway to its neighbours', so steep
    moves stay a continuous line instead of scattered dots. A column's cells depend only on its
    dot row and its neighbours' (:func:`_column_cells`, shared between frames: on a tick only
    the live bar's value moves)."""
    qs = _quarter_rows(values, lo, hi, rows)
    last = len(qs) - 1
    out: list[Mapping[int, int]] = []
    for x, q in enumerate(qs):
        if q is None:
            out.append(_NO_CELLS)
            continue
        out.append(_column_cells(q, qs[x - 1] if x > 0 else None,
                                 qs[x + 1] if x < last else None))
    return out


_NO_CELLS: Mapping[int, int] = MappingProxyType({})


def _quarter_rows(values: Sequence[float], lo: float, hi: float, rows: int) -> list[int | None]:
    """:func:`quarter_row` of every value, in one numpy pass (the same arithmetic)."""
    import numpy as np  # loaded already: the values come from numpy arrays

    if hi <= lo:
        return [None] * len(values)
    array = np.asarray(values, dtype=np.float64)
    inside = (array >= lo) & (array <= hi)  # False for NaN
    scaled = (hi - np.where(inside, array, hi)) / (hi - lo) * 4 * rows
    qs = np.minimum(4 * rows - 1, scaled.astype(np.int64)).tolist()
    return [q if ok else None for q, ok in zip(qs, inside.tolist(), strict=True)]


@lru_cache(maxsize=8192)
def _column_cells(q: int, left: int | None, right: int | None) -> Mapping[int, int]:
    """Row -> Braille bits of one column of a line at dot row ``q`` whose neighbours are at
    ``left`` and ``right`` (None: no value there). Read-only: the result is shared."""
    ends = [q] + [(q + n) // 2 for n in (left, right) if n is not None]
    cells: dict[int, int] = {}
    for d in range(min(ends), max(ends) + 1):
        cells[d // 4] = cells.get(d // 4, 0) | (0x09, 0x12, 0x24, 0xC0)[d % 4]
    return MappingProxyType(cells)


RowMemo = dict[int, tuple[list[str], list["Style | None"], Segment, Strip]]
"""A pane's rows of the last frame: (cells, styles, axis cell, Strip) by row index."""


def _assemble(
    chars: list[list[str]], styles: list[list[Style | None]], axis: list[Segment],
    memo: RowMemo | None = None,
) -> list[Strip]:
    """One Strip a row. With ``memo`` (the pane's last frame), a row whose cells are the last
    frame's is the last frame's Strip: on a tick only the rows the live bar's column touches
    change, and the line cache skips an identical Strip without comparing it. (Compared as
    lists, not hashed: equal cells are the identical objects, which a list compares at C speed,
    while hashing a row hashed every style in Python.)"""
    lines = []
    for r, (row_chars, row_styles, axis_cell) in enumerate(zip(chars, styles, axis, strict=True)):
        last = memo.get(r) if memo is not None else None
        if last is not None and last[2] == axis_cell and last[0] == row_chars and (
                last[1] == row_styles):
            lines.append(last[3])
            continue
        strip = Strip([*run_segments(row_chars, row_styles), axis_cell])
        if memo is not None:
            memo[r] = (row_chars, row_styles, axis_cell, strip)
        lines.append(strip)
    return lines


def _draw_line(
    chars: list[list[str]], styles: list[list[Style | None]], dots: Sequence[Mapping[int, int]],
    color: str, start: int = 0,
) -> None:
    """Draw ``dots`` (one mapping a column, from column ``start``) over the grid."""
    line_style = style(color)
    for x, cells in enumerate(dots, start):
        for r, bits in cells.items():
            row = chars[r]
            old = row[x]
            if "\u2800" <= old <= "\u28ff":  # another line already here: merge the dots
                bits |= ord(old) - 0x2800
            row[x] = braille(bits)
            styles[r][x] = line_style


@dataclass(slots=True)
class LineMemo:
    """A pane's last line drawing (see :func:`_line_over`)."""

    key: tuple[object, ...] | None = None
    values: np.ndarray | None = None
    chars: list[list[str]] = field(default_factory=list)
    styles: list[list[Style | None]] = field(default_factory=list)


def _line_over(
    chars: list[list[str]], styles: list[list[Style | None]], values: Sequence[float],
    lo: float, hi: float, color: str, memo: LineMemo | None = None,
) -> tuple[list[list[str]], list[list[Style | None]]]:
    """The grid (``chars``/``styles``: blank or guide rows, each row one cell repeated) with the
    line through ``values`` drawn over it.

    With ``memo`` (the pane's last drawing): a column's cells depend on its value and its
    neighbours' (:func:`line_dots`), so when only the newest value moved on the same range,
    rows and background, the last drawing is kept and only its two newest columns are drawn
    again (on a tick that is all that moves; a pane 200 columns wide drew all of them)."""
    import numpy as np  # loaded already: the values come from numpy arrays

    rows, n = len(chars), len(values)
    array = np.asarray(values, dtype=np.float64)
    key = (lo, hi, n, color, tuple((row[0] if row else "", srow[0] if srow else None)
                                   for row, srow in zip(chars, styles, strict=True)))
    if (memo is not None and memo.key == key and memo.values is not None and n >= 3
            and np.array_equal(memo.values[:-1], array[:-1], equal_nan=True)):
        kept_chars = [row[:] for row in memo.chars]
        kept_styles = [row[:] for row in memo.styles]
        for r in range(rows):
            kept_chars[r][n - 2:] = chars[r][n - 2:]
            kept_styles[r][n - 2:] = styles[r][n - 2:]
        # the newest two columns, each with both its neighbours (the first of three is not used)
        _draw_line(kept_chars, kept_styles, line_dots(values[n - 3:], lo, hi, rows)[1:], color,
                   start=n - 2)
        chars, styles = kept_chars, kept_styles
    else:
        _draw_line(chars, styles, line_dots(values, lo, hi, rows), color)
    if memo is not None:
        memo.key, memo.values, memo.chars, memo.styles = key, array, chars, styles
    return chars, styles


def _axis(rows: int, axis_w: int, labels: dict[int, str], colors: TradingColors) -> list[Segment]:
    muted = style(colors.muted)
    return [
        Segment((("┤" + labels[r]) if r in labels else "│").ljust(axis_w)[:axis_w], muted)
        for r in range(rows)
    ]


def rsi_lines(
    values: Sequence[float], axis_w: int, height: int, colors: TradingColors,
    memo: RowMemo | None = None, line: LineMemo | None = None,
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
    chars, cell_styles = _line_over(chars, cell_styles, values, 0.0, 100.0, colors.accent, line)
    return [Strip(head), *_assemble(chars, cell_styles, _axis(rows, axis_w, labels, colors),
                                       memo)]


def macd_lines(
    macd: Sequence[float], signal: Sequence[float], hist: Sequence[float], axis_w: int,
    height: int, colors: TradingColors, tick: Decimal | None = None,
    memo: RowMemo | None = None,
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
    return [Strip(head), *_assemble(chars, cell_styles, _axis(rows, axis_w, labels, colors),
                                       memo)]


def _last_known(values: Sequence[float]) -> int | None:
    return next((i for i in range(len(values) - 1, -1, -1) if values[i] == values[i]), None)


def _range(values: Sequence[float], *include: float) -> tuple[float, float]:
    finite = [v for v in (*values, *include) if v == v]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    if hi == lo:
        lo, hi = lo - 1.0, hi + 1.0
    return lo, hi


def value_lines(
    name: str, values: Sequence[float], axis_w: int, height: int, colors: TradingColors,
    fmt: Callable[[float], str], guides: Sequence[float] = (),
    memo: RowMemo | None = None, line: LineMemo | None = None,
) -> list[Strip]:
    """One line on its own range (top and bottom labelled with ``fmt``), dotted ``guides``
    (labelled too), header ``name  value`` with the newest value: ATR, relative volume and a
    strategy's column."""
    rows = height - 1
    head = [Segment(f" {name} ", style(colors.accent, bold=True))]
    last = _last_known(values)
    if last is not None:
        head.append(Segment(f" {fmt(values[last])}", style(colors.foreground)))
    if rows <= 0:
        return [Strip(head)]
    n = len(values)
    lo, hi = _range(values, *guides)
    chars = [[" "] * n for _ in range(rows)]
    cell_styles: list[list[Style | None]] = [[None] * n for _ in range(rows)]
    labels = {0: fmt(hi), rows - 1: fmt(lo)}
    for guide in guides:
        q = quarter_row(guide, lo, hi, rows)
        if q is not None:
            labels[q // 4] = fmt(guide)
            chars[q // 4] = ["┈"] * n
            cell_styles[q // 4] = [style(colors.muted)] * n
    chars, cell_styles = _line_over(chars, cell_styles, values, lo, hi, colors.accent, line)
    return [Strip(head), *_assemble(chars, cell_styles, _axis(rows, axis_w, labels, colors),
                                       memo)]


def volume_lines(
    volume: Sequence[float], up: Sequence[float], axis_w: int, height: int,
    colors: TradingColors, step: Decimal | None = None,
    memo: RowMemo | None = None,
) -> list[Strip]:
    """Header ``Volume  12.34`` (the newest column's), a bar per column from 0 (half blocks),
    coloured by its candle's direction."""
    rows = height - 1
    size = lambda v: fmt_size(v, max(1, axis_w - 1), step)  # noqa: E731
    head = [Segment(f" {TITLES['volume']} ", style(colors.accent, bold=True))]
    last = _last_known(volume)
    if last is not None:
        head.append(Segment(f" {size(volume[last])}",
                            style(colors.up if up[last] else colors.down)))
    if rows <= 0:
        return [Strip(head)]
    n = len(volume)
    hi = max([0.0, *(v for v in volume if v == v)]) or 1.0
    subs = 2 * rows
    chars = [[" "] * n for _ in range(rows)]
    cell_styles: list[list[Style | None]] = [[None] * n for _ in range(rows)]
    for x, v in enumerate(volume):
        if v != v or v <= 0:
            continue
        top = min(subs - 1, max(0, int((hi - v) / hi * subs)))
        bar_style = style(colors.up if up[x] else colors.down)
        for r in range(top // 2, rows):
            chars[r][x] = "▄" if 2 * r < top else "█"
            cell_styles[r][x] = bar_style
    labels = {0: size(hi), rows - 1: "0"}
    return [Strip(head), *_assemble(chars, cell_styles, _axis(rows, axis_w, labels, colors),
                                       memo)]


def fmt_ratio(value: float) -> str:
    """Relative volume: ``1.35x``."""
    return f"{value:.2f}x"


class IndicatorPane(LineCacheWidget):
    """One indicator of the chart's candles (see :data:`MODES`, or a strategy's column), one
    column per chart column."""

    def __init__(self, *, id: str | None = None, mode: str = MODES[0]) -> None:
        super().__init__(id=id)
        self.mode = mode
        self.market_colors = TradingColors()
        self.chart: CandleChart | None = None
        self._candles: tuple[Candle, ...] = ()
        self._data = CandleArrays()
        self._values: tuple[object, ...] | None = None
        self._row_memo: RowMemo = {}  # the last frame's rows (see _assemble)
        self._line_memo = LineMemo()  # the last frame's line (see _line_over)
        self._load_pending = False  # the indicators' import is scheduled (_load_indicators)
        self._shown_key: tuple[object, ...] | None = None
        self.tick: Decimal | None = None  # the chart market's price tick, once known
        self.step: Decimal | None = None  # and its quantity step (volume)
        self.plot: Mapping[int, float] = {}  # a strategy column's values by open time
        self.view_listener: Callable[[], object] | None = None  # told when the chart's view moves

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
        self.step = precision.step if precision is not None else None
        self._refresh()

    def set_mode(self, mode: str) -> None:
        """Show ``mode`` (a :data:`MODES` name or ``strategy:column``)."""
        if mode != self.mode:
            self.mode = mode
            self._refresh()

    def set_plot(self, values: Mapping[int, float]) -> None:
        """The strategy column's values by candle open time (a new mapping when they change)."""
        if values is not self.plot:
            self.plot = values
            self._refresh()

    def cycle_mode(self, choices: Sequence[str] = MODES) -> str:
        """Switch to the next of ``choices`` (the first if the current one is not among them);
        returns the new mode."""
        index = choices.index(self.mode) if self.mode in choices else -1
        self.set_mode(choices[(index + 1) % len(choices)])
        return self.mode

    def _load_indicators(self) -> None:
        """After the first frame with data: import what the pane computes with, then draw."""
        load_indicators()
        self._load_pending = False
        self.lines_changed(full=True)

    def _view_changed(self, _view: ChartView | None) -> None:
        self._refresh()
        if self.view_listener is not None:
            self.view_listener()

    def _view(self) -> ChartView | None:
        return self.chart.view if self.chart is not None else None

    def _refresh(self) -> None:
        if not self.display:  # the second pane while off: drawn when shown (on_resize)
            self._shown_key = None
            return
        view = self._view()  # with a chart, its view says which candles: ours may lag a frame
        key = (view or self._candles, self.mode, self.market_colors, self.tick, self.step,
               id(self.plot) if is_plot(self.mode) else None)
        if key != self._shown_key:
            self._shown_key = key
            self.lines_changed()

    def values_for(self, candles: tuple[Candle, ...]) -> dict[str, np.ndarray]:
        """The current mode's series for ``candles`` (cached for the same candles)."""
        plot = self.plot if is_plot(self.mode) else None
        cached = self._values
        if cached is None or cached[0] is not candles or cached[1] != self.mode or (
                cached[2] is not plot):
            cached = self._values = (candles, self.mode, plot,
                                     compute(self.mode, candles, self._data, plot))
        return cast("dict[str, np.ndarray]", cached[3])

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
        mode, colors = self.mode, self.market_colors
        if not candles or height <= 0:
            return [Strip([Segment(f" {title(mode)}", style(colors.muted))])]
        if not indicators_loaded():  # attached: the first data frame goes first
            if not self._load_pending:
                self._load_pending = True
                self.set_timer(INDICATORS_LOAD_DELAY_S, self._load_indicators)
            return [Strip([Segment(f" {title(mode)} ", style(colors.accent, bold=True))])]
        values = self.values_for(candles)
        col = lambda name: column_values(values[name], columns)  # noqa: E731
        memo = self._row_memo
        if mode == "rsi":
            return rsi_lines(col("rsi"), axis_w, height, colors, memo, self._line_memo)
        if mode == "macd":
            return macd_lines(col("macd"), col("signal"), col("hist"), axis_w, height, colors,
                              self.tick, memo)
        if mode == "atr":
            tick = self.tick
            return value_lines(title(mode), col("atr"), axis_w, height, colors,
                               lambda v: fmt_price(v, tick), memo=memo, line=self._line_memo)
        if mode == "volume":
            return volume_lines(col("volume"), col("up"), axis_w, height, colors, self.step,
                                memo)
        if mode == "rvol":
            return value_lines(title(mode), col("rvol"), axis_w, height, colors, fmt_ratio,
                               guides=(1.0,), memo=memo, line=self._line_memo)
        if is_plot(mode):
            shown = col("value")
            if not any(v == v for v in shown):  # not run on this market (yet)
                return [Strip([Segment(f" {title(mode)} ", style(colors.accent, bold=True)),
                               Segment(f" {NO_PLOT_VALUES}", style(colors.muted))])]
            return value_lines(title(mode), shown, axis_w, height, colors,
                               lambda v: fmt_price(v), memo=memo, line=self._line_memo)
        return [Strip([Segment(f" {mode}: unknown indicator", style(colors.muted))])]
