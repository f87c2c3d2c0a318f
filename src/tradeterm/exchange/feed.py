"""The market-data feed: supervised streams for the active symbol and the watchlist.

For the active symbol three streams run (OHLCV, order book, trades), plus one tickers stream for
the watchlist symbols, plus one OHLCV stream per (symbol, timeframe) a strategy needs that the
chart does not already show (:meth:`Feed.watch_candles`; never two streams for one key). Each
is an independent task under :func:`supervise`, so a failure in one never touches the others.
A monitor marks silent streams STALE, and a :class:`ReaderGuard` revives sockets whose reader
a malformed message killed (see ``wsguard.py``).

The paper broker needs the book and trades of more symbols than the chart's (those with orders
or positions, those strategies trade): :meth:`Feed.watch_markets` keeps one book and one trades
stream per such symbol (never a duplicate of the chart's), and every book and trade batch any of
them stores is also handed to ``on_book`` / ``on_trades`` (the desk).
See ``docs/feed.md`` for what happens on each failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from tradeterm.config import FeedSettings
from tradeterm.core.events import Event
from tradeterm.core.models import BookSnapshot, Trade
from tradeterm.exchange.backoff import Backoff
from tradeterm.exchange.health import FeedHealth
from tradeterm.exchange.streams import BookStream, OhlcvStream, TickersStream, TradesStream
from tradeterm.exchange.supervisor import StreamBody, supervise
from tradeterm.exchange.wsguard import ReaderGuard
from tradeterm.market.convert import BOOK_DEPTH
from tradeterm.market.state import MarketState

log = logging.getLogger(__name__)

UNWATCH_TIMEOUT_S = 3.0

CandleKey = tuple[str, str]  # (symbol, timeframe)

MAX_HISTORY_BARS = 1000
"""Binance's largest kline page: more history would need paging."""


def _extra_task_name(key: CandleKey) -> str:
    return f"ohlcv {key[1]} {key[0]}"


def _market_task_names(symbol: str) -> tuple[str, str]:
    return f"book {symbol}", f"trades {symbol}"


BookListener = Callable[[str, BookSnapshot], None]
TradesListener = Callable[[str, list[Trade]], None]


class _Tap:
    """The market state as the book and trades streams see it, telling the listeners too."""

    def __init__(
        self, state: MarketState, on_book: BookListener | None, on_trades: TradesListener | None
    ) -> None:
        self._state = state
        self._on_book = on_book
        self._on_trades = on_trades

    def set_book(self, book: BookSnapshot) -> bool:
        changed = self._state.set_book(book)
        if self._on_book is not None:
            self._on_book(book.symbol, book)
        return changed

    def clear_book(self, symbol: str) -> bool:
        return self._state.clear_book(symbol)

    def add_trades(self, symbol: str, trades: Iterable[Trade]) -> bool:
        trades = list(trades)
        changed = self._state.add_trades(symbol, trades)
        if self._on_trades is not None and trades:
            self._on_trades(symbol, trades)
        return changed


