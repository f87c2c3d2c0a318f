"""Feed: streams are independent; shutdown cancels them before closing the client."""

from __future__ import annotations

import ccxt

from tradeterm.config import FeedSettings
from tradeterm.core.events import FeedMessageSkipped, FeedStatusChanged
from tradeterm.core.models import FeedStatus
from tradeterm.exchange.feed import Feed
from tradeterm.exchange.health import FeedHealth
from tradeterm.market.state import MarketState

from feed_fakes import ScriptedExchange, book, until

SYM = "BTC/USDT"


def make_feed(ex: ScriptedExchange, events: list, now: list[int]) -> Feed:
    settings = FeedSettings(backoff_initial_s=0.001, backoff_max_s=0.002, stale_after_s=0.05)
    clock = lambda: now[0]  # noqa: E731
    health = FeedHealth(clock, events.append)
    return Feed(ex, MarketState(), health, settings, events.append, clock)


async def test_a_failing_stream_does_not_stop_the_others_and_close_is_ordered():
    events: list = []
    now = [1000]
    failing = [ccxt.BadResponse(f"bad {i}") for i in range(5)]
    ex = ScriptedExchange(
        fetch_ohlcv=[[[0, 1, 1, 1, 1, 1]]],
        watch_order_book=[book(1)],
        watch_trades=failing,
        fetch_tickers=[{SYM: {"symbol": SYM, "last": 1.0}}],
        has_watch_tickers=False,
    )
    feed = make_feed(ex, events, now)
    await feed.watch_symbol(SYM, "1m")
    feed.watch_tickers([SYM])
    await until(lambda: len([e for e in events if isinstance(e, FeedMessageSkipped)]) == 5)
    await until(lambda: feed.state.book(SYM) is not None and feed.state.ticker(SYM) is not None)
    assert len(feed.state.candles(SYM, "1m")) == 1
    assert {h.stream for h in feed.health.streams()} == {"ohlcv", "book", "trades", "tickers"}
    await feed.close()
    assert ex.log == ["close"]
    assert feed.health.streams() == ()
    stopped = [
        e for e in events if isinstance(e, FeedStatusChanged) and e.status is FeedStatus.STOPPED
    ]
    assert len(stopped) == 4


async def test_monitor_marks_silent_streams_stale():
    events: list = []
    now = [1000]
    ex = ScriptedExchange(watch_order_book=[book(1)])
    feed = make_feed(ex, events, now)
    await feed.watch_symbol(SYM, "1m")
    await until(lambda: feed.state.book(SYM) is not None)
    now[0] += 10_000  # the fake clock says the book has been silent for 10 s
    await until(
        lambda: any(
            isinstance(e, FeedStatusChanged) and e.stream == "book" and e.status is FeedStatus.STALE
            for e in events
        )
    )
    await feed.close()


async def test_timeframe_switch_restarts_only_ohlcv_and_symbol_switch_drops_old_book():
    events: list = []
    ex = ScriptedExchange(
        fetch_ohlcv=[[[0, 1, 1, 1, 1, 1]], [[0, 2, 2, 2, 2, 2]], [[0, 3, 3, 3, 3, 3]]],
        watch_order_book=[book(1)],
    )
    feed = make_feed(ex, events, [1000])
    await feed.watch_symbol(SYM, "1m")
    await until(lambda: feed.state.book(SYM) is not None)
    await feed.watch_timeframe("5m")
    await until(lambda: len(feed.state.candles(SYM, "5m")) == 1)
    assert ex.calls["watch_order_book"] == 2  # the book stream kept its pending watch
    await feed.watch_symbol("ETH/USDT", "5m")
    assert feed.state.book(SYM) is None
    await until(lambda: len(feed.state.candles("ETH/USDT", "5m")) == 1)
    await feed.close()
