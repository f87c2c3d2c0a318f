"""The Engine paper-trading a strategy against the replaying simulator (a 1m bar every 0.1 s),
over real sockets with unmodified ccxt and a real journal in tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tradeterm.config import StrategySettings
from tradeterm.core.commands import KillSwitch
from tradeterm.core.events import Event, OrderFilled, TradingStateChanged
from tradeterm.journal import JournalReader, load_state
from tradeterm.sim import SimServer

from test_crash_recovery import STRATEGY
from test_engine_harness import running_engine, settings, until

pytestmark = pytest.mark.integration


async def test_strategy_fills_are_journaled_before_published_then_kill_switch_flattens(
    fast_sim: SimServer, tmp_path: Path
):
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "flip.py").write_text(textwrap.dedent(STRATEGY))
    config = settings()
    config.journal_path = tmp_path / "journal.sqlite"
    config.strategies = StrategySettings(dir=folder, enabled=["flip"], lookahead_cuts=2)
    readable: list[bool] = []

    def check(event: Event) -> None:
        if isinstance(event, OrderFilled):
            with JournalReader(config.journal_file) as reader:
                readable.append(event.fill.id in {f.id for f in reader.fills()})

    async with running_engine(fast_sim.base_url, config) as run:
        run.engine.add_listener(check)
        await until(lambda: len(readable) >= 5 and run.engine.desk.broker.positions(),
                    "fills and an open position")
        assert all(readable)
        snap = run.engine.snapshot()
        assert snap.account is not None and snap.trading_state == "active"
        run.engine.submit(KillSwitch("end of test"))
        await until(lambda: run.of(TradingStateChanged, state="halted"), "the halt")
        await until(lambda: not run.engine.desk.broker.positions()
                    and not run.engine.desk.broker.working_orders(), "flat, nothing working")
        await until(lambda: run.engine.snapshot().trading_state == "halted", "snapshot halted")
    state = load_state(config.journal_file)
    assert state.positions == () and state.orders == ()
    with JournalReader(config.journal_file) as reader:
        statuses = {s for (s,) in reader.db.execute("SELECT status FROM signals")}
        assert "submitted" in statuses
        assert reader.db.execute("SELECT count(*) FROM commands").fetchone() == (1,)
