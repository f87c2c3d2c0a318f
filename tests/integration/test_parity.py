"""Parity: the same candles through the live path (simulator replay -> ccxt feed -> strategy engine
-> risk -> paper broker -> journal) and through the backtester give the same trades: same entry
and exit bars, prices, quantities, fees and PnL, for every shipped strategy.

The simulator replays in lockstep (``tradeterm.sim.lockstep``): each bar opens with the book at
``open ± 1 tick`` and closes before the engine's reaction is awaited; its trades walk every tick
of the bar's path with the book re-quoted around each print. The backtester gets that same path
as its lower timeframe, so a bar touching both a stop and a target is resolved by the order in
which the replay printed them (without it the backtester takes the stop; see docs/backtest.md).
Real parts only: a SimServer on loopback, unmodified ccxt, the Engine, a real SQLite journal.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from strategy_copies import one_minute_copy
from walk_candles import tick_walk

from tradeterm.backtest.runner import BacktestConfig, rules_for, run_backtest
from tradeterm.config import Settings
from tradeterm.core.commands import Shutdown
from tradeterm.core.models import EnginePhase, StrategyState
from tradeterm.engine import Engine
from tradeterm.journal import JournalReader
from tradeterm.sim import SimServer
from tradeterm.sim.lockstep import LockstepReplay
from tradeterm.sim.replay import tick_path
from tradeterm.strategy.loader import load_directory

pytestmark = pytest.mark.integration

STRATEGIES = Path(__file__).resolve().parents[2] / "strategies"
# ml_signal trades a saved model live; with none (its default) it walk-forward trains inside the
# frame, which a live window starting elsewhere cannot repeat (docs/ml.md); tests/unit/ml covers it.
SHIPPED = sorted(set(load_directory(STRATEGIES).strategies) - {"ml_signal"})
BARS = 600
START = 1_704_067_200_000  # 2024-01-01 00:00 UTC
MINUTE = 60_000
TICK = 0.01
SYMBOL = "BTC/USDT"
GATE_S = 20.0


def candles(seed: int = 11) -> pl.DataFrame:
    return tick_walk(BARS, seed)


def replay_path_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The lockstep replay's prints as one-price candles: the backtester's lower timeframe."""
    times, prices = [], []
    for t0, *ohlc in frame.select("open_time", "open", "high", "low", "close").iter_rows():
        path = tick_path(*(round(x / TICK) for x in ohlc))
        times += [t0 + j * MINUTE // len(path) for j in range(len(path))]
        prices += [round(p * TICK, 2) for p in path]
    return pl.DataFrame({"open_time": times, "open": prices, "high": prices, "low": prices})


class EngineGate:
    """Waits until the engine has seen what the lockstep replay just published."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def _until(self, ok, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GATE_S
        while not ok():
            if loop.time() > deadline:
                raise AssertionError(f"the engine never saw {what}")
            await asyncio.sleep(0.0002)

    async def book(self, bid: float, ask: float) -> None:
        def ok() -> bool:
            book = self.engine.state.book(SYMBOL)
            return bool(book and book.bids and book.asks and book.bids[0][0] == bid
                        and book.asks[0][0] == ask)
        await self._until(ok, f"the book {bid}/{ask}")

    async def trade(self, trade_id: int) -> None:
        def ok() -> bool:
            trades = self.engine.state.trades(SYMBOL)
            return bool(trades) and max(int(t.id) for t in trades[-5:]) >= trade_id
        await self._until(ok, f"trade {trade_id}")

    async def bar(self, open_ms: int) -> None:
        def ok() -> bool:
            bars = self.engine.state.candles(SYMBOL, "1m")
            return bool(bars) and bars[-1].open_time >= open_ms and not self.engine.evaluating
        await self._until(ok, f"the bar opening at {open_ms}")


def _settings(tmp_path: Path, strategy: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", symbols=[SYMBOL],
        feed={"history_bars": 60, "backoff_initial_s": 0.05, "backoff_max_s": 0.5},
        strategies={"dir": one_minute_copy(tmp_path), "enabled": [strategy],
                    "lookahead_cuts": 2},
        # The engine's clock is the replay's: a bar is a minute of it, as in the backtester.
        risk={"max_orders_per_minute": 10_000},
    )


async def _live_trades(tmp_path: Path, strategy: str, replay: Path) -> tuple[list, list]:
    server = SimServer(seed=7, replay=replay, speed=1.0)
    await server.start()
    settings = _settings(tmp_path, strategy)
    engine = Engine(settings, sim_base_url=server.base_url, clock=server.now_ms)
    lockstep = LockstepReplay(server, EngineGate(engine), slippage_ticks=1)
    task = asyncio.create_task(engine.run())
    try:
        gate = EngineGate(engine)

        def ready() -> bool:
            health = {h.name: h.state for h in engine.snapshot().strategies}
            return (engine.snapshot().phase is EnginePhase.RUNNING and engine.desk.ready
                    and health.get(strategy) is StrategyState.ENABLED
                    and all(server.hub.wanted(f"btcusdt@{s}")
                            for s in ("trade", "depth@100ms", "kline_1m"))
                    and engine.state.book(SYMBOL) is not None)

        await gate._until(ready, "the engine ready to trade")
        await lockstep.run()
    finally:
        engine.submit(Shutdown())
        await asyncio.wait_for(task, 30)
        await server.stop()
    with JournalReader(settings.journal_file) as reader:
        return reader.trades(), reader.open_positions()


def _bar(ms: int) -> int:
    return (ms - START) // MINUTE


@pytest.mark.parametrize("strategy", SHIPPED)
async def test_live_replay_trades_exactly_like_the_backtester(strategy: str, tmp_path: Path):
    frame = candles()
    replay = tmp_path / "BTCUSDT_1m.parquet"
    frame.rename({"open_time": "timestamp_ms"}).write_parquet(replay)

    closed, still_open = await _live_trades(tmp_path, strategy, replay)

    cls = load_directory(one_minute_copy(tmp_path)).strategies[strategy].cls
    assert cls.timeframe == "1m"
    config = BacktestConfig.from_settings(_settings(tmp_path, strategy), rules_for(SYMBOL),
                                          slippage_ticks=1)
    result = run_backtest(cls(), frame, config, symbol=SYMBOL, lower=replay_path_frame(frame))
    expected = [bt for bt in result.trades if bt.exit_reason != "end"]
    ends = [bt for bt in result.trades if bt.exit_reason == "end"]

    def key(side, qty, entry, exit_, opened, closed_ms, fees, pnl):  # noqa: ANN001
        return (side, qty, entry, exit_, _bar(opened), _bar(closed_ms), fees, pnl)

    live = [key(t.side, t.quantity, t.entry_price, t.exit_price, t.opened_ms, t.closed_ms,
                t.fees, t.pnl) for t in closed]
    backtest = [key(b.trade.side, b.trade.quantity, b.trade.entry_price, b.trade.exit_price,
                    b.trade.opened_ms, b.trade.closed_ms, b.trade.fees, b.trade.pnl)
                for b in expected]
    reasons = Counter(b.exit_reason for b in expected)
    assert len(backtest) >= 3, f"{strategy}: too few trades to compare ({reasons})"
    assert live == backtest, f"{strategy}: exits {dict(reasons)}"
    # A position the backtester closes at the end of the data is still open live.
    assert [(p.quantity if p.quantity > 0 else -p.quantity, p.average_entry)
            for p in still_open] == [(b.trade.quantity, b.trade.entry_price) for b in ends]
    assert all(isinstance(t[-1], Decimal) for t in live)
