"""The trades tape: newest trade on top, aggressor colour, large prints highlighted.

"Large" is relative to the recent flow: a trade whose notional (price x size, in quote) is at
least :data:`LARGE_TRADE_MULTIPLE` times the median notional of the kept trades is drawn bold on
a tinted background. Relative, so it means the same on BTC and on a small coin without a
per-symbol setting; a multiple of the median rather than a percentile, because a percentile
always marks its share of trades even when none stands out, while a quiet, even flow marks none
here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from statistics import median

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from tradeterm.core.models import MarketPrecision, Trade
from tradeterm.ui.fmt import fmt_decimals, fmt_size, price_decimals
from tradeterm.ui.themes import TradingColors, blend
from tradeterm.ui.widgets.lines import LineCacheWidget, ReadyStrip

LARGE_TRADE_MULTIPLE = 4.0  # a trade this many times the median notional is highlighted
_MIN_TRADES_FOR_LARGE = 5  # too few trades: no meaningful median


def notional(trade: Trade) -> float:
    """Quote value of a trade (display only: market data, never money)."""
    return trade.price * trade.amount


def large_trade_threshold(trades: Sequence[Trade]) -> float | None:
    """The notional from which a trade counts as large, or None while there are too few."""
    if len(trades) < _MIN_TRADES_FOR_LARGE:
        return None
    return LARGE_TRADE_MULTIPLE * median(notional(t) for t in trades)


def render_tape(
    trades: Sequence[Trade],
    width: int,
    height: int,
    colors: TradingColors,
    precision: MarketPrecision | None = None,
) -> list[Text]:
    """Header plus the newest ``height - 1`` trades (``trades`` is oldest first), one per line;
    prices on the market's tick and sizes on its step when ``precision`` is known."""
    styles = _styles(colors)
    layout = _layout(trades, width, height, precision)
    lines = [Text(layout.header, styles.muted, no_wrap=True, overflow="crop")]
    for trade in layout.shown:
        buy = trade.side == "buy"
        when, figures = _cells(trade, layout)
        row = Text(when, styles.muted, no_wrap=True, overflow="crop")
        # Price and size share one style so they go out as one run (one escape sequence).
        row.append(figures, styles.bid if buy else styles.ask)
        row.truncate(width, pad=True)
        if layout.threshold is not None and notional(trade) >= layout.threshold:
            row.stylize(styles.bid_large if buy else styles.ask_large)
        lines.append(row)
    return lines[:height]


def tape_strips(
    trades: Sequence[Trade],
    width: int,
    height: int,
    colors: TradingColors,
    precision: MarketPrecision | None = None,
    base: Style | None = None,
) -> list[Strip]:
    """What :func:`render_tape` draws over the style ``base`` (the widget's), the trade rows
    made straight as :class:`ReadyStrip`\\ s: the same cells in the same styles
    (tests/ui/test_ui_book_tape_strips.py checks), without a Text, its spans, ``Text.render``
    and a conversion per row and frame."""
    styles = _styles(colors)
    rows = _row_styles(colors, base)
    layout = _layout(trades, width, height, precision)
    lines = [Strip([Segment(layout.header.ljust(width)[:width], styles.muted)], width)]
    for trade in layout.shown:
        large = layout.threshold is not None and notional(trade) >= layout.threshold
        row = rows[trade.side == "buy", large]
        when, figures = _cells(trade, layout)
        when, figures = when[:width], figures[: max(0, width - len(when))]
        pad = " " * (width - len(when) - len(figures))
        segments = [Segment(when, row.muted), Segment(figures, row.side), Segment(pad, row.muted)]
        lines.append(ReadyStrip(Segment.simplify(s for s in segments if s.text), width))
    return lines[:height]


@dataclass(frozen=True, slots=True)
class _Layout:
    shown: list[Trade]  # newest first
    decimals: int
    lot: Decimal | None
    price_w: int
    size_w: int
    header: str
    threshold: float | None


