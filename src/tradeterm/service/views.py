"""One client's view updates: only what changed since the last one it was sent.

The engine's snapshot parts are immutable and cached (a part that did not change is the same
object), so "changed" is mostly an identity test. A client's market (its own symbol and
timeframe) is diffed more finely, since it is most of the bytes: the candle history goes once,
then only the live candle and new ones (a tail); trades go as the new prints only; the book at
most ``book_fps`` times a second, cut to the depth asked for. The streams' health changes with
every message (its latency and last-message time), so it goes at once when a stream's state
changes (status, reconnects, error) and otherwise at most once a second (the status bar's
latency): sent with every update it was a quarter of the bytes (benchmarks/service.py). The
account likewise: with a position open it changes with every tick (equity, unrealised PnL,
excursions) and went whole ten times a second (~1 KB each with a few positions and brackets,
more than the book); so what a fill, an order or a close changes goes at once, and a mark-only
change at most ``book_fps`` times a second, like the book.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tradeterm.core.models import (
    BookSnapshot,
    Candle,
    EngineSnapshot,
    MarketSnapshot,
    StreamHealth,
    Trade,
)
from tradeterm.core.trading import AccountSnapshot
from tradeterm.wire.messages import SHARED_FIELDS, View


STREAMS_EVERY_S = 1.0
"""Latency-only changes of the streams' health go at most this often."""

TAIL_MAX = 64
"""A candle tail longer than this (the history reloaded, a gap filled) goes whole instead."""


@dataclass(slots=True)
class ViewState:
    """What one client was last sent, to diff the next snapshot against."""

    symbol: str
    timeframe: str
    book_depth: int = 20
    trades_kept: int = 200
    book_every_s: float = 0.1
    sent: dict[str, Any] = field(default_factory=dict)  # SHARED_FIELDS name -> the object sent
    candles: tuple[Candle, ...] | None = None
    trades: tuple[Trade, ...] | None = None
    book: BookSnapshot | None = None
    book_sent: bool = False
    book_due: float = 0.0
    ticker: object = None
    ticker_sent: bool = False
    market_sent: bool = False  # symbol and timeframe (and so everything below) sent
    streams_due: float = 0.0
    account_due: float = 0.0

    def resubscribe(self, symbol: str, timeframe: str, book_depth: int, trades: int) -> None:
        """A new subscription: the whole market goes again with the next update."""
        self.symbol, self.timeframe = symbol, timeframe
        self.book_depth, self.trades_kept = book_depth, trades
        self.candles = self.trades = self.book = None
        self.book_sent = self.ticker_sent = self.market_sent = False
        self.book_due = 0.0


def _candle_update(prev: tuple[Candle, ...] | None, now: tuple[Candle, ...]) -> dict[str, Any]:
    if prev is not None and now is prev:
        return {}
    if prev and now:
        last_open = prev[-1].open_time
        # where the client's last candle sits in the new tuple (usually at -1 or -2)
        for back in range(1, min(TAIL_MAX, len(now)) + 1):
            candle = now[-back]
            if candle.open_time == last_open:
                return {"candles_tail": now[-back:], "candles_kept": len(now)}
            if candle.open_time < last_open:
                break
    return {"candles": now}


def _trades_update(prev: tuple[Trade, ...] | None, now: tuple[Trade, ...],
                   kept: int) -> dict[str, Any]:
    if prev is not None and now is prev:
        return {}
    if prev and now:
        last = prev[-1]
        for back in range(1, len(now) + 1):  # the newest kept trade the client already has
            if now[-back] is last:
                return {"trades_new": now[len(now) - back + 1:]} if back > 1 else {}
    return {"trades": now[-kept:]}


def _cut(book: BookSnapshot | None, depth: int) -> BookSnapshot | None:
    if book is None or (len(book.bids) <= depth and len(book.asks) <= depth):
        return book
    return BookSnapshot(book.symbol, book.bids[:depth], book.asks[:depth], book.nonce,
                        book.timestamp)


def _streams_state(streams: tuple[StreamHealth, ...]) -> tuple[Any, ...]:
    """What of the streams' health must reach the screen at once (not latency nor time)."""
    return tuple((s.stream, s.symbol, s.status, s.reconnects, s.last_error) for s in streams)


def _account_state(account: AccountSnapshot | None) -> tuple[Any, ...] | None:
    """What of the account must reach the screen at once: all but the marks to the book
    (equity, unrealised PnL, a position's excursions), which change with every tick."""
    if account is None:
        return None
    return (account.quote, account.balance, account.realized_pnl_today, account.orders,
            tuple((p.symbol, p.quantity, p.average_entry, p.opened_ms, p.strategy, p.stop,
                   p.target, p.initial_risk, p.realized_pnl, p.fees)
                  for p in account.positions))


def next_view(state: ViewState, snap: EngineSnapshot,
              market: Callable[[str, str], MarketSnapshot], now: float) -> View | None:
    """The update to send ``state``'s client (None: nothing changed); updates ``state``."""
    parts: dict[str, Any] = {}
    for name in SHARED_FIELDS:
        value = getattr(snap, name)
        if name not in state.sent or state.sent[name] is not value and state.sent[name] != value:
            if name == "streams":
                if name in state.sent and now < state.streams_due and (
                        _streams_state(value) == _streams_state(state.sent[name])):
                    continue
                state.streams_due = now + STREAMS_EVERY_S
            elif name == "account":
                if name in state.sent and now < state.account_due and (
                        _account_state(value) == _account_state(state.sent[name])):
                    continue
                state.account_due = now + state.book_every_s
            parts[name] = value
            state.sent[name] = value
    m = market(state.symbol, state.timeframe)
    if not state.market_sent:
        parts["symbol"], parts["timeframe"] = state.symbol, state.timeframe
        state.market_sent = True
    parts.update(_candle_update(state.candles, m.candles))
    state.candles = m.candles
    parts.update(_trades_update(state.trades, m.trades, state.trades_kept))
    state.trades = m.trades
    if not state.ticker_sent or m.ticker is not state.ticker:
        parts["ticker"] = m.ticker
        state.ticker, state.ticker_sent = m.ticker, True
    if (not state.book_sent or m.book is not state.book) and now >= state.book_due:
        parts["book"] = _cut(m.book, state.book_depth)
        state.book, state.book_sent = m.book, True
        state.book_due = now + state.book_every_s
    return View(**parts) if parts else None
