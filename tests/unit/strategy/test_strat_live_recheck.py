"""The live recheck through the strategy engine and its real worker processes: a strategy whose
signal on a bar it acted on changes once later bars exist is stopped 3 bars later, with the
reason; an honest one (and the rare peeker the backtest guard catches) keeps running."""

from __future__ import annotations

import polars as pl
import pytest
from lookahead_samples import RARE_PEEK_SRC, REPAINT_SRC, write

from tradeterm.config import StrategySettings
from tradeterm.core.events import SignalEmitted, StrategyFailed
from tradeterm.core.models import StrategyState
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.engine import StrategyEngine


class Recorder:
    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> None:
        self.events.append(event)

    def of(self, cls):
        return [e for e in self.events if isinstance(e, cls)]


def engine_for(tmp_path, names, rec):
    settings = StrategySettings(dir=tmp_path, enabled=names, lookahead_cuts=4)
    return StrategyEngine(settings, rec, lambda: 1_000, guard_bars=300)


async def feed(engine, frame: pl.DataFrame, first: int, history: int = 120) -> int:
    """Close the bars ``first..`` one by one (each evaluation sees ``history`` closed bars, as
    live); the number of bars closed before the engine had no strategy left to run."""
    for end in range(first, frame.height + 1):
        if not engine.targets("BTC/USDT", "1m"):
            return end
        await engine.on_bar_closed("BTC/USDT", "1m", frame.slice(max(0, end - history),
                                                                  min(end, history)))
    return frame.height + 1


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_repainting_strategy_is_stopped_three_bars_after_it_acted(tmp_path, seed):
    write(tmp_path, REPAINT_SRC, "repaint", every=37)
    rec = Recorder()
    engine = engine_for(tmp_path, ["repaint"], rec)
    try:
        await engine.load()
        assert {h.name: h.state for h in engine.health()} == {"repaint": StrategyState.ENABLED}
        frame = synthetic_candles(400, seed=seed)
        await feed(engine, frame, 60)
        [signal] = [e.signal for e in rec.of(SignalEmitted)]  # it acted once, then stopped
        [failed] = rec.of(StrategyFailed)
        assert failed.strategy == "repaint"
        assert ("entry_long at the bar of" in failed.reason
                and f"(open_time {signal.bar_time}) was True when it acted and is False 3 bars "
                "later" in failed.reason)
        health = {h.name: h for h in engine.health()}["repaint"]
        assert health.state is StrategyState.FAILED and health.last_error == failed.reason
        assert engine.worker_pid("repaint") is None  # its worker is gone
    finally:
        await engine.close()


async def test_the_rare_peeker_is_refused_at_enable_by_the_fired_bar_check(tmp_path):
    """It cannot fire live on the bars it peeks at (the next bar does not exist yet), so the
    guard run when it is enabled (every fired bar of the synthetic candles) refuses it."""
    write(tmp_path, RARE_PEEK_SRC, "rare_peek", every=37)
    rec = Recorder()
    engine = engine_for(tmp_path, ["rare_peek"], rec)
    try:
        await engine.load()
        [failed] = rec.of(StrategyFailed)
        assert failed.reason.startswith("look-ahead at bar ")
        assert "entry_long is True with the later bars, False without them" in failed.reason
        assert engine.targets("BTC/USDT", "1m") == []
    finally:
        await engine.close()


async def test_an_honest_strategy_keeps_running_through_its_rechecks(tmp_path):
    write(tmp_path, RARE_PEEK_SRC, "honest", every=10**12)  # the peek never fires
    rec = Recorder()
    engine = engine_for(tmp_path, ["honest"], rec)
    try:
        await engine.load()
        frame = synthetic_candles(400, seed=2)
        assert await feed(engine, frame, 60) == frame.height + 1
        assert len(rec.of(SignalEmitted)) >= 10 and not rec.of(StrategyFailed)
    finally:
        await engine.close()
