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


async def _live_trades(tmp_path: Path, strategy: str, replay: Path,
                       fills: list | None = None) -> tuple[list, list]:
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
        if fills is not None:
            fills += reader.fills()
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


def _scaled_copy(tmp_path: Path) -> str:
    """ema_cross as a 1m strategy that scales out: half at target_1, a quarter at target_2
    and target_3, the targets at 0.5, 1 and 1.5 R (so that on these candles legs exit at their
    targets, at the stop, together and apart, by the exit signal and not at all)."""
    text = (STRATEGIES / "ema_cross.py").read_text()
    scaled = (text.replace('name = "ema_cross"', 'name = "scaled_ema_cross"')
              .replace('    timeframe = "1h"\n', '    timeframe = "1m"\n'
                       '    scale_out = (0.5, 0.25, 0.25)\n')
              .replace("Field(1.0, gt=0, le=10", "Field(0.5, gt=0, le=10"))
    assert scaled.count("scale_out") == 1 and "Field(0.5, gt=0, le=10" in scaled
    (one_minute_copy(tmp_path) / "scaled_ema_cross.py").write_text(scaled)
    return "scaled_ema_cross"


async def test_live_scale_outs_trade_exactly_like_the_backtester(tmp_path: Path):
    """A strategy giving three targets with sizes: the live bracket's legs exit where the
    backtester's do, leg for leg (every exit fill: bar, price, quantity, fee), and each position
    closes with the backtester's total quantity, fees and PnL."""
    strategy = _scaled_copy(tmp_path)
    frame = candles()
    replay = tmp_path / "BTCUSDT_1m.parquet"
    frame.rename({"open_time": "timestamp_ms"}).write_parquet(replay)

    fills: list = []
    closed, still_open = await _live_trades(tmp_path, strategy, replay, fills)

    cls = load_directory(one_minute_copy(tmp_path)).strategies[strategy].cls
    config = BacktestConfig.from_settings(_settings(tmp_path, strategy), rules_for(SYMBOL),
                                          slippage_ticks=1)
    result = run_backtest(cls(), frame, config, symbol=SYMBOL, lower=replay_path_frame(frame))
    positions: dict[int, list] = {}
    for bt in result.trades:
        positions.setdefault(bt.signal_bar, []).append(bt)
    reasons = Counter(bt.exit_reason for bt in result.trades)
    assert {"target", "stop"} <= set(reasons), reasons
    assert any(len({bt.exit_bar for bt in legs}) > 1 for legs in positions.values())

    # every exit, leg for leg: legs leaving together by one order are one live fill
    exits: Counter = Counter()
    exit_fees: Counter = Counter()
    for bt in result.trades:
        if bt.exit_reason != "end":
            exits[(bt.exit_bar, bt.trade.exit_price)] += bt.trade.quantity
            exit_fees[(bt.exit_bar, bt.trade.exit_price)] += bt.exit_fee
    live_exits: Counter = Counter()
    live_fees: Counter = Counter()
    entries = []
    held = Decimal(0)  # one position at a time: a fill away from flat opens, the rest reduce
    for f in fills:
        signed = f.quantity if f.side == "buy" else -f.quantity
        if held == 0 or (held > 0) == (signed > 0):
            entries.append((_bar(f.timestamp), f.side, f.price, f.quantity, f.fee))
        else:
            live_exits[(_bar(f.timestamp), f.price)] += f.quantity
            live_fees[(_bar(f.timestamp), f.price)] += f.fee
        held += signed
    assert live_exits == exits
    assert live_fees == exit_fees
    assert entries == [
        (legs[0].entry_bar, legs[0].trade.side, legs[0].trade.entry_price,
         sum((bt.trade.quantity for bt in legs), Decimal(0)),
         sum((bt.entry_fee for bt in legs), Decimal(0)))
        for legs in positions.values()]

    # each position as a whole: quantity, entry, bars, fees and PnL
    def whole(legs: list) -> tuple:
        return (legs[0].trade.side, sum((bt.trade.quantity for bt in legs), Decimal(0)),
                legs[0].trade.entry_price, legs[0].entry_bar, max(bt.exit_bar for bt in legs),
                sum((bt.trade.fees for bt in legs), Decimal(0)),
                sum((bt.trade.pnl for bt in legs), Decimal(0)))

    done = [legs for legs in positions.values() if all(bt.exit_reason != "end" for bt in legs)]
    assert len(done) >= 3
    assert [(t.side, t.quantity, t.entry_price, _bar(t.opened_ms), _bar(t.closed_ms), t.fees,
             t.pnl) for t in closed] == [whole(legs) for legs in done]
    left = [legs for legs in positions.values() if any(bt.exit_reason == "end" for bt in legs)]
    assert [(abs(p.quantity), p.average_entry) for p in still_open] == [
        (sum((bt.trade.quantity for bt in legs if bt.exit_reason == "end"), Decimal(0)),
         legs[0].trade.entry_price) for legs in left]