def _layout(
    trades: Sequence[Trade], width: int, height: int, precision: MarketPrecision | None
) -> _Layout:
    rows = max(0, height - 1)
    shown = list(reversed(trades[-rows:])) if rows else []
    tick = precision.tick if precision is not None else None
    lot = precision.step if precision is not None else None
    decimals = price_decimals(shown[0].price, tick) if shown else 2
    price_w = max([len(fmt_decimals(t.price, decimals)) for t in shown] + [5])
    spare = max(0, width - 8 - price_w - 2 - 8)  # room beyond an 8-cell size column
    price_w += spare // 2
    size_w = 8 + spare - spare // 2
    header = f"{'Time':<8} {'Price':>{price_w}} {'Size':>{size_w}}"[:width]
    return _Layout(shown, decimals, lot, price_w, size_w, header,
                   large_trade_threshold(trades))


def _cells(trade: Trade, layout: _Layout) -> tuple[str, str]:
    """A trade's row as its time ("HH:MM:SS ") and its price and size (uncropped)."""
    when = datetime.fromtimestamp(trade.timestamp / 1000, UTC).strftime("%H:%M:%S")
    figures = (
        f"{fmt_decimals(trade.price, layout.decimals):>{layout.price_w}} "
        f"{fmt_size(trade.amount, layout.size_w, layout.lot):>{layout.size_w}}"
    )
    return f"{when} ", figures


@dataclass(frozen=True, slots=True)
class _TapeStyles:
    muted: Style
    bid: Style  # a buy: the aggressor lifted the ask
    ask: Style
    bid_large: Style  # a large print: tinted background, bold, over the whole row
    ask_large: Style


@dataclass(frozen=True, slots=True)
class _RowStyles:
    """A trade row's final styles: what :func:`to_strip` makes of the Text row's (time and
    padding muted, price and size in the side's colour, a large print's highlight over all of
    it, combined as ``Text.render`` combines spans) over the widget's base style."""

    muted: Style
    side: Style


@lru_cache(maxsize=16)
def _row_styles(
    colors: TradingColors, base: Style | None
) -> dict[tuple[bool, bool], _RowStyles]:
    """Row styles by (buy, large), summed once per palette and base style."""
    styles = _styles(colors)
    muted = styles.muted
    under = (base or Style.null()) + muted  # to_strip: the Text's own style joins the base
    rows = {}
    for buy in (True, False):
        side = styles.bid if buy else styles.ask
        highlight = styles.bid_large if buy else styles.ask_large
        rows[buy, False] = _RowStyles(under + muted, under + Style.combine((muted, side)))
        rows[buy, True] = _RowStyles(under + Style.combine((muted, highlight)),
                                     under + Style.combine((muted, side, highlight)))
    return rows


@lru_cache(maxsize=8)
def _styles(colors: TradingColors) -> _TapeStyles:
    """Styles built once per palette rather than for every row of every frame."""
    return _TapeStyles(
        muted=Style(color=colors.muted),
        bid=Style(color=colors.bid),
        ask=Style(color=colors.ask),
        bid_large=Style(bgcolor=blend(colors.bid, colors.background, 0.35), bold=True),
        ask_large=Style(bgcolor=blend(colors.ask, colors.background, 0.35), bold=True),
    )


class TradesTape(LineCacheWidget):
    """Shows the trades passed to :meth:`update_data`; repaints only the cells that changed."""

    DEFAULT_CSS = """
    TradesTape { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.trades: tuple[Trade, ...] = ()
        self.market_colors = TradingColors()
        self.precision: MarketPrecision | None = None

    def update_data(
        self,
        trades: tuple[Trade, ...],
        colors: TradingColors | None = None,
        precision: MarketPrecision | None = None,
    ) -> None:
        colors = colors or self.market_colors
        if trades == self.trades and colors == self.market_colors and precision == self.precision:
            return
        recolored = colors != self.market_colors
        self.trades, self.market_colors, self.precision = trades, colors, precision
        self.lines_changed(full=recolored)

    def build_lines(self, width: int, height: int) -> list[Strip]:
        return tape_strips(self.trades, width, height, self.market_colors, self.precision,
                           self.line_style)
