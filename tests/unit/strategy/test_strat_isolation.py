"""Strategy isolation: each strategy in its own worker process. An endless loop, a runaway
allocation, a crash (``os.abort()``) or a hanging import is contained: that strategy is FAILED
with the reason and its worker killed, while a strategy that signals on every bar keeps
signalling, unaffected. Real worker processes; the strategies are files in a tmp folder."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from strat_samples import always_source, write

from tradeterm.config import StrategySettings
from tradeterm.core.events import StrategyFailed
from tradeterm.core.models import Candle, StrategyState
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.engine import StrategyEngine

LIVE = 3001  # bars handed to on_bar_closed; the guard runs on 300: the bad strategies only
#              misbehave live (height > 3000), so they pass the guard and get enabled first

BAD_SRC = '''
import os
import polars as pl
from tradeterm.strategy import Strategy


class Bad(Strategy):
    name = "aaa"

    def signals(self, frame):
        if frame.height > 3000:
{action}
        return frame.with_columns(
            entry_long=pl.lit(False), entry_short=pl.lit(False),
            exit_long=pl.lit(False), exit_short=pl.lit(False),
        )
'''


def bad_source(action: str) -> str:
    body = "\n".join("            " + line for line in action.strip().splitlines())
    return BAD_SRC.replace("{action}", body)


HANG = "while True:\n    pass"
NUMPY_4GB = "import numpy as np\nglobal keep\nkeep = np.ones(4 * 2**30 // 8)"
POLARS_8GB = "global keep\nkeep = pl.int_range(0, 10**9, eager=True) * 2"
CREEP = "global keep\nkeep = []\nwhile True:\n    keep.append(bytearray(16 * 2**20))"
ABORT = "os.abort()"


class Recorder:
    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> None:
        self.events.append(event)


def engine_for(folder: Path, rec: Recorder, load_timeout_s: float = 30.0,
               **limits: float) -> StrategyEngine:
    settings = StrategySettings(dir=folder, enabled=["aaa", "always"], lookahead_cuts=2, **limits)
    return StrategyEngine(settings, rec, lambda: 1_000, guard_bars=300,
                          load_timeout_s=load_timeout_s)


def bars(n: int, start: int = 0) -> list[Candle]:
    frame = synthetic_candles(n + start, seed=4)
    return [Candle(*row) for row in frame.iter_rows()][start:]


def states(engine: StrategyEngine) -> dict[str, StrategyState]:
    return {h.name: h.state for h in engine.health()}


def reason(engine: StrategyEngine, name: str) -> str:
    return next(h.last_error or "" for h in engine.health() if h.name == name)


def gone(pid: int, within_s: float = 3.0) -> bool:
    """The process ``pid`` no longer runs (a zombie counts as gone)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ")[-1].startswith("Z"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


async def contained(tmp_path: Path, action: str, *, slow: bool = False,
                    **limits: float) -> tuple[StrategyEngine, Recorder]:
    """Load ``aaa`` (sorted first: a serial engine would evaluate it first) and ``always``;
    evaluate one live bar close; check that ``always`` signalled first and ``aaa`` is FAILED
    with its worker gone; then that ``always`` keeps signalling on the following bars."""
    write(tmp_path, "aaa.py", bad_source(action))
    write(tmp_path, "always.py", always_source())
    rec = Recorder()
    engine = engine_for(tmp_path, rec, **limits)
    await engine.load()
    assert states(engine) == {"always": StrategyState.ENABLED, "aaa": StrategyState.ENABLED}
    pid = engine.worker_pid("aaa")
    assert pid is not None and engine.worker_pid("always") not in (None, pid)

    window = bars(LIVE)
    signals = await engine.on_bar_closed("BTC/USDT", "1m", window)
    assert [s.strategy for s in signals] == ["always"]
    kinds = [(type(e).__name__, getattr(e, "strategy", None) or e.signal.strategy)
             for e in rec.events]
    if slow:  # 'always' was not held up by 'aaa': it signalled before aaa failed
        assert kinds == [("SignalEmitted", "always"), ("StrategyFailed", "aaa")]
    else:
        assert sorted(kinds) == [("SignalEmitted", "always"), ("StrategyFailed", "aaa")]
    assert states(engine) == {"always": StrategyState.ENABLED, "aaa": StrategyState.FAILED}
    assert engine.targets("BTC/USDT", "1m") == ["always"]
    assert gone(pid), "the failed strategy's worker still runs"

    for step in range(1, 4):  # the following bars: always keeps signalling, on every bar
        later = await engine.on_bar_closed("BTC/USDT", "1m", bars(LIVE, start=step))
        assert [(s.strategy, s.bar_time) for s in later] == [("always", window[-1].open_time
                                                              + step * 60_000)]
    return engine, rec


async def test_an_endless_loop_times_out_at_the_deadline_and_the_other_strategy_goes_on(tmp_path):
    engine, rec = await contained(tmp_path, HANG, slow=True, eval_timeout_s=1.0)
    close = time.strftime("%H:%M", time.gmtime((bars(LIVE)[-1].open_time + 60_000) / 1000))
    expected = f"timed out after 1 s at the {close} close"
    assert reason(engine, "aaa") == expected
    [failed] = [e for e in rec.events if isinstance(e, StrategyFailed)]
    assert failed.reason == expected
    await engine.close()


