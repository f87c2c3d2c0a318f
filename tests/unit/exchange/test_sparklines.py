"""Watchlist sparklines: hourly closes from the simulator, the ticker as newest point, failures
that keep the old line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tradeterm.core.models import Ticker
from tradeterm.exchange.sparklines import Sparklines
from tradeterm.sim import SimServer

HOUR = 3_600_000


@pytest.fixture
async def sim_exchange() -> AsyncIterator[Any]:
    from tradeterm.exchange.client import create_exchange

    server = SimServer(seed=7)
    await server.start()
    client = create_exchange("binance", sim_base_url=server.base_url)
    try:
        yield client
    finally:
        await client.close()
        await server.stop()


class FlakyExchange:
    """Answers ``fetch_ohlcv`` from ``rows``; symbols in ``failing`` raise."""

    def __init__(self, rows: dict[str, list[list[float]]], failing: set[str] = frozenset()):
        self.rows, self.failing, self.calls = rows, set(failing), []

    async def fetch_ohlcv(self, symbol: str, timeframe: str, limit: int) -> list[list[float]]:
        self.calls.append((symbol, timeframe, limit))
        if symbol in self.failing:
            raise ConnectionError(f"{symbol} down")
        return self.rows[symbol]


def rows(*closes: float) -> list[list[float]]:
    return [[i * HOUR, c, c, c, c, 1.0] for i, c in enumerate(closes)]


async def test_refresh_against_simulator_then_24_hourly_closes_per_symbol(sim_exchange):
    await sim_exchange.load_markets()
    lines = Sparklines()
    symbols = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
    await lines.refresh(sim_exchange, symbols)
    snap = dict(lines.snapshot(symbols))
    assert set(snap) == set(symbols)
    assert all(len(closes) == 24 and all(c > 0 for c in closes) for closes in snap.values())
    direct = await sim_exchange.fetch_ohlcv("ETH/USDT", "1h", limit=24)
    assert snap["ETH/USDT"][:-1] == tuple(row[4] for row in direct)[:-1]
    assert lines.version == 3


async def test_start_against_simulator_then_lines_arrive_and_stop_ends_the_task(sim_exchange):
    await sim_exchange.load_markets()
    lines = Sparklines(refresh_s=0.05)
    lines.start(sim_exchange, ["BTC/USDT"])
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 25
    while not lines.snapshot(["BTC/USDT"]):
        assert loop.time() < deadline, "no sparkline within 25 s"
        await asyncio.sleep(0.05)
    task = lines._task
    await lines.stop()
    assert task is not None and task.done()
    assert lines.snapshot(["BTC/USDT"])  # kept after stop


async def test_refresh_when_fetch_fails_then_old_line_kept_and_others_updated():
    exchange = FlakyExchange({"A/B": rows(1, 2, 3), "C/D": rows(5, 6)})
    lines = Sparklines()
    await lines.refresh(exchange, ["A/B", "C/D"])
    exchange.failing = {"A/B"}
    exchange.rows["C/D"] = rows(6, 7)
    await lines.refresh(exchange, ["A/B", "C/D"])
    assert lines.snapshot(["A/B", "C/D"]) == (("A/B", (1.0, 2.0, 3.0)), ("C/D", (6.0, 7.0)))
    assert exchange.calls[0] == ("A/B", "1h", 24)


async def test_refresh_when_nothing_changed_then_version_stays():
    exchange = FlakyExchange({"A/B": rows(1, 2, 3)})
    lines = Sparklines()
    await lines.refresh(exchange, ["A/B"])
    version = lines.version
    await lines.refresh(exchange, ["A/B"])
    assert lines.version == version


def test_snapshot_when_ticker_then_its_last_price_is_the_newest_point():
    lines = Sparklines()
    lines.set_closes("A/B", [1.0, 2.0, 3.0])
    assert lines.snapshot(["A/B"], [Ticker("A/B", last=3.5)]) == (("A/B", (1.0, 2.0, 3.5)),)
    assert lines.snapshot(["A/B"], [Ticker("A/B", last=None)]) == (("A/B", (1.0, 2.0, 3.0)),)


def test_snapshot_when_unchanged_then_same_tuple_and_watchlist_order():
    lines = Sparklines(points=2)
    lines.set_closes("B/Q", [1.0, 2.0, 3.0])
    lines.set_closes("A/Q", [4.0])
    first = lines.snapshot(["A/Q", "B/Q", "C/Q"])
    assert first == (("A/Q", (4.0,)), ("B/Q", (2.0, 3.0)))
    assert lines.snapshot(["A/Q", "B/Q", "C/Q"]) is first


async def test_engine_on_simulator_then_snapshot_carries_a_line_per_watchlist_symbol():
    from tradeterm.config import Settings
    from tradeterm.core.commands import Shutdown
    from tradeterm.engine import Engine

    server = SimServer(seed=7)
    await server.start()
    engine = Engine(Settings(feed={"history_bars": 60}), sim_base_url=server.base_url)
    task = asyncio.create_task(engine.run())
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 25
        while len((snap := engine.snapshot()).sparklines) < 3:
            assert loop.time() < deadline, "no sparklines in the snapshot within 25 s"
            await asyncio.sleep(0.05)
        assert [s for s, _ in snap.sparklines] == list(snap.symbols)
        assert all(len(closes) == 24 for _, closes in snap.sparklines)
    finally:
        engine.submit(Shutdown())
        await asyncio.wait_for(task, 25)
        await server.stop()
    assert engine.sparklines._task is None  # stopped with the session
