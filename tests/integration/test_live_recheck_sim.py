"""The live recheck inside the Engine, on the simulator replaying candles at 600x over real
sockets: a strategy that acted on a guess about the next bar is stopped with the reason once
that bar has closed, while an honest strategy on the same candles keeps emitting."""

from __future__ import annotations

from pathlib import Path

import pytest
from lookahead_samples import RARE_PEEK_SRC, REPAINT_SRC, write

from tradeterm.config import StrategySettings
from tradeterm.core.events import SignalEmitted, StrategyFailed
from tradeterm.core.models import StrategyState
from tradeterm.sim import SimServer

from test_engine_harness import running_engine, settings, until

pytestmark = pytest.mark.integration


async def test_a_repainting_strategy_is_stopped_by_the_recheck_and_the_honest_one_runs_on(
    fast_sim: SimServer, tmp_path: Path
):
    folder = tmp_path / "strategies"
    folder.mkdir()
    write(folder, REPAINT_SRC, "repaint", every=5)
    write(folder, RARE_PEEK_SRC, "honest", every=10**12)  # its peek never fires
    config = settings()
    config.strategies = StrategySettings(dir=folder, enabled=["repaint", "honest"],
                                         lookahead_cuts=2)
    async with running_engine(fast_sim.base_url, config) as run:
        failed = await until(lambda: run.of(StrategyFailed, strategy="repaint"),
                             "the recheck stops the repainting strategy")
        acted = [e.signal for e in run.of(SignalEmitted) if e.signal.strategy == "repaint"]
        assert acted, "it acted on a signal before it was stopped"
        reason = failed[0].reason
        assert f"(open_time {acted[0].bar_time}) was True when it acted and is False" in reason
        assert "the signal depended on bars not yet closed" in reason
        states = {h.name: h for h in run.engine.snapshot().strategies}
        assert states["repaint"].state is StrategyState.FAILED
        assert states["repaint"].last_error == reason
        seen = len([e for e in run.of(SignalEmitted) if e.signal.strategy == "honest"])
        await until(
            lambda: len([e for e in run.of(SignalEmitted) if e.signal.strategy == "honest"])
            > seen + 1 and not run.of(StrategyFailed, strategy="honest"),
            "the honest strategy keeps emitting",
        )
        assert states["honest"].state is StrategyState.ENABLED
