"""Market state detects a closed candle by open-time advance; the feed keeps one stream per key."""

from __future__ import annotations

import asyncio
from typing import Any

from tradeterm.config import FeedSettings
from tradeterm.core.models import Candle
from tradeterm.exchange.feed import Feed
from tradeterm.exchange.health import FeedHealth
from tradeterm.market.state import MarketState


def bar(t: int, close: float = 1.0) -> Candle:
    return Candle(t * 60_000, 1.0, 2.0, 0.5, close, 3.0)


def test_a_bar_closes_when_a_later_open_time_arrives():
    state = MarketState()
    closes: list[tuple[str, str, tuple[Candle, ...]]] = []
    state.add_bar_listener(lambda s, tf, closed: closes.append((s, tf, closed)))
    state.merge_candles("BTC/USDT", "1m", [bar(0), bar(1), bar(2)])  # history closes nothing
    state.merge_candles("BTC/USDT", "1m", [bar(2, close=1.5)])  # the open bar updates
    state.merge_candles("ETH/USDT", "1m", [bar(5)])
    assert closes == []
    state.merge_candles("BTC/USDT", "1m", [bar(2, close=1.7), bar(3)])
    assert len(closes) == 1
    symbol, tf, closed = closes[0]
    assert (symbol, tf) == ("BTC/USDT", "1m")
    assert [c.open_time for c in closed] == [0, 60_000, 120_000] and closed[-1].close == 1.7
    # A refetch after a gap brings several new bars at once: one close, the latest.
    state.merge_candles("BTC/USDT", "1m", [bar(t) for t in range(0, 7)])
    assert len(closes) == 2 and closes[1][2][-1].open_time == 5 * 60_000
    state.merge_candles("BTC/USDT", "1m", [bar(4)])  # an old bar again: nothing closes
    assert len(closes) == 2


class KeyedExchange:
    """Records which OHLCV keys are watched and unsubscribed; every watch waits forever."""

    def __init__(self) -> None:
        self.has = {"unWatchOHLCV": True, "watchTickers": True}
        self.watching: list[tuple[str, str]] = []
        self.unwatched: list[tuple[str, str]] = []

    async def fetch_ohlcv(self, symbol: str, timeframe: str, limit: int | None = None) -> Any:
        self.watching.append((symbol, timeframe))
        return []

    async def _forever(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.Event().wait()

    watch_ohlcv = watch_order_book = watch_trades = _forever

    async def un_watch_ohlcv(self, symbol: str, timeframe: str) -> None:
        self.unwatched.append((symbol, timeframe))

    async def close(self) -> None:
        pass


async def ohlcv_streams(feed: Feed) -> list[tuple[str, str]]:
    for _ in range(5):  # let new stream tasks start and register their health
        await asyncio.sleep(0)
    return sorted((h.stream, h.symbol) for h in feed.health.streams() if "ohlcv" in h.stream)


async def test_strategy_keys_share_the_chart_stream_and_get_their_own_otherwise():
    ex = KeyedExchange()
    feed = Feed(ex, MarketState(), FeedHealth(lambda: 0, lambda e: None), FeedSettings(),
                lambda e: None, lambda: 0)
    try:
        keys = {("BTC/USDT", "1m"), ("ETH/USDT", "5m")}
        await feed.watch_symbol("BTC/USDT", "1m", keys)
        assert await ohlcv_streams(feed) == [("ohlcv", "BTC/USDT"), ("ohlcv 5m", "ETH/USDT")]
        extra = dict(feed._tasks)
        await feed.watch_candles(keys)  # nothing changed: nothing restarts
        assert dict(feed._tasks) == extra

        # The chart moves onto the strategy's key: the chart's stream serves it alone, and the
        # key the chart left is still wanted, so it is not unsubscribed but taken over.
        await feed.watch_symbol("ETH/USDT", "5m", keys)
        assert await ohlcv_streams(feed) == [("ohlcv", "ETH/USDT"), ("ohlcv 1m", "BTC/USDT")]
        assert ex.unwatched == []

        await feed.watch_candles(set())
        assert await ohlcv_streams(feed) == [("ohlcv", "ETH/USDT")]
        assert ex.unwatched == [("BTC/USDT", "1m")]

        await feed.watch_candles({("ETH/USDT", "5m")}, history_bars=400)
        await feed.watch_timeframe("1m", {("ETH/USDT", "5m")})
        assert await ohlcv_streams(feed) == [("ohlcv", "ETH/USDT"), ("ohlcv 5m", "ETH/USDT")]
        assert ("ETH/USDT", "5m") not in ex.unwatched
    finally:
        await feed.close()
    assert feed._tasks == {}
