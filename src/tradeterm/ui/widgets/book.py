"""The order book ladder: asks above, bids below, cumulative depth bars, spread and imbalance.

:func:`build_ladder` (numbers) and :func:`render_ladder` (one Rich text per row) are pure; the
widget keeps the last book and, through :class:`LineCacheWidget`, repaints only the cells that
changed (at most once per UI frame).

Price grouping (``g`` coarser, ``G`` finer): levels are summed into buckets of 1, 10, 100 or
1000 ticks of the market's tick (``EngineSnapshot.markets``); while that is unknown, the tick is
taken from the book itself (the smallest gap between two neighbouring levels) when the user
first groups, and kept until the symbol changes, so the buckets do not jump when the book's gaps
change. Bids are floored and asks ceiled to their bucket: a grouped level never shows a better
price than any order it holds. Prices show the tick's decimals and sizes the lot step's (the
display policy, :mod:`tradeterm.core.display`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache, partial

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from tradeterm.core.models import BookSnapshot, MarketPrecision
from tradeterm.ui.fmt import fmt_decimals, fmt_size, price_decimals, step_decimals
from tradeterm.ui.themes import TradingColors, blend
from tradeterm.ui.widgets.lines import LineCacheWidget, ReadyStrip


@dataclass(frozen=True, slots=True)
class LadderLevel:
    price: float
    size: float
    cumulative: float  # size summed from the best price out to this level


@dataclass(frozen=True, slots=True)
class Ladder:
    """The numbers the ladder shows; asks and bids both start at the best price."""

    asks: tuple[LadderLevel, ...]
    bids: tuple[LadderLevel, ...]
    spread: float | None
    spread_bps: float | None
    mid: float | None
    # (bid size - ask size) / (bid size + ask size) over the shown levels, in [-1, 1].
    imbalance: float | None

    @property
    def max_cumulative(self) -> float:
        ends = [side[-1].cumulative for side in (self.asks, self.bids) if side]
        return max(ends, default=0.0)


def _cumulate(levels: tuple[tuple[float, float], ...]) -> tuple[LadderLevel, ...]:
    total = 0.0
    out = []
    for price, size in levels:
        total += size
        out.append(LadderLevel(price, size, total))
    return tuple(out)


GROUP_TICKS = (1, 10, 100, 1000)
"""Bucket sizes offered by ``g``/``G``, in ticks; 1 tick is the ungrouped book."""


def book_tick(book: BookSnapshot) -> float | None:
    """The smallest gap between neighbouring levels of either side (None: fewer than two)."""
    gaps = [
        abs(a[0] - b[0])
        for side in (book.bids, book.asks)
        for a, b in zip(side, side[1:], strict=False)
        if a[0] != b[0]
    ]
    if not gaps:
        return None
    return _significant(min(gaps))


def _significant(value: float, digits: int = 6) -> float:
    """``value`` to ``digits`` significant digits: drops the noise of float subtraction
    (64250.11 - 64250.10 is 0.010000000000218)."""
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def _bucket(price: float, step: float, up: bool) -> float:
    units = price / step
    # A price already on the grid (up to float noise) stays where it is.
    index = math.ceil(units - 1e-9) if up else math.floor(units + 1e-9)
    return round(index * step, step_decimals(step))


def group_levels(
    levels: tuple[tuple[float, float], ...], step: float, up: bool
) -> tuple[tuple[float, float], ...]:
    """Sum ``levels`` (best first) into buckets of ``step``: floored (bids) or ceiled (asks,
    ``up``). The order is kept, since bucketing is monotonic."""
    out: list[list[float]] = []
    for price, size in levels:
        bucket = _bucket(price, step, up)
        if out and out[-1][0] == bucket:
            out[-1][1] += size
        else:
            out.append([bucket, size])
    return tuple((p, s) for p, s in out)


def group_book(book: BookSnapshot, step: float | None) -> BookSnapshot:
    """``book`` with its levels summed into buckets of ``step`` (unchanged for None)."""
    if step is None:
        return book
    return replace(
        book,
        bids=group_levels(book.bids, step, up=False),
        asks=group_levels(book.asks, step, up=True),
    )


def build_ladder(book: BookSnapshot, depth: int) -> Ladder:
    """The best ``depth`` levels of each side with cumulative sizes, spread and imbalance."""
    asks = _cumulate(book.asks[:depth])
    bids = _cumulate(book.bids[:depth])
    spread = book.spread
    mid = book.mid
    spread_bps = spread / mid * 10_000 if spread is not None and mid else None
    bid_total = bids[-1].cumulative if bids else 0.0
    ask_total = asks[-1].cumulative if asks else 0.0
    total = bid_total + ask_total
    imbalance = (bid_total - ask_total) / total if total > 0 else None
    return Ladder(asks, bids, spread, spread_bps, mid, imbalance)


def ladder_depth(height: int) -> int:
    """Levels per side that fit ``height`` rows (one header row, one spread row)."""
    return max(0, (height - 2) // 2)


def render_ladder(
    ladder: Ladder,
    width: int,
    height: int,
    colors: TradingColors,
    group: str | None = None,
    precision: MarketPrecision | None = None,
) -> list[Text]:
    """The ladder as lines of ``width`` cells, top first: header, asks, spread, bids.
    ``group`` (the bucket size as text) is shown on the spread line when the book is grouped;
    ``precision`` (the market's tick and step) sets the decimals of prices and sizes.

    At most ``height`` lines; one per row so that a widget can repaint just the rows that moved.
    """
    depth = ladder_depth(height)
    decimals, price_w, col_w = _columns(ladder, width, precision)
    styles = _styles(colors)
    header = Text(_row("Price", "Size", "Total", price_w, col_w, width), styles.muted)
    lines = [header]

    level_line = partial(
        _level_line,
        decimals=decimals,
        lot=precision.step if precision is not None else None,
        price_w=price_w,
        col_w=col_w,
        width=width,
        max_cum=ladder.max_cumulative or 1.0,
        foreground=styles.foreground,
    )
    ask_rows = list(reversed(ladder.asks[:depth]))
    lines.extend(Text(" " * width) for _ in range(depth - len(ask_rows)))
    lines.extend(level_line(level, side=styles.ask, bar=styles.ask_bar) for level in ask_rows)
    lines.append(_spread_line(ladder, decimals, width, colors, group))
    lines.extend(
        level_line(level, side=styles.bid, bar=styles.bid_bar) for level in ladder.bids[:depth]
    )
    return lines[:height]


def ladder_strips(
    ladder: Ladder,
    width: int,
    height: int,
    colors: TradingColors,
    group: str | None = None,
    precision: MarketPrecision | None = None,
    base: Style | None = None,
) -> list[Strip | Text]:
    """What :func:`render_ladder` draws over the style ``base`` (the widget's), with the level
    rows made straight as :class:`ReadyStrip`\\ s (the header, blank and spread rows stay as
    they were: they rarely change, so the widget's row cache serves them).

    The book redraws every level of every frame (each level's total moves with the levels
    above it), and a Text per row (two spans, Style sums, ``Text.render``) then its conversion
    to a Strip was most of the book's frame; a level row here is its few segments in styles
    summed once per palette and base. Each row gives the same cells in the same styles as the
    Text :func:`render_ladder` gives (tests/ui/test_ui_book_tape_strips.py checks).
    """
    depth = ladder_depth(height)
    decimals, price_w, col_w = _columns(ladder, width, precision)
    styles = _styles(colors)
    ask_row, bid_row = _level_styles(colors, base)
    lot = precision.step if precision is not None else None
    max_cum = ladder.max_cumulative or 1.0
    lines: list[Strip | Text] = [
        Strip([Segment(_row("Price", "Size", "Total", price_w, col_w, width), styles.muted)],
              width)
    ]
    ask_rows = list(reversed(ladder.asks[:depth]))
    lines.extend([Strip([Segment(" " * width)], width)] * (depth - len(ask_rows)))
    for level in ask_rows:
        lines.append(_level_strip(level, decimals, lot, price_w, col_w, width, max_cum, ask_row))
    lines.append(_spread_line(ladder, decimals, width, colors, group))
    for level in ladder.bids[:depth]:
        lines.append(_level_strip(level, decimals, lot, price_w, col_w, width, max_cum, bid_row))
    return lines[:height]


def _columns(
    ladder: Ladder, width: int, precision: MarketPrecision | None
) -> tuple[int, int, int]:
    """Price decimals, price column width and size column width for ``ladder``."""
    ref = ladder.mid or next((lv.price for lv in ladder.bids + ladder.asks), 1.0)
    decimals = price_decimals(ref, precision.tick if precision is not None else None)
    price_w = max(
        [len(fmt_decimals(lv.price, decimals)) for lv in ladder.asks + ladder.bids] + [5]
    )
    return decimals, price_w, max(4, (width - price_w - 2) // 2)


@dataclass(frozen=True, slots=True)
class _RowStyles:
    """A level row's final styles: what :func:`to_strip` makes of the Text row's (the row's
    foreground, the side's colour over the price, the depth bar's background over its cells,
    combined as ``Text.render`` combines spans) over the widget's base style."""

    plain: Style
    side: Style
    bar: Style
    side_bar: Style


@lru_cache(maxsize=16)
def _level_styles(colors: TradingColors, base: Style | None) -> tuple[_RowStyles, _RowStyles]:
    """The ask rows' and the bid rows' styles, summed once per palette and base style."""
    styles = _styles(colors)
    fg = styles.foreground
    under = (base or Style.null()) + fg  # to_strip: the Text's own style joins the base

    def row(side: Style, bar: Style) -> _RowStyles:
        combine = Style.combine
        return _RowStyles(under + fg, under + combine((fg, side)), under + combine((fg, bar)),
                          under + combine((fg, side, bar)))

    return row(styles.ask, styles.ask_bar), row(styles.bid, styles.bid_bar)


def _level_strip(
    level: LadderLevel,
    decimals: int,
    lot: Decimal | None,
    price_w: int,
    col_w: int,
    width: int,
    max_cum: float,
    styles: _RowStyles,
) -> Strip:
    """:func:`_level_line` as a finished row: cut where the price column and the depth bar
    start."""
    line, bar_cells = _level_cells(level, decimals, lot, price_w, col_w, width, max_cum)
    price_end = min(price_w, width)
    bar_start = width - bar_cells if bar_cells > 0 else width
    cuts = sorted({0, price_end, max(0, bar_start), width})
    segments: list[Segment] = []
    for start, end in zip(cuts, cuts[1:], strict=False):
        if start < price_end:
            style = styles.side_bar if start >= bar_start else styles.side
        else:
            style = styles.bar if start >= bar_start else styles.plain
        text = line[start:end]
        if segments and segments[-1].style == style:  # one style, one segment (a palette
            text = segments.pop().text + text  # may give the side the foreground colour)
        segments.append(Segment(text, style))
    return ReadyStrip(segments, width)


@dataclass(frozen=True, slots=True)
class _LadderStyles:
    muted: Style
    foreground: Style
    ask: Style
    bid: Style
    ask_bar: Style  # background of the cumulative depth bar
    bid_bar: Style


@lru_cache(maxsize=8)
def _styles(colors: TradingColors) -> _LadderStyles:
    """Styles built once per palette: building them for every row of every frame shows up."""
    return _LadderStyles(
        muted=Style(color=colors.muted),
        foreground=Style(color=colors.foreground),
        ask=Style(color=colors.ask),
        bid=Style(color=colors.bid),
        ask_bar=Style(bgcolor=blend(colors.ask, colors.background, 0.22)),
        bid_bar=Style(bgcolor=blend(colors.bid, colors.background, 0.22)),
    )


def _level_cells(
    level: LadderLevel,
    decimals: int,
    lot: Decimal | None,
    price_w: int,
    col_w: int,
    width: int,
    max_cum: float,
) -> tuple[str, int]:
    """A level's row text and how many cells of it (from the right) the depth bar covers: the
    same for the finished strip and the Text the tests read it against."""
    line = _row(
        fmt_decimals(level.price, decimals),
        fmt_size(level.size, col_w, lot),
        fmt_size(level.cumulative, col_w, lot),
        price_w,
        col_w,
        width,
    )
    return line, round(level.cumulative / max_cum * width)


def _row(price: str, size: str, total: str, price_w: int, col_w: int, width: int) -> str:
    line = f"{price:>{price_w}} {size:>{col_w}} {total:>{col_w}}"
    return line[:width].ljust(width)


def _level_line(
    level: LadderLevel,
    decimals: int,
    lot: Decimal | None,
    price_w: int,
    col_w: int,
    width: int,
    max_cum: float,
    foreground: Style,
    side: Style,
    bar: Style,
) -> Text:
    line, bar_cells = _level_cells(level, decimals, lot, price_w, col_w, width, max_cum)
    text = Text(line, foreground, no_wrap=True, overflow="crop")
    text.stylize(side, 0, price_w)
    if bar_cells > 0:
        text.stylize(bar, width - bar_cells, width)
    return text


def _spread_line(
    ladder: Ladder, decimals: int, width: int, colors: TradingColors, group: str | None
) -> Text:
    line = Text(no_wrap=True, overflow="crop")
    if ladder.spread is None:
        line.append("no book yet".center(width), Style(color=colors.muted))
        return line
    line.append(" spread ", Style(color=colors.muted))
    line.append(fmt_decimals(ladder.spread, decimals),
                Style(color=colors.foreground, bold=True))
    if ladder.spread_bps is not None:
        bps = ladder.spread_bps
        line.append(f" {bps:.{2 if bps < 10 else 1}f}bp", Style(color=colors.muted))
    if ladder.imbalance is not None:
        color = colors.bid if ladder.imbalance >= 0 else colors.ask
        line.append("  imb ", Style(color=colors.muted))
        line.append(f"{ladder.imbalance * 100:+.0f}%", Style(color=color, bold=True))
    if group is not None:
        line.append(f"  by {group}", Style(color=colors.accent))
    line.truncate(width, pad=True)
    return line


class OrderBookLadder(LineCacheWidget):
    """Shows the book passed to :meth:`update_data`; repaints only the cells that changed."""

    DEFAULT_CSS = """
    OrderBookLadder { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.book: BookSnapshot | None = None
        self.market_colors = TradingColors()
        self.group_index = 0  # into GROUP_TICKS
        self.tick: float | None = None  # the market's, else learnt from the book when grouping
        self.precision: MarketPrecision | None = None  # the market's tick and step, once known

    def update_data(
        self,
        book: BookSnapshot | None,
        colors: TradingColors | None = None,
        precision: MarketPrecision | None = None,
    ) -> None:
        colors = colors or self.market_colors
        if book == self.book and colors == self.market_colors and precision == self.precision:
            return
        recolored = colors != self.market_colors
        if book is not None and self.book is not None and book.symbol != self.book.symbol:
            self.group_index, self.tick = 0, None  # another market: its own tick
        if precision is not None and precision.tick is not None:
            self.tick = float(precision.tick)
        self.book, self.market_colors, self.precision = book, colors, precision
        self.lines_changed(full=recolored)

    @property
    def group_step(self) -> float | None:
        """The bucket size in price, None while ungrouped."""
        if self.group_index == 0 or self.tick is None:
            return None
        return _significant(self.tick * GROUP_TICKS[self.group_index])

    def build_lines(self, width: int, height: int) -> list[Strip | Text]:
        step = self.group_step
        book = group_book(self.book or BookSnapshot(symbol=""), step)
        ladder = build_ladder(book, ladder_depth(height))
        label = _step_text(step) if step is not None else None
        return ladder_strips(ladder, width, height, self.market_colors, label, self.precision,
                             self.line_style)

    def group(self, step: int) -> str:
        """Coarser (``step`` > 0) or finer price grouping; returns the new group size as text
        ("" when there is no book to learn the tick from)."""
        if self.tick is None:
            self.tick = book_tick(self.book) if self.book is not None else None
            if self.tick is None:
                return ""
        index = max(0, min(len(GROUP_TICKS) - 1, self.group_index + step))
        if index != self.group_index:
            self.group_index = index
            self.lines_changed()
        size = self.group_step
        return _step_text(size) if size is not None else f"tick ({_step_text(self.tick)})"


def _step_text(step: float) -> str:
    return f"{step:.{step_decimals(step)}f}"
