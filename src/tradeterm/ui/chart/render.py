"""The candle chart renderer: one terminal column per candle, half blocks for double vertical resolution.

Layout, top to bottom: the header (symbol, timeframe, the readout of the last bar or of the one
under the crosshair, overlay legend, zoom, log and history flags: one line, or two when the
legend folds, see :mod:`.header`; ``header_rows`` says how many), the candle area with a price
axis on the right, volume bars (eighth blocks), and a time axis. Prices become rows through
:class:`PriceScale` alone (linear or logarithmic), so candles, overlays, marks, axis labels and
the last-price marker always agree. On the candles: overlay lines
(Braille dots), SMC zones (background bands), signal and fill markers, price lines of positions
and working orders (tagged on the axis), and the crosshair.

Cost model (a frame may be ~10 ms at 120x40 and the link may be a slow ssh session):

* a candle's column of characters depends only on the candle and the :class:`PriceScale`, so
  :class:`ChartRenderer` caches columns by ``(candle, scale)``; when only the live candle ticks,
  only its column is recomputed (``columns_computed`` counts, for tests). The decorated column
  (overlay dots, zone bands, markers, crosshair) is cached the same way, keyed by what it shows;
* the scale is snapped to a coarse grid, so it changes only when the visible range really
  changes, not on every tick of the last price; the header's layout is kept while the view's
  range, width and flags are unchanged (a tick only reformats the readout);
* the widget compares the new lines with the old and repaints only the rows that changed.

The widget (``tradeterm.ui.widgets.chart.CandleChart``) holds the state (overlays on, zoom,
history anchor, crosshair) and hands it to :meth:`ChartRenderer.render`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from decimal import Decimal

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tradeterm.core.models import Candle
from tradeterm.ui.chart.axes import (
    PriceScale,
    axis_labels,
    candle_column,
    make_scale,
    nice_ceiling,
    time_axis,
    volume_column,
)
from tradeterm.ui.chart.glyphs import style
from tradeterm.ui.chart.header import (
    HeaderInput,
    HeaderPlan,
    Piece,
    header_lines,
    header_strip,
    legend_parts,
    plan_for,
)
from tradeterm.ui.chart.marks import Marks, PriceLine
from tradeterm.ui.chart.overlays import Series, Zone
from tradeterm.ui.chart.paint import Band, Dot, Marker, Palette, compose_column
from tradeterm.ui.chart.view import (
    ChartView,
    aggregate,
    window_end,
    window_groups,
)
from tradeterm.ui.fmt import fmt_price
from tradeterm.ui.themes import TradingColors, blend

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class Crosshair:
    """Crosshair position: plot column and row of the candle area."""

    column: int
    row: int


_TAG_WIDTH = len("ENTRY ")
_LINE_REACH = 0.5  # price lines farther than this x the candles' range are clipped to an edge
_LINE_CHAR = "╌"
_CROSS_CHAR = "─"
_TWO_LINE_HEADER_HEIGHT = 12  # a shorter chart keeps one header line (and drops the legend)


def _line_rows(lines: Sequence[PriceLine], scale: PriceScale) -> dict[int, tuple[PriceLine, str]]:
    """Row -> (line, arrow) for the price lines; a line outside the scale sits on the edge
    row with an arrow pointing where it is. Lines sharing a row are moved to a free one."""
    taken: dict[int, tuple[PriceLine, str]] = {}
    for line in lines:
        if line.price > scale.hi:
            row, arrow, step = 0, "▲", 1
        elif line.price < scale.lo:
            row, arrow, step = scale.rows - 1, "▼", -1
        else:
            row, arrow = scale.row(line.price), ""
            step = 1 if row < scale.rows // 2 else -1
        while row in taken and 0 <= row + step < scale.rows:
            row += step
        taken[row] = (line, arrow)
    return taken


def _bands(
    zones: tuple[Zone, ...], scale: PriceScale, known: dict[int, Band | None]
) -> tuple[Band, ...]:
    """Rows of the zones covering a column (clipped to the scale; zones outside it dropped).
    ``known``: each zone's band by ``id`` (a zone spans many columns: its rows are worked out
    once a frame, while the zones are alive)."""
    out = []
    for z in zones:
        band = known.get(id(z), _UNKNOWN)
        if band is _UNKNOWN:
            band = known[id(z)] = (
                (scale.row(min(z.top, scale.hi)), scale.row(max(z.bottom, scale.lo)), z.kind)
                if z.top >= scale.lo and z.bottom <= scale.hi else None
            )
        if band is not None:
            out.append(band)
    return tuple(out)


_UNKNOWN: Band = (-1, -1, "")


def _column_dots(
    values: Sequence[tuple[str, bool, np.ndarray]], scale: PriceScale, columns: range
) -> list[tuple[Dot, ...]]:
    """The overlay dots of the bars ``columns`` (indexes into each series' ``values`` at the
    bars in view: ``(name, dotted, values)``), vectorised: one numpy pass a series."""
    if not values:  # numpy is not needed (an attached screen may not have loaded it yet)
        return [()] * len(columns)
    import numpy as np  # loaded already: the series are numpy arrays

    per_column: list[list[Dot]] = [[] for _ in columns]
    quarters = 4 * scale.rows
    for name, dotted, all_values in values:
        shown = all_values[columns.start : columns.stop]
        inside = (shown >= scale.lo) & (shown <= scale.hi)  # False for NaN
        shown = np.where(inside, shown, scale.hi)
        if scale.log:  # as PriceScale.position, vectorised
            frac = np.log(scale.hi / shown) / np.log(scale.hi / scale.lo)
        else:
            frac = (scale.hi - shown) / (scale.hi - scale.lo)
        rows = np.minimum(quarters - 1, (frac * quarters).astype(np.int64)).tolist()
        for x in np.flatnonzero(inside).tolist():
            per_column[x].append((rows[x], name, dotted))
    return [tuple(d) for d in per_column]


def _same_closed_values(old: list[np.ndarray], new: list[np.ndarray]) -> bool:
    """Whether each series holds the same values at all but the newest bar (NaN equal)."""
    if not new:
        return True  # numpy is not needed (an attached screen may not have loaded it yet)
    import numpy as np  # loaded already: the series are numpy arrays

    return all(np.array_equal(a[:-1], b[:-1], equal_nan=True)
               for a, b in zip(old, new, strict=True))


def run_segments(chars: Sequence[str], styles: Sequence[Style | None]) -> list[Segment]:
    """Cells as few Segments as possible: one per run of the identical style object."""
    segments: list[Segment] = []
    start = 0
    for x in range(1, len(chars) + 1):
        if x == len(chars) or styles[x] is not styles[start]:
            segments.append(Segment("".join(chars[start:x]), styles[start]))
            start = x
    return segments


@dataclass(slots=True)
class _ColumnsMemo:
    """What the last frame's plot columns were made of (see ``ChartRenderer._plot_columns``)."""

    key: tuple[object, ...]
    zones: Sequence[tuple[Zone, ...]]
    bars: list[Candle]
    lasts: list[int]
    values: list[np.ndarray]
    dots: list[tuple[Dot, ...]]
    columns: list[tuple[tuple[str, ...], tuple[Style | None, ...]]]


