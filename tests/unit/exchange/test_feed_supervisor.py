"""The supervisor survives every failure a ccxt watch call can raise, and reports it."""

from __future__ import annotations

import asyncio
import random

import ccxt
import pytest

from tradeterm.core.events import BookResynced, FeedMessageSkipped, FeedStatusChanged
from tradeterm.core.models import FeedStatus
from tradeterm.exchange.backoff import Backoff
from tradeterm.exchange.health import FeedHealth
from tradeterm.exchange.streams import BookStream, OhlcvStream, TickersStream, TradesStream
from tradeterm.exchange.supervisor import supervise
from tradeterm.exchange.wsguard import MalformedMessage
from tradeterm.market.state import MarketState

from feed_fakes import ScriptedExchange, book, until

SYM = "BTC/USDT"


class Harness:
    def __init__(self) -> None:
        self.events: list[object] = []
        self.sleeps: list[float] = []
        self.now = 1_000
        self.state = MarketState()
        self.health = FeedHealth(lambda: self.now, self.events.append)
        self.backoff = Backoff(0.5, 4.0, rng=random.Random(1))

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)

    def start(self, body: object) -> asyncio.Task[None]:
        return asyncio.create_task(
            supervise(
                body,  # type: ignore[arg-type]
                health=self.health,
                publish=self.events.append,
                backoff=self.backoff,
                clock=lambda: self.now,
                sleep=self.sleep,
            )
        )

    def statuses(self) -> list[FeedStatus]:
        return [e.status for e in self.events if isinstance(e, FeedStatusChanged)]

    def of(self, cls: type) -> list[object]:
        return [e for e in self.events if isinstance(e, cls)]


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_book_stream_survives_network_checksum_and_bad_response_in_sequence():
    h = Harness()
    ex = ScriptedExchange(
        watch_order_book=[
            book(1),
            ccxt.NetworkError("connection closed by remote server"),
            ccxt.NetworkError("connection refused"),
            book(5),
            ccxt.ChecksumError("binance BTC/USDT sequence gap"),
            ccxt.BadResponse("garbage"),
            book(9, bid=200.0, ask=201.0),
        ]
    )
    task = h.start(BookStream(ex, h.state, SYM, depth=50))
    await until(lambda: (b := h.state.book(SYM)) is not None and b.nonce == 9)
    assert not task.done()
    assert h.statuses() == [
        FeedStatus.CONNECTING,
        FeedStatus.CONNECTED,
        FeedStatus.RECONNECTING,
        FeedStatus.CONNECTED,
    ]
    (resync,) = h.of(BookResynced)
    assert resync.symbol == SYM and "gap" in resync.reason
    (skipped,) = h.of(FeedMessageSkipped)
    assert skipped.stream == "book" and "garbage" in skipped.reason
    # Two consecutive network failures: two growing backoff waits; the resync after a good
    # message is retried at once, the bad response right after it backs off.
    assert len(h.sleeps) == 3
    assert 0.375 <= h.sleeps[0] <= 0.5 and 0.75 <= h.sleeps[1] <= 1.0
    assert 0.75 <= h.sleeps[2] <= 1.0
    (health,) = h.health.streams()
    assert health.status is FeedStatus.CONNECTED and health.reconnects == 1
    assert h.state.book(SYM).bids == ((200.0, 1.0),)
    await stop(task)
    assert h.statuses()[-1] is FeedStatus.STOPPED and h.health.streams() == ()


async def test_book_is_dropped_while_resyncing():
    h = Harness()
    ex = ScriptedExchange(watch_order_book=[book(1), ccxt.ChecksumError("gap")])
    task = h.start(BookStream(ex, h.state, SYM, depth=50))
    await until(lambda: h.of(BookResynced))
    assert h.state.book(SYM) is None  # a book with a gap is never shown
    await stop(task)


async def test_ohlcv_history_is_fetched_first_and_again_after_a_lost_connection():
    h = Harness()
    row = [0, 1.0, 2.0, 0.5, 1.5, 10.0]
    ex = ScriptedExchange(
        fetch_ohlcv=[[row, [60_000, 1, 1, 1, 1, 1]], [[120_000, 1, 1, 1, 1, 1]]],
        watch_ohlcv=[[[60_000, 1, 3, 1, 2, 5]], ccxt.RequestTimeout("ping-pong timeout")],
    )
    task = h.start(OhlcvStream(ex, h.state, SYM, "1m", history_bars=500))
    await until(lambda: len(h.state.candles(SYM, "1m")) == 3)
    assert ex.calls["fetch_ohlcv"] == 2
    closes = [c.close for c in h.state.candles(SYM, "1m")]
    assert closes == [1.5, 2.0, 1.0]  # live candle replaced the REST one with the same open
    await stop(task)


