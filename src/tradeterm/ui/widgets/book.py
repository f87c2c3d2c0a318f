"""The order book ladder: asks above, bids below, cumulative depth bars, spread and imbalance.

:func:`build_ladder` (numbers) and :func:`render_ladder` (Rich text) are pure; the widget only
keeps the last book and repaints when it changed (at most once per UI frame).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tradeterm.core.models import BookSnapshot
from tradeterm.ui.fmt import fmt_price, fmt_size, price_decimals
from tradeterm.ui.themes import TradingColors, blend


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


def render_ladder(ladder: Ladder, width: int, height: int, colors: TradingColors) -> Text:
    """The ladder as ``height`` lines of ``width`` cells: header, asks, spread, bids."""
    depth = ladder_depth(height)
    ref = ladder.mid or next((lv.price for lv in ladder.bids + ladder.asks), 1.0)
    decimals = price_decimals(ref)
    price_w = max(
        [len(fmt_price(lv.price, decimals)) for lv in ladder.asks + ladder.bids] + [5]
    )
    col_w = max(4, (width - price_w - 2) // 2)
    muted = Style(color=colors.muted)
    text = Text(no_wrap=True, overflow="crop")
    text.append(_row("Price", "Size", "Total", price_w, col_w, width) + "\n", muted)

    max_cum = ladder.max_cumulative or 1.0
    ask_rows = list(reversed(ladder.asks[:depth]))
    blank_asks = depth - len(ask_rows)
    for _ in range(blank_asks):
        text.append(" " * width + "\n")
    for level in ask_rows:
        _append_level(text, level, decimals, price_w, col_w, width, max_cum, colors.ask, colors)

    text.append_text(_spread_line(ladder, decimals, width, colors))
    text.append("\n")
    for level in ladder.bids[:depth]:
        _append_level(text, level, decimals, price_w, col_w, width, max_cum, colors.bid, colors)
    text.rstrip()
    return text


def _row(price: str, size: str, total: str, price_w: int, col_w: int, width: int) -> str:
    line = f"{price:>{price_w}} {size:>{col_w}} {total:>{col_w}}"
    return line[:width].ljust(width)


def _append_level(
    text: Text,
    level: LadderLevel,
    decimals: int,
    price_w: int,
    col_w: int,
    width: int,
    max_cum: float,
    side_color: str,
    colors: TradingColors,
) -> None:
    line = _row(
        fmt_price(level.price, decimals),
        fmt_size(level.size, col_w),
        fmt_size(level.cumulative, col_w),
        price_w,
        col_w,
        width,
    )
    start = len(text)
    text.append(line, Style(color=colors.foreground))
    text.stylize(Style(color=side_color), start, start + price_w)
    bar = round(level.cumulative / max_cum * width)
    if bar > 0:
        bar_bg = blend(side_color, colors.background, 0.22)
        text.stylize(Style(bgcolor=bar_bg), start + width - bar, start + width)
    text.append("\n")


def _spread_line(ladder: Ladder, decimals: int, width: int, colors: TradingColors) -> Text:
    line = Text(no_wrap=True, overflow="crop")
    if ladder.spread is None:
        line.append("no book yet".center(width), Style(color=colors.muted))
        return line
    line.append(" spread ", Style(color=colors.muted))
    line.append(fmt_price(ladder.spread, decimals), Style(color=colors.foreground, bold=True))
    if ladder.spread_bps is not None:
        bps = ladder.spread_bps
        line.append(f" {bps:.{2 if bps < 10 else 1}f}bp", Style(color=colors.muted))
    if ladder.imbalance is not None:
        color = colors.bid if ladder.imbalance >= 0 else colors.ask
        line.append("  imb ", Style(color=colors.muted))
        line.append(f"{ladder.imbalance * 100:+.0f}%", Style(color=color, bold=True))
    line.truncate(width, pad=True)
    return line


class OrderBookLadder(Widget):
    """Shows the book passed to :meth:`update_data`; repaints only when it changed."""

    DEFAULT_CSS = """
    OrderBookLadder { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.book: BookSnapshot | None = None
        self.market_colors = TradingColors()

    def update_data(self, book: BookSnapshot | None, colors: TradingColors | None = None) -> None:
        colors = colors or self.market_colors
        if book == self.book and colors == self.market_colors:
            return
        self.book, self.market_colors = book, colors
        self.refresh()

    def render(self) -> Text:
        book = self.book or BookSnapshot(symbol="")
        ladder = build_ladder(book, ladder_depth(self.size.height))
        return render_ladder(ladder, self.size.width, self.size.height, self.market_colors)
