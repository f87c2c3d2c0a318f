"""The engine against the simulator over real loopback sockets, with unmodified ccxt."""

from __future__ import annotations

import asyncio
import socket
from decimal import Decimal

import pytest

from tradeterm.core.commands import Shutdown, SwitchSymbol, SwitchTimeframe, SwitchToDemo
from tradeterm.core.events import EngineReady, ExchangeUnreachable
from tradeterm.core.models import EnginePhase, FeedStatus, MarketPrecision
from tradeterm.core.events import CommandIgnored
from tradeterm.engine import Engine
from tradeterm.sim import SimServer

from test_engine_harness import Running, running_engine, settings, until

pytestmark = pytest.mark.integration

WATCHLIST = ("BTC/USDT", "ETH/USDT", "SOL/USDT")


def spacing(candles) -> set[int]:
    return {b.open_time - a.open_time for a, b in zip(candles, candles[1:], strict=False)}


async def test_engine_reaches_running_with_history_book_trades_and_tickers(sim: SimServer):
    async with running_engine(sim.base_url) as run:
        snap = await until(
            lambda: (s := run.engine.snapshot()).phase is EnginePhase.RUNNING
            and len(s.market.candles) >= 60
            and s.market.book is not None
            and s.market.book.bids
            and s.market.trades
            and len(s.tickers) == 3
            and s,
            "a running engine with data",
        )
        assert run.of(EngineReady)[0].symbols == WATCHLIST
        assert snap.symbol == "BTC/USDT" and snap.timeframe == "1m" and snap.symbols == WATCHLIST
        book = snap.market.book
        assert book.best_bid < book.best_ask
        assert all(a[0] > b[0] for a, b in zip(book.bids, book.bids[1:], strict=False))
        assert spacing(snap.market.candles) == {60_000}
        assert [t.symbol for t in snap.tickers] == list(WATCHLIST)
        assert all(t.last and t.last > 0 for t in snap.tickers)
        # the display precision came from the exchange's markets (the simulator's spec)
        assert snap.precision("BTC/USDT") == MarketPrecision(
            Decimal("0.01"), Decimal("0.00001"), "BTC", "USDT")
        await until(
            lambda: all(h.status is FeedStatus.CONNECTED for h in run.engine.snapshot().streams)
            and len(run.engine.snapshot().streams) == 4,
            "all four streams connected",
        )
        # Cached: nothing new between two calls on the same loop tick means the same object.
        assert run.engine.snapshot() is run.engine.snapshot()


async def test_switch_symbol_and_timeframe_change_the_snapshot(sim: SimServer):
    async with running_engine(sim.base_url) as run:
        await until(lambda: len(run.engine.snapshot().market.candles) >= 60, "BTC history")
        btc_close = run.engine.snapshot().market.candles[-1].close

        run.engine.submit(SwitchSymbol("ETH/USDT"))
        await until(lambda: run.engine.snapshot().symbol == "ETH/USDT", "the new symbol")
        eth = await until(
            lambda: (m := run.engine.snapshot().market).symbol == "ETH/USDT"
            and len(m.candles) >= 60 and m.book is not None and m.trades and m,
            "ETH data",
        )
        assert eth.book.symbol == "ETH/USDT" and eth.candles[-1].close != btc_close
        assert {h.symbol for h in run.engine.snapshot().streams} == {"ETH/USDT", "*"}
        # The old symbol was unsubscribed on the simulator (only the watchlist tickers remain).
        await until(
            lambda: not any(
                s.startswith("btcusdt@") and not s.endswith("@ticker")
                for c in sim.hub.conns for s in c.streams
            ),
            "BTC streams unsubscribed",
        )

        run.engine.submit(SwitchTimeframe("5m"))
        m5 = await until(
            lambda: (m := run.engine.snapshot().market).timeframe == "5m"
            and len(m.candles) >= 60 and m,
            "5m candles",
        )
        assert spacing(m5.candles) == {300_000}
        assert m5.symbol == "ETH/USDT"

        run.engine.submit(SwitchSymbol("ZZZ/USDT"))
        run.engine.submit(SwitchTimeframe("7m"))
        await until(lambda: len(run.of(CommandIgnored)) == 2, "two ignored commands")
        assert "ZZZ/USDT" in run.of(CommandIgnored)[0].reason
        snap = run.engine.snapshot()
        assert (snap.symbol, snap.timeframe, snap.phase) == ("ETH/USDT", "5m", EnginePhase.RUNNING)


async def test_unlisted_watchlist_symbol_is_reported_not_fatal(sim: SimServer):
    config = settings()
    config.symbols = ["ZZZ/USDT", "BTC/USDT"]
    async with running_engine(sim.base_url, config) as run:
        snap = await until(
            lambda: (s := run.engine.snapshot()).phase is EnginePhase.RUNNING
            and s.market.book is not None and s,
            "running without the unlisted symbol",
        )
        assert snap.symbols == ("BTC/USDT",) and snap.symbol == "BTC/USDT"
        assert "ZZZ/USDT" in (snap.error or "")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_unreachable_exchange_then_switch_to_demo_runs_the_simulator():
    config = settings()
    config.sim.seed = 3
    url = f"http://127.0.0.1:{closed_port()}"
    async with running_engine(url, config, connect_timeout_s=10.0) as run:
        snap = await until(
            lambda: (s := run.engine.snapshot()).phase is EnginePhase.UNREACHABLE and s,
            "the unreachable phase",
        )
        assert snap.error and snap.error.startswith("cannot reach binance")
        assert "Cannot connect to host" in snap.error  # the cause, not only ccxt's "GET <url>"
        assert "\n" not in snap.error and "Traceback" not in snap.error
        assert run.of(ExchangeUnreachable)[0].reason == snap.error
        assert not snap.demo

        run.engine.submit(SwitchToDemo())
        snap = await until(
            lambda: (s := run.engine.snapshot()).phase is EnginePhase.RUNNING
            and s.market.book is not None and s,
            "running on the built-in simulator",
        )
        assert snap.demo and snap.error is None
    assert run.engine.snapshot().phase is EnginePhase.STOPPED
    assert run.engine._sim is None  # the simulator the engine started was stopped


async def test_shutdown_while_unreachable_returns_promptly():
    engine = Engine(settings(), sim_base_url=f"http://127.0.0.1:{closed_port()}")
    run = Running(engine)
    task = asyncio.create_task(engine.run())
    await until(lambda: engine.snapshot().phase is EnginePhase.UNREACHABLE, "unreachable")
    engine.submit(Shutdown())
    await asyncio.wait_for(task, 10)
    assert engine.snapshot().phase is EnginePhase.STOPPED and run.of(ExchangeUnreachable)
