"""The four stream bodies: one ccxt call each, and where its result is stored.

Only parsing and storing lives here; retries, statuses and events are the supervisor's.
Each body writes into :class:`~tradeterm.market.state.MarketState`, on the engine's loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tradeterm.exchange.supervisor import StreamBody
from tradeterm.market.convert import (
    book_from_ccxt,
    candles_from_ccxt,
    ticker_from_ccxt,
    trades_from_ccxt,
)
from tradeterm.market.state import MarketState

WATCHLIST = "*"
"""The ``symbol`` of the tickers stream, which covers every watchlist symbol."""


class OhlcvStream(StreamBody):
    """REST history first (again after a reconnect, to fill the hole), then live candles.

    ``watch_ohlcv`` returns only the candles that changed on the socket; both sources are merged
    into the series by open time.
    """

    stream = "ohlcv"

    def __init__(
        self,
        exchange: Any,
        state: MarketState,
        symbol: str,
        timeframe: str,
        history_bars: int,
        *,
        stream: str = "ohlcv",
    ) -> None:
        # The chart's stream is "ohlcv"; a strategy's extra streams are named "ohlcv <tf>" so
        # their health never collides with the chart's for the same symbol.
        self.stream = stream
        self.exchange = exchange
        self.state = state
        self.symbol = symbol
        self.timeframe = timeframe
        self.history_bars = history_bars

    async def prepare(self) -> bool:
        rows = await self.exchange.fetch_ohlcv(
            self.symbol, self.timeframe, limit=self.history_bars
        )
        self.state.merge_candles(self.symbol, self.timeframe, candles_from_ccxt(rows))
        return True

    async def step(self) -> int | None:
        rows = await self.exchange.watch_ohlcv(self.symbol, self.timeframe)
        self.state.merge_candles(self.symbol, self.timeframe, candles_from_ccxt(rows))
        return None  # ccxt's OHLCV rows carry no event time


class BookStream(StreamBody):
    """ccxt keeps the L2 book in sync (snapshot + diffs); we keep its top levels, frozen."""

    stream = "book"

    def __init__(self, exchange: Any, state: MarketState, symbol: str, depth: int) -> None:
        self.exchange = exchange
        self.state = state
        self.symbol = symbol
        self.depth = depth

    async def step(self) -> int | None:
        book = await self.exchange.watch_order_book(self.symbol)
        snapshot = book_from_ccxt(self.symbol, book, self.depth)
        self.state.set_book(snapshot)
        return snapshot.timestamp

    def reset(self) -> None:
        # After a gap or a lost socket the last book is wrong; show none until resynced.
        self.state.clear_book(self.symbol)


class TradesStream(StreamBody):
    """Public trades; the tape deduplicates by id what a reconnect delivers twice."""

    stream = "trades"

    def __init__(self, exchange: Any, state: MarketState, symbol: str) -> None:
        self.exchange = exchange
        self.state = state
        self.symbol = symbol

    async def step(self) -> int | None:
        trades = trades_from_ccxt(await self.exchange.watch_trades(self.symbol))
        self.state.add_trades(self.symbol, trades)
        return max((t.timestamp for t in trades), default=None)


class TickersStream(StreamBody):
    """24 h tickers of the watchlist: ``watch_tickers`` where the exchange streams them,
    else (or once the stream is refused) ``fetch_tickers`` every ``poll_s`` seconds."""

    stream = "tickers"
    symbol = WATCHLIST

    def __init__(
        self, exchange: Any, state: MarketState, symbols: list[str], poll_s: float = 3.0
    ) -> None:
        self.exchange = exchange
        self.state = state
        self.symbols = list(symbols)
        self.poll_s = poll_s
        self.polling = not exchange.has.get("watchTickers")
        # Binance: the full 24 h ticker stream (<symbol>@ticker), which the simulator serves,
        # instead of ccxt's default <symbol>@miniTicker.
        self.params = {"name": "ticker"} if getattr(exchange, "id", None) == "binance" else {}
        self._polled_once = False

    async def step(self) -> int | None:
        if self.polling:
            if self._polled_once:
                await asyncio.sleep(self.poll_s)
            fresh = await self.exchange.fetch_tickers(self.symbols)
            self._polled_once = True
            tickers = fresh
        else:
            try:
                fresh = await self.exchange.watch_tickers(self.symbols, self.params)
            except Exception as exc:
                self._fall_back_if_refused(exc)
                raise
            # Each watch returns only the ticker whose message resolved it; the others that
            # arrived in the same tick are only in ccxt's cache: read the watchlist from there.
            cached = getattr(self.exchange, "tickers", None) or {}
            tickers = {**fresh, **{s: cached[s] for s in self.symbols if s in cached}}
        parsed = [ticker_from_ccxt(t) for t in tickers.values()]
        self.state.set_tickers(t for t in parsed if t.symbol in self.symbols)
        stamps = [t["timestamp"] for t in fresh.values() if t.get("timestamp") is not None]
        return max(stamps, default=None)

    def _fall_back_if_refused(self, exc: Exception) -> None:
        import ccxt

        # NotSupported, or the server answering the subscription with an error: poll instead.
        # Network trouble is not a refusal; the supervisor retries the stream.
        if isinstance(exc, ccxt.ExchangeError):
            self.polling = True