class ChartRenderer:
    """Turns candles into Strips, caching per-candle columns (see the module docstring).

    After :meth:`render`, ``view`` and ``scale`` describe what was drawn (the widget maps the
    crosshair and the indicator pane aligns its columns with them).
    """

    def __init__(self) -> None:
        self.columns_computed = 0
        self.view: ChartView | None = None
        self.scale: PriceScale | None = None
        self.header_rows = 1  # lines above the candle area (2 when the legend folds)
        self._plan_key: tuple[object, ...] | None = None
        self._plan: tuple[HeaderPlan, tuple[tuple[Piece, ...], tuple[Piece, ...]]]
        self._scale_key: tuple[PriceScale, TradingColors] | None = None
        self._columns: dict[Candle, tuple[str, ...]] = {}
        self._composed: dict[tuple[object, ...], tuple[tuple[str, ...], tuple[Style | None, ...]]]
        self._composed = {}
        self._volume_key: tuple[float, int] | None = None
        self._volumes: dict[float, tuple[str, ...]] = {}
        self._palette: Palette | None = None
        self._bands_zones: Sequence[tuple[Zone, ...]] | None = None
        self._bands_scale: PriceScale | None = None
        self._bands_at: dict[int, tuple[Band, ...]] = {}
        self._band_of: dict[int, Band | None] = {}  # by id() of the zones in _bands_zones
        self._rows: dict[int, tuple[tuple[object, ...], Strip]] = {}  # candle-area row Strips
        self._vol_rows: dict[int, tuple[tuple[object, ...], Strip]] = {}  # volume-area rows
        self._last_columns: _ColumnsMemo | None = None
        self._time_line: tuple[tuple[object, ...], Strip] | None = None

    def _palette_for(self, colors: TradingColors) -> Palette:
        if self._palette is None or self._palette.colors != colors:
            self._palette = Palette.of(colors)
        return self._palette

    def _candle_column(self, candle: Candle, scale: PriceScale) -> tuple[str, ...]:
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
        per_column: int = 1,
        anchor: int | None = None,
        series: Sequence[Series] = (),
        zones: Sequence[tuple[Zone, ...]] = (),
        marks: Marks = Marks(),
        crosshair: Crosshair | None = None,
        tick: Decimal | None = None,
        step: Decimal | None = None,
        log: bool = False,
    ) -> list[Strip]:
        """``height`` Strips of ``width`` cells. ``message`` is shown when there are no candles.
        Prices in the header and on the axis are on ``tick`` (the market's) when known, the
        header's volume on the lot ``step``.

        ``series`` and ``zones`` are per candle of ``candles``; ``anchor`` is the open time of the
        newest candle to show (None: live); ``per_column`` candles are aggregated per column.
        ``log``: a logarithmic price scale (if every price in view is positive).
        """
        if width <= 0 or height <= 0:
            return []
        palette = self._palette_for(colors)
        styles = _Styles(colors)
        candles = tuple(candles)
        if not candles or height < 5:
            self.view, self.scale, self.header_rows = None, None, 1
            empty = HeaderInput(symbol, timeframe, None, per_column=per_column, log=log)
            header = _header(header_lines(empty, width, plan_for(empty, width, two_lines=False))[0],
                             styles, width)
            blank = Strip.blank(width)
            lines = [header] + [blank] * (height - 1)
            if message and height > 2:
                text = message[:width].center(width)
                lines[height // 2] = Strip([Segment(text, styles.label)], width)
            return lines[:height]

        bucket_ms = per_column * timeframe_ms
        end = max(1, window_end(candles, anchor, bucket_ms))
        probe = candles[max(0, end - width * per_column) : end]
        line_prices = [line.price for line in marks.lines]
        axis_w = max(len(fmt_price(p, tick)) for p in
                     (max(c.high for c in probe), min(c.low for c in probe), *line_prices)) + 2
        if marks.lines:
            axis_w += _TAG_WIDTH
        n = max(1, width - axis_w)
        groups = window_groups(candles, end, per_column, bucket_ms, n)
        bars = [candles[i] if i == j else aggregate(candles[i : j + 1]) for i, j in groups]
        pad = n - len(bars)
        self.view = view = ChartView(candles, tuple(groups), tuple(bars), pad, n, axis_w,
                                     per_column, end < len(candles))

        lo = min(b.low for b in bars)
        hi = max(b.high for b in bars)
        cursor = view.bar_at(crosshair.column) if crosshair is not None else None
        names = tuple(s.name for s in series)
        vmax = max(b.volume for b in bars)
        plan_key = (symbol, timeframe, timeframe_ms, tick, step, lo, hi, vmax, per_column, log,
                    view.history, names, bool(zones), palette.colors, width, height)
        if plan_key != self._plan_key:  # the layout changes when the view does, not on a tick
            legends = (tuple(legend_parts(names, bool(zones), palette)),
                       tuple(legend_parts(names, bool(zones), palette, short=True)))
            probe_head = HeaderInput(symbol, timeframe, bars[-1], timeframe_ms, tick, step, lo,
                                     hi, vmax, per_column, log, view.history, None, *legends)
            self._plan = (plan_for(probe_head, width,
                                   two_lines=height >= _TWO_LINE_HEADER_HEIGHT), legends)
            self._plan_key = plan_key
        plan, legends = self._plan
        head = HeaderInput(symbol, timeframe, cursor or bars[-1], timeframe_ms, tick, step, lo,
                           hi, vmax, per_column, log, view.history, None, *legends)
        self.header_rows = plan.lines
        body_rows = height - 1 - plan.lines  # minus header and time axis
        vol_rows = max(1, round(body_rows * 0.2))
        rows = body_rows - vol_rows
        reach = (hi - lo) * _LINE_REACH
        extra = [p for p in line_prices if lo - reach <= p <= hi + reach]
        if marks.signals:  # a row of headroom, so markers beside the bars are not clipped
            extra += [lo - 2 * (hi - lo) / rows, hi + 2 * (hi - lo) / rows]
        lasts = [j for _, j in groups]
        shown = [(s.name, s.dotted, s.values[lasts]) for s in series]
        for _name, _dotted, values in shown:
            finite = values[values == values]  # NaN: warm-up
            if finite.size:
                extra += [float(finite.min()), float(finite.max())]
        self.scale = scale = make_scale(bars, rows, extra, log=log, previous=self.scale)
        if self._scale_key != (scale, colors):
            self._scale_key = (scale, colors)
            self._columns, self._composed = {}, {}

        cross_x = crosshair.column if crosshair is not None else None
        marker_cols = self._marker_columns(view, marks, scale, timeframe_ms)
        if self._bands_zones is not zones or self._bands_scale != scale:  # on a bar close
            self._bands_zones, self._bands_scale = zones, scale  # held: no id() reused
            self._bands_at, self._band_of = {}, {}
        columns = self._plot_columns(bars, lasts, shown, zones, scale, pad, n, marker_cols,
                                     cross_x, palette)

        labels = axis_labels(scale, float(tick) if tick is not None else None)
        live = bars[-1]
        last_row = scale.row(live.close) if not view.history else None
        if last_row is not None:
            labels.pop(last_row, None)
        last_style = styles.last_up if live.close >= live.open else styles.last_down
        line_rows = _line_rows(marks.lines, scale)
        cross_row = crosshair.row if crosshair is not None and 0 <= crosshair.row < rows else None

        if cross_row is not None:
            head = replace(head, cursor_price=scale.price_at_row(cross_row))
        lines = [_header(line, styles, width) for line in header_lines(head, width, plan)]
        char_rows = list(zip(*(col[0] for col in columns), strict=True))
        style_rows = list(zip(*(col[1] for col in columns), strict=True))
        for r in range(rows):
            chars: Sequence[str] = char_rows[r]
            cell_styles: Sequence[Style | None] = style_rows[r]
            axis = None
            if r in line_rows:
                line, arrow = line_rows[r]
                color = self._line_color(line, colors)
                chars, cell_styles = _hline(chars, cell_styles, _LINE_CHAR, style(color))
                text = f"{arrow}{line.tag} {fmt_price(line.price, tick)}"
                axis = Segment(("┤" + text).ljust(axis_w)[:axis_w],
                               style(colors.background, color, True))
            if r == cross_row:
                chars, cell_styles = _hline(chars, cell_styles, _CROSS_CHAR, styles.cross_line)
                if axis is None:
                    text = "┤" + fmt_price(scale.price_at_row(r), tick)
                    axis = Segment(text.ljust(axis_w)[:axis_w], styles.cross_label)
            if axis is None and r == last_row:
                axis = Segment("◀" + fmt_price(live.close, tick).ljust(axis_w - 1), last_style)
            if axis is None:
                label = labels.get(r, "")
                axis = Segment(("┤" if label else "│") + label.ljust(axis_w - 1), styles.axis)
            row_key = (tuple(chars), tuple(cell_styles), axis, width)
            cached = self._rows.get(r)
            if cached is None or cached[0] != row_key:  # most rows are unchanged on a tick
                segments = run_segments(chars, cell_styles)
                segments.append(axis)
                cached = self._rows[r] = (row_key, Strip(segments, width).crop_extend(0, width, None))
            lines.append(cached[1])

        vmax = nice_ceiling(max(b.volume for b in bars))
        cols: list[Candle | None] = [None] * pad + bars
        no_volume = (" ",) * vol_rows
        vchar_rows = list(zip(*(self._volume_column(c.volume, vmax, vol_rows) if c else no_volume
                                for c in cols), strict=True))
        ups = [c is not None and c.close >= c.open for c in cols]
        for r in range(vol_rows):
            vchars = vchar_rows[r]
            label = f"│{vmax:g}" if r == 0 else "│"
            # like the candle rows: a tick moves the newest bar's volume, the other rows stay
            vol_key = (vchars, tuple(ups), label, axis_w, width, styles.vol_up,
                       styles.vol_down, styles.axis)
            cached_vol = self._vol_rows.get(r)
            if cached_vol is None or cached_vol[0] != vol_key:
                segments = _row_segments(vchars, ups, styles.vol_up, styles.vol_down)
                segments.append(Segment(label.ljust(axis_w), styles.axis))
                cached_vol = self._vol_rows[r] = (
                    vol_key, Strip(segments, width).crop_extend(0, width, None))
            lines.append(cached_vol[1])

        time_key = (tuple(b.open_time for b in bars), pad, bucket_ms, width, styles.axis)
        if self._time_line is None or self._time_line[0] != time_key:  # changes on a new bar
            axis_line = time_axis(cols, bucket_ms)
            self._time_line = (time_key, Strip(
                [Segment(axis_line.ljust(width)[:width], styles.axis)], width))
        lines.append(self._time_line[1])
        return lines

    def _plot_columns(
        self,
        bars: list[Candle],
        lasts: list[int],
        shown: list[tuple[str, bool, np.ndarray]],
        zones: Sequence[tuple[Zone, ...]],
        scale: PriceScale,
        pad: int,
        n: int,
        marker_cols: dict[int, tuple[Marker, ...]],
        cross_x: int | None,
        palette: Palette,
    ) -> list[tuple[tuple[str, ...], tuple[Style | None, ...]]]:
        """Characters and styles of every plot column, left to right.

        On a live tick only the newest bar moves: when everything else a column shows is what
        the last frame showed (the scale, the bars before the newest, their overlay values,
        zones, markers, crosshair), the last frame's columns are kept and only the newest one
        is composed. Anything else composes them all (each still cached by what it shows).
        """
        rows = scale.rows
        frame_key = (scale, palette, pad, n, cross_x, marker_cols,
                     tuple((name, dotted) for name, dotted, _ in shown))
        memo = self._last_columns
        if (
            memo is not None
            and memo.zones is zones
            and memo.key == frame_key
            and len(memo.bars) == len(bars)
            and memo.lasts == lasts
            and memo.bars[:-1] == bars[:-1]
            and _same_closed_values(memo.values, [values for _, _, values in shown])
        ):
            first = len(bars) - 1  # only the newest bar changed
            column_dots = memo.dots[:-1] + _column_dots(shown, scale, range(first, len(bars)))
            columns = memo.columns[:-1]
        else:
            first = 0
            column_dots = _column_dots(shown, scale, range(len(bars)))
            blank_col = ((" ",) * rows, (None,) * rows)
            blank_cross = ((" ",) * rows, (style(None, palette.cross),) * rows)
            columns = [blank_cross if x == cross_x else blank_col for x in range(pad)]
        for i in range(first, len(bars)):
            x = pad + i
            bar = bars[i]
            last = lasts[i]
            bands = self._bands_at.get(last)
            if bands is None:
                bands = self._bands_at[last] = _bands(
                    zones[last] if last < len(zones) else (), scale, self._band_of
                )
            dots_ = column_dots[i]
            key = (bar, dots_, bands, marker_cols.get(x, ()), x == cross_x)
            composed = self._composed.get(key)
            if composed is None:
                if len(self._composed) > 4096:
                    self._composed = {}
                composed = self._composed[key] = compose_column(
                    self._candle_column(bar, scale), bar.close >= bar.open,
                    (scale.row(bar.high), scale.row(bar.low)), dots_, bands, key[3],
                    x == cross_x, palette,
                )
            columns.append(composed)
        self._last_columns = _ColumnsMemo(frame_key, zones, bars, lasts,
                                          [values for _, _, values in shown], column_dots,
                                          columns)
        return columns

    @staticmethod
    def _line_color(line: PriceLine, colors: TradingColors) -> str:
        return {"stop": colors.loss, "target": colors.profit, "entry": colors.accent}.get(
            line.role, colors.muted
        )

    @staticmethod
    def _marker_columns(
        view: ChartView, marks: Marks, scale: PriceScale, timeframe_ms: int
    ) -> dict[int, tuple[Marker, ...]]:
        """Plot column -> markers drawn in it (signals and fills out of view are left out)."""
        out: dict[int, list[Marker]] = {}
        for sig in marks.signals:
            x = view.column_of_time(sig.bar_time, timeframe_ms)
            if x is not None:
                out.setdefault(x, []).append(("signal", sig.kind, sig.side))
        for fill in marks.fills:
            x = view.column_of_time(fill.timestamp, timeframe_ms)
            if x is not None and scale.contains(fill.price):
                out.setdefault(x, []).append(("fill", scale.row(fill.price), fill.side))
        return {x: tuple(m) for x, m in out.items()}


def _hline(
    chars: Sequence[str], styles: Sequence[Style | None], char: str, line_style: Style
) -> tuple[list[str], list[Style | None]]:
    """A horizontal line through the empty cells of a row (candles and markers stay on top)."""
    new_chars, new_styles = list(chars), list(styles)
    for x, ch in enumerate(chars):
        if ch == " ":
            new_chars[x] = char
            cell_style = styles[x]
            bg = cell_style.bgcolor if cell_style is not None else None
            new_styles[x] = line_style if bg is None else style(
                line_style.color.name if line_style.color else None, bg.name
            )
    return new_chars, new_styles


def _header(pieces: list[Piece], styles: _Styles, width: int) -> Strip:
    roles = {"title": styles.title, "label": styles.label, "plain": styles.plain,
             "up": styles.up, "down": styles.down, "accent": styles.accent}
    return header_strip(pieces, roles, width)


class _Styles:
    """Rich styles derived from the theme's trading colours, built once per render."""

    def __init__(self, c: TradingColors) -> None:
        self.up = style(c.up)
        self.down = style(c.down)
        self.vol_up = style(blend(c.up, c.background, 0.45))
        self.vol_down = style(blend(c.down, c.background, 0.45))
        self.axis = style(c.muted)
        self.label = style(c.muted)
        self.plain = style(c.foreground)
        self.accent = style(c.accent)
        self.title = style(c.accent, bold=True)
        self.last_up = style(c.background, c.up, True)
        self.last_down = style(c.background, c.down, True)
        self.cross_line = style(c.muted)
        self.cross_label = style(c.background, c.muted, True)


def _row_segments(chars: Sequence[str], ups: list[bool], up: Style, down: Style) -> list[Segment]:
    """One row of cells as few Segments as possible (runs of one style)."""
    segments: list[Segment] = []
    run: list[str] = []
    run_style: Style | None = None
    for char, is_up in zip(chars, ups, strict=True):
        style_ = None if char == " " else (up if is_up else down)
        if style_ is not run_style and run:
            segments.append(Segment("".join(run), run_style))
            run = []
        run_style = style_
        run.append(char)
    if run:
        segments.append(Segment("".join(run), run_style))
    return segments