class Feed:
    """Starts, switches and stops the supervised streams of one exchange client."""

    def __init__(
        self,
        exchange: Any,
        state: MarketState,
        health: FeedHealth,
        settings: FeedSettings,
        publish: Callable[[Event], None],
        clock: Callable[[], int],
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        rng: random.Random | None = None,
        book_depth: int = BOOK_DEPTH,
        on_book: BookListener | None = None,
        on_trades: TradesListener | None = None,
    ) -> None:
        self.exchange = exchange
        self.state = state
        self.health = health
        self.settings = settings
        self._publish = publish
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._book_depth = book_depth
        self._tasks: dict[str, asyncio.Task[None]] = {}  # stream name -> task
        self._monitor: asyncio.Task[None] | None = None
        self._guard = ReaderGuard()
        self._closed = False
        self.symbol: str | None = None
        self.timeframe: str | None = None
        self._candle_keys: set[CandleKey] = set()  # wanted by strategies (watch_candles)
        self._extra: set[CandleKey] = set()  # keys with a running extra OHLCV stream
        self._candle_history = 0
        self._tap: Any = _Tap(state, on_book, on_trades) if on_book or on_trades else state
        self._market_symbols: set[str] = set()  # wanted by the desk (watch_markets)
        self._markets: set[str] = set()  # symbols with running extra book + trades streams

    # -- starting and switching -----------------------------------------------------------------

    def _spawn(self, body: StreamBody, name: str | None = None) -> None:
        if self._closed:  # a switch racing with close() must not leave a stream behind
            return
        backoff = Backoff(
            self.settings.backoff_initial_s, self.settings.backoff_max_s, rng=self._rng
        )
        coro = supervise(
            body,
            health=self.health,
            publish=self._publish,
            backoff=backoff,
            clock=self._clock,
            sleep=self._sleep,
        )
        task = asyncio.create_task(coro, name=f"feed:{body.stream}:{body.symbol}")
        self._tasks[name or body.stream] = task

    def _ensure_started(self) -> None:
        if self._monitor is None and not self._closed:
            self._guard.install(asyncio.get_running_loop())
            self._monitor = asyncio.create_task(self._watch_staleness(), name="feed:monitor")

    async def _stop_streams(self, *names: str) -> None:
        tasks = [self._tasks.pop(n) for n in names if n in self._tasks]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _unsubscribe(self, symbol: str, timeframe: str | None, *streams: str) -> None:
        """Best effort: tell the exchange to stop streams nobody watches any more, so a user
        browsing symbols does not pile up subscriptions. Failures only cost bandwidth."""
        calls = {
            "book": ("unWatchOrderBook", "un_watch_order_book", (symbol,)),
            "trades": ("unWatchTrades", "un_watch_trades", (symbol,)),
            "ohlcv": ("unWatchOHLCV", "un_watch_ohlcv", (symbol, timeframe)),
        }
        for stream in streams:
            capability, method, args = calls[stream]
            if not self.exchange.has.get(capability) or None in args:
                continue
            try:
                await asyncio.wait_for(getattr(self.exchange, method)(*args), UNWATCH_TIMEOUT_S)
            except Exception as exc:
                log.debug("%s %s: unsubscribe failed: %s", stream, symbol, exc)

    async def watch_symbol(
        self, symbol: str, timeframe: str, candles: Iterable[CandleKey] | None = None
    ) -> None:
        """(Re)start the symbol's OHLCV, book and trades streams; ``candles`` replaces the
        strategies' keys in the same step (see :meth:`watch_candles`), so a strategy following
        the chart does not get a stream for the old symbol in between."""
        self._ensure_started()
        if candles is not None:
            self._candle_keys = set(candles)
        await self._stop_streams("ohlcv", "book", "trades")
        old_symbol, old_timeframe = self.symbol, self.timeframe
        self.symbol, self.timeframe = symbol, timeframe
        # A strategy stream on the chart's new key stops first: one stream per key, ever.
        await self._stop_extra({(symbol, timeframe)} & self._extra)
        await self._stop_markets({symbol} & self._markets)
        if old_symbol is not None and old_symbol != symbol:
            old_streams = ["ohlcv"] if (old_symbol, old_timeframe) not in self._candle_keys else []
            if old_symbol not in self._market_symbols:  # else an extra stream takes over
                self.state.clear_book(old_symbol)
                old_streams += ["book", "trades"]
            await self._unsubscribe(old_symbol, old_timeframe, *old_streams)
        ex, st = self.exchange, self.state
        self._spawn(OhlcvStream(ex, st, symbol, timeframe, self._history_for(symbol, timeframe)))
        self._spawn(BookStream(ex, self._tap, symbol, self._book_depth))
        self._spawn(TradesStream(ex, self._tap, symbol))
        await self._sync_candles()
        await self._sync_markets()

    async def watch_timeframe(
        self, timeframe: str, candles: Iterable[CandleKey] | None = None
    ) -> None:
        """Restart only the OHLCV stream, on ``timeframe`` (``candles``: as in watch_symbol)."""
        if candles is not None:
            self._candle_keys = set(candles)
        if self.symbol is None:
            self.timeframe = timeframe
            return
        await self._stop_streams("ohlcv")
        old = (self.symbol, self.timeframe)
        self.timeframe = timeframe
        await self._stop_extra({(self.symbol, timeframe)} & self._extra)
        if old[1] != timeframe and old not in self._candle_keys:
            await self._unsubscribe(self.symbol, old[1], "ohlcv")
        self._spawn(
            OhlcvStream(
                self.exchange, self.state, self.symbol, timeframe,
                self._history_for(self.symbol, timeframe),
            )
        )
        await self._sync_candles()

    async def watch_candles(self, keys: Iterable[CandleKey], history_bars: int = 0) -> None:
        """Keep OHLCV streams for exactly these ``(symbol, timeframe)`` keys besides the chart's.

        A key the chart already shows is served by the chart's stream (and taken over by an
        extra stream when the chart moves away). ``history_bars`` asks REST for at least that
        many bars when a stream starts (strategies need their warm-up).
        """
        self._candle_keys = set(keys)
        self._candle_history = history_bars
        await self._sync_candles()

    async def _sync_candles(self) -> None:
        if self._closed:
            return
        self._ensure_started()
        chart = (self.symbol, self.timeframe)
        wanted = self._candle_keys - {chart}
        gone = self._extra - wanted
        await self._stop_extra(gone)
        for symbol, timeframe in gone - {chart}:
            await self._unsubscribe(symbol, timeframe, "ohlcv")
        for key in sorted(wanted - self._extra):
            symbol, timeframe = key
            body = OhlcvStream(
                self.exchange, self.state, symbol, timeframe, self._history_for(*key),
                stream=f"ohlcv {timeframe}",
            )
            self._spawn(body, _extra_task_name(key))
            self._extra.add(key)

    def _history_for(self, symbol: str, timeframe: str) -> int:
        """REST bars for a stream: the strategies' warm-up needs may ask for more."""
        if (symbol, timeframe) not in self._candle_keys:
            return self.settings.history_bars
        return max(self.settings.history_bars, min(self._candle_history, MAX_HISTORY_BARS))

    async def _stop_extra(self, keys: set[CandleKey]) -> None:
        self._extra -= keys
        await self._stop_streams(*(_extra_task_name(k) for k in keys))

    async def watch_markets(self, symbols: Iterable[str]) -> None:
        """Keep book and trades streams for exactly these symbols besides the chart's (the paper
        broker fills against them). The chart's symbol is served by the chart's streams."""
        self._market_symbols = set(symbols)
        await self._sync_markets()

    async def _sync_markets(self) -> None:
        if self._closed:
            return
        self._ensure_started()
        wanted = self._market_symbols - {self.symbol}
        gone = self._markets - wanted
        await self._stop_markets(gone)
        for symbol in gone - {self.symbol}:
            self.state.clear_book(symbol)
            await self._unsubscribe(symbol, None, "book", "trades")
        for symbol in sorted(wanted - self._markets):
            book_name, trades_name = _market_task_names(symbol)
            self._spawn(BookStream(self.exchange, self._tap, symbol, self._book_depth), book_name)
            self._spawn(TradesStream(self.exchange, self._tap, symbol), trades_name)
            self._markets.add(symbol)

    async def _stop_markets(self, symbols: set[str]) -> None:
        self._markets -= symbols
        await self._stop_streams(*(n for s in symbols for n in _market_task_names(s)))

    def watch_tickers(self, symbols: list[str]) -> None:
        """Start the watchlist's tickers stream (once)."""
        self._ensure_started()
        if "tickers" not in self._tasks and symbols:
            self._spawn(TickersStream(self.exchange, self.state, symbols))

    async def set_tickers(self, symbols: list[str]) -> None:
        """The watchlist changed: the tickers stream follows the new list."""
        await self._stop_streams("tickers")
        self.watch_tickers(symbols)

    # -- monitoring and shutdown ----------------------------------------------------------------

    async def _watch_staleness(self) -> None:
        stale_ms = int(self.settings.stale_after_s * 1000)
        period = min(1.0, self.settings.stale_after_s / 4)
        while True:
            await asyncio.sleep(period)
            self.health.check_stale(stale_ms)

    async def close(self) -> None:
        """Cancel every stream first, then close the exchange client (ccxt's required order)."""
        self._closed = True
        await self._stop_streams(*list(self._tasks))
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
            self._monitor = None
        try:
            await self.exchange.close()
        except Exception as exc:  # closing must finish whatever the socket state
            log.warning("closing the exchange client failed: %s", exc)
        finally:
            self._guard.uninstall()