@pytest.mark.parametrize("action", [NUMPY_4GB, POLARS_8GB, CREEP],
                         ids=["numpy-4GB", "polars-8GB", "creeping-list"])
async def test_a_runaway_allocation_is_stopped_at_the_memory_limit(tmp_path, action):
    engine, _ = await contained(tmp_path, action, memory_limit_mb=300, eval_timeout_s=60.0)
    assert reason(engine, "aaa") == "over the 300 MB memory limit"
    await engine.close()


async def test_a_crashing_worker_is_reported_with_its_signal(tmp_path):
    engine, _ = await contained(tmp_path, ABORT)
    assert reason(engine, "aaa") == "worker died: signal 6"
    await engine.close()


async def test_a_failed_strategy_restarts_in_a_fresh_worker(tmp_path):
    engine, rec = await contained(tmp_path, HANG, slow=True, eval_timeout_s=1.0)
    old = [e for e in rec.events if isinstance(e, StrategyFailed)]
    health = await engine.enable("aaa")
    assert health is not None and health.state is StrategyState.ENABLED
    assert health.last_error is None
    pid = engine.worker_pid("aaa")
    assert pid is not None
    small = bars(3000, start=5)  # not the live trigger (3000 bars), and a later last bar
    signals = await engine.on_bar_closed("BTC/USDT", "1m", small)
    assert [s.strategy for s in signals] == ["always"]
    assert engine.worker_pid("aaa") == pid and states(engine)["aaa"] is StrategyState.ENABLED
    assert [e for e in rec.events if isinstance(e, StrategyFailed)] == old
    await engine.close()
    assert gone(pid)


async def test_an_import_that_hangs_is_contained_and_the_others_load(tmp_path):
    write(tmp_path, "aaa.py", "while True:\n    pass\n")
    write(tmp_path, "always.py", always_source())
    rec = Recorder()
    engine = engine_for(tmp_path, rec, load_timeout_s=2.0)
    await engine.load()
    assert states(engine) == {"always": StrategyState.ENABLED, "aaa": StrategyState.FAILED}
    assert reason(engine, "aaa").endswith("aaa.py: timed out after 2 s loading the file")
    assert await engine.on_bar_closed("BTC/USDT", "1m", bars(50))
    await engine.close()


async def test_close_stops_a_worker_stuck_in_an_evaluation(tmp_path):
    import asyncio

    write(tmp_path, "aaa.py", bad_source(HANG))
    write(tmp_path, "always.py", always_source())
    engine = engine_for(tmp_path, Recorder(), eval_timeout_s=600.0)
    await engine.load()
    pids = [engine.worker_pid("aaa"), engine.worker_pid("always")]
    evaluation = asyncio.create_task(engine.on_bar_closed("BTC/USDT", "1m", bars(LIVE)))
    await asyncio.sleep(0.5)
    assert not evaluation.done()  # stuck in the endless loop
    evaluation.cancel()
    await asyncio.wait_for(engine.close(), 3.0)
    assert all(pid is not None and gone(pid) for pid in pids)


async def test_a_users_print_is_logged_not_written_to_the_terminal(tmp_path, capfd, caplog):
    import logging

    source = always_source().replace("def signals(self, frame):",
                                     "def signals(self, frame):\n        print('hello from user')")
    write(tmp_path, "always.py", source)
    settings = StrategySettings(dir=tmp_path, enabled=["always"], lookahead_cuts=2)
    engine = StrategyEngine(settings, Recorder(), lambda: 1_000, guard_bars=300)
    with caplog.at_level(logging.INFO, logger="tradeterm.strategy.engine"):
        await engine.load()
        await engine.on_bar_closed("BTC/USDT", "1m", bars(50))
        await engine.close()
    assert "hello from user" not in capfd.readouterr().out
    assert any("strategy always: hello from user" in r.getMessage() for r in caplog.records)


async def test_the_engine_process_never_imports_a_strategy_file(tmp_path):
    """Loading, the guard and evaluation all happen in the worker: the user's module (and any
    side effect of importing it) never exists in this process."""
    import sys

    from tradeterm.strategy.loader import MODULE_PREFIX

    marker = tmp_path / "imported_in"
    source = always_source("probe_isolated", cls="ProbeIsolated").replace(
        "import polars as pl",
        f"import os, polars as pl\nopen({str(marker)!r}, 'a').write(f'{{os.getpid()}}\\n')",
    )
    write(tmp_path, "probe_isolated.py", source)
    settings = StrategySettings(dir=tmp_path, enabled=["probe_isolated"], lookahead_cuts=2)
    engine = StrategyEngine(settings, Recorder(), lambda: 1_000, guard_bars=300)
    await engine.load()
    assert states(engine) == {"probe_isolated": StrategyState.ENABLED}
    assert [s.strategy for s in await engine.on_bar_closed("BTC/USDT", "1m", bars(50))] == [
        "probe_isolated"]
    pids = {int(line) for line in marker.read_text().split()}
    assert pids == {engine.worker_pid("probe_isolated")}  # imported there, once
    assert f"{MODULE_PREFIX}probe_isolated" not in sys.modules
    await engine.close()