async def test_history_fetch_failure_is_retried_with_backoff():
    h = Harness()
    ex = ScriptedExchange(
        fetch_ohlcv=[ccxt.ExchangeNotAvailable("503"), [[0, 1, 1, 1, 1, 1]]],
    )
    task = h.start(OhlcvStream(ex, h.state, SYM, "1m", history_bars=500))
    await until(lambda: len(h.state.candles(SYM, "1m")) == 1)
    assert len(h.sleeps) == 1 and ex.calls["fetch_ohlcv"] == 2
    await stop(task)


async def test_malformed_message_reset_is_reported_and_retried_at_once():
    h = Harness()
    ex = ScriptedExchange(
        watch_trades=[
            [{"id": "1", "timestamp": 900, "price": 1.0, "amount": 1.0, "side": "buy"}],
            MalformedMessage("malformed message skipped (JSONDecodeError: ...)"),
            [{"id": "1", "timestamp": 900, "price": 1.0, "amount": 1.0, "side": "buy"},
             {"id": "2", "timestamp": 950, "price": 1.0, "amount": 1.0, "side": "sell"}],
        ]
    )
    task = h.start(TradesStream(ex, h.state, SYM))
    await until(lambda: len(h.state.trades(SYM)) == 2)
    (skipped,) = h.of(FeedMessageSkipped)
    assert skipped.stream == "trades" and "malformed" in skipped.reason
    assert h.sleeps == []
    assert FeedStatus.RECONNECTING in h.statuses()
    assert h.health.streams()[0].latency_ms == 50.0  # 1000 local - 950 exchange time
    await stop(task)


async def test_unusable_trade_payload_is_skipped_and_the_stream_continues():
    h = Harness()
    ex = ScriptedExchange(
        watch_trades=[
            [{"id": "1", "timestamp": 1, "price": None, "amount": 1.0, "side": "buy"}],
            [{"id": "2", "timestamp": 2, "price": 3.0, "amount": 1.0, "side": "buy"}],
        ]
    )
    task = h.start(TradesStream(ex, h.state, SYM))
    await until(lambda: len(h.state.trades(SYM)) == 1)
    assert len(h.of(FeedMessageSkipped)) == 1
    await stop(task)


async def test_unexpected_exception_is_survived_with_backoff():
    h = Harness()
    ex = ScriptedExchange(watch_order_book=[TypeError("bug"), TypeError("bug"), book(3)])
    task = h.start(BookStream(ex, h.state, SYM, depth=50))
    await until(lambda: h.state.book(SYM) is not None)
    assert len(h.of(FeedMessageSkipped)) == 2 and len(h.sleeps) == 2
    await stop(task)


async def test_tickers_fall_back_to_polling_when_the_stream_is_refused():
    h = Harness()
    ticker = {"symbol": SYM, "last": 2.0, "open": 1.0, "timestamp": 990}
    ex = ScriptedExchange(
        watch_tickers=[ccxt.NotSupported("no ticker stream")],
        fetch_tickers=[{SYM: ticker, "DOGE/USDT": {**ticker, "symbol": "DOGE/USDT"}}],
    )
    body = TickersStream(ex, h.state, [SYM, "ETH/USDT"], poll_s=0.01)
    task = h.start(body)
    await until(lambda: h.state.ticker(SYM) is not None)
    assert body.polling
    assert h.state.ticker("DOGE/USDT") is None  # only the watchlist is kept
    assert [t.symbol for t in h.state.tickers((SYM, "ETH/USDT"))] == [SYM]
    await stop(task)


async def test_tickers_poll_from_the_start_without_watch_tickers():
    h = Harness()
    ex = ScriptedExchange(
        has_watch_tickers=False,
        fetch_tickers=[{SYM: {"symbol": SYM, "last": 2.0}}],
    )
    task = h.start(TickersStream(ex, h.state, [SYM], poll_s=0.01))
    await until(lambda: h.state.ticker(SYM) is not None)
    assert ex.calls["watch_tickers"] == 0
    await stop(task)
