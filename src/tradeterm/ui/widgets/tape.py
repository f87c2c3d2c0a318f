"""The trades tape: newest trade on top, aggressor colour, large prints highlighted.

"Large" is relative to the recent flow (a multiple of the median size of the kept trades), so
the highlight means the same on BTC and on a small coin without a per-symbol setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from statistics import median

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from tradeterm.core.models import Trade
from tradeterm.ui.fmt import fmt_price, fmt_size, price_decimals
from tradeterm.ui.themes import TradingColors, blend

LARGE_TRADE_MULTIPLE = 4.0  # a trade this many times the median size is highlighted
_MIN_TRADES_FOR_LARGE = 5  # too few trades: no meaningful median


def large_trade_threshold(trades: Sequence[Trade]) -> float | None:
    """The size from which a trade counts as large, or None while there are too few trades."""
    if len(trades) < _MIN_TRADES_FOR_LARGE:
        return None
    return LARGE_TRADE_MULTIPLE * median(t.amount for t in trades)


def render_tape(
    trades: Sequence[Trade], width: int, height: int, colors: TradingColors
) -> Text:
    """Header plus the newest ``height - 1`` trades (``trades`` is oldest first)."""
    muted = Style(color=colors.muted)
    text = Text(no_wrap=True, overflow="crop")
    rows = max(0, height - 1)
    shown = list(reversed(trades[-rows:])) if rows else []
    decimals = price_decimals(shown[0].price) if shown else 2
    price_w = max([len(fmt_price(t.price, decimals)) for t in shown] + [5])
    spare = max(0, width - 8 - price_w - 2 - 8)  # room beyond an 8-cell size column
    price_w += spare // 2
    size_w = 8 + spare - spare // 2
    text.append(f"{'Time':<8} {'Price':>{price_w}} {'Size':>{size_w}}"[:width], muted)
    threshold = large_trade_threshold(trades)
    for trade in shown:
        color = colors.bid if trade.side == "buy" else colors.ask
        large = threshold is not None and trade.amount >= threshold
        when = datetime.fromtimestamp(trade.timestamp / 1000, UTC).strftime("%H:%M:%S")
        row = Text(no_wrap=True, overflow="crop")
        row.append(f"{when} ", muted)
        row.append(f"{fmt_price(trade.price, decimals):>{price_w}} ", Style(color=color))
        row.append(
            f"{fmt_size(trade.amount, size_w):>{size_w}}",
            Style(color=color, bold=large),
        )
        row.truncate(width, pad=True)
        if large:
            row.stylize(Style(bgcolor=blend(color, colors.background, 0.35), bold=True))
        text.append("\n")
        text.append_text(row)
    return text


class TradesTape(Widget):
    """Shows the trades passed to :meth:`update_data`; repaints only when they changed."""

    DEFAULT_CSS = """
    TradesTape { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.trades: tuple[Trade, ...] = ()
        self.market_colors = TradingColors()

    def update_data(self, trades: tuple[Trade, ...], colors: TradingColors | None = None) -> None:
        colors = colors or self.market_colors
        if trades == self.trades and colors == self.market_colors:
            return
        self.trades, self.market_colors = trades, colors
        self.refresh()

    def render(self) -> Text:
        return render_tape(self.trades, self.size.width, self.size.height, self.market_colors)
