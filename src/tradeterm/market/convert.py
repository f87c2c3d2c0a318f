"""Pure conversions from ccxt's unified structures to the project's frozen models.

The venue layer only parses (hummingbot's rule): these functions know ccxt's shapes, nothing about
sockets or retries, and are tested on plain dicts and lists. A structure that cannot be used
raises ``ValueError`` with a short reason; the feed turns that into ``FeedMessageSkipped``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tradeterm.core.models import BookSnapshot, Candle, Side, Ticker, Trade

BOOK_DEPTH = 50
"""Levels per side kept for the UI; ccxt keeps the full book (up to 1000 levels) itself."""


def _num(value: Any, what: str) -> float:
    if value is None or isinstance(value, bool):
        raise ValueError(f"missing {what}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"bad {what}: {value!r}") from None


def _opt_num(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def candle_from_ccxt(row: Sequence[Any]) -> Candle:
    """``[timestamp, open, high, low, close, volume]`` -> :class:`Candle`."""
    if not isinstance(row, Sequence) or len(row) < 6:
        raise ValueError(f"bad OHLCV row: {row!r:.80}")
    return Candle(
        open_time=int(_num(row[0], "open time")),
        open=_num(row[1], "open"),
        high=_num(row[2], "high"),
        low=_num(row[3], "low"),
        close=_num(row[4], "close"),
        volume=_num(row[5], "volume") if row[5] is not None else 0.0,
    )


def candles_from_ccxt(rows: Iterable[Sequence[Any]]) -> list[Candle]:
    return [candle_from_ccxt(row) for row in rows]


def trade_from_ccxt(trade: Mapping[str, Any]) -> Trade:
    """A ccxt trade dict -> :class:`Trade`; a trade without an id gets one from its content."""
    timestamp = int(_num(trade.get("timestamp"), "trade time"))
    price = _num(trade.get("price"), "trade price")
    amount = _num(trade.get("amount"), "trade amount")
    side = trade.get("side")
    if side not in ("buy", "sell"):
        raise ValueError(f"bad trade side: {side!r}")
    trade_id = trade.get("id")
    if trade_id is None:
        trade_id = f"{timestamp}:{price}:{amount}:{side}"
    side_: Side = side
    return Trade(id=str(trade_id), timestamp=timestamp, price=price, amount=amount, side=side_)


def trades_from_ccxt(trades: Iterable[Mapping[str, Any]]) -> list[Trade]:
    return [trade_from_ccxt(t) for t in trades]


def _levels(side: Any, depth: int, what: str) -> tuple[tuple[float, float], ...]:
    if side is None:
        return ()
    out = []
    for level in side[:depth]:
        out.append((_num(level[0], f"{what} price"), _num(level[1], f"{what} size")))
    return tuple(out)


def book_from_ccxt(symbol: str, book: Mapping[str, Any], depth: int = BOOK_DEPTH) -> BookSnapshot:
    """A ccxt order book (bids descending, asks ascending) -> the top ``depth`` levels per side."""
    nonce = book.get("nonce")
    timestamp = book.get("timestamp")
    return BookSnapshot(
        symbol=symbol,
        bids=_levels(book.get("bids"), depth, "bid"),
        asks=_levels(book.get("asks"), depth, "ask"),
        nonce=int(nonce) if nonce is not None else None,
        timestamp=int(timestamp) if timestamp is not None else None,
    )


def ticker_from_ccxt(ticker: Mapping[str, Any]) -> Ticker:
    """A ccxt ticker dict -> :class:`Ticker` (fields ccxt could not fill stay None)."""
    symbol = ticker.get("symbol")
    if not isinstance(symbol, str):
        raise ValueError(f"ticker without a symbol: {symbol!r}")
    return Ticker(
        symbol=symbol,
        last=_opt_num(ticker.get("last", ticker.get("close"))),
        open_24h=_opt_num(ticker.get("open")),
        high_24h=_opt_num(ticker.get("high")),
        low_24h=_opt_num(ticker.get("low")),
        volume_quote_24h=_opt_num(ticker.get("quoteVolume")),
    )
