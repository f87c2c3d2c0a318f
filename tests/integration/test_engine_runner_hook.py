"""The runner's hook (where the socket server starts beside the engine): it starts only once the
engine holds its journal, runs beside it, and is cancelled when the engine stops; an engine
refused by the lock never starts it; a hook that raises does not take the engine down. A real
engine on the demo market (its simulator over loopback), a real journal."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradeterm.config import Settings
from tradeterm.core.commands import Shutdown
from tradeterm.engine import Engine
from tradeterm.journal.lock import engine_holding
from tradeterm.service.runner import run_engine

pytestmark = pytest.mark.integration

HOLDER = """
import sys, time
from pathlib import Path
from tradeterm.journal.lock import EngineLock
EngineLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
time.sleep(600)
"""


def _settings(tmp_path: Path) -> Settings:
    return Settings(demo=True, data_dir=tmp_path / "data", symbols=["BTC/USDT"])


async def test_hook_runs_beside_the_engine_once_it_holds_the_journal(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    seen: dict[str, object] = {}

    async def hook(engine: Engine) -> None:
        holder = engine_holding(settings.journal_file)
        seen["holder"] = holder.pid if holder is not None else None
        seen["ready"] = engine.desk.ready
        try:
            await asyncio.sleep(0.2)
            engine.submit(Shutdown())
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            seen["cancelled"] = engine_holding(settings.journal_file) is None
            raise

    await asyncio.wait_for(run_engine(settings, extra=hook), timeout=90)
    assert seen == {"holder": os.getpid(), "ready": True, "cancelled": True}


async def test_a_hook_that_raises_leaves_the_engine_running(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    engines: list[Engine] = []

    async def broken(engine: Engine) -> None:
        engines.append(engine)
        raise RuntimeError("the server could not bind")

    async def stop_later() -> None:
        while not engines:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert engine_holding(settings.journal_file) is not None  # still running
        engines[0].submit(Shutdown())

    stopper = asyncio.create_task(stop_later())
    await asyncio.wait_for(run_engine(settings, extra=broken), timeout=90)
    await stopper


async def test_an_engine_refused_by_the_lock_never_starts_the_hook(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(settings.journal_file)],
                              text=True, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    started: list[Engine] = []

    async def hook(engine: Engine) -> None:
        started.append(engine)

    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        task = asyncio.create_task(run_engine(settings, extra=hook))
        await asyncio.sleep(3)  # long past the journal step, which comes first
        assert not task.done()
        os.kill(os.getpid(), 2)  # SIGINT: the runner's handler shuts the engine down
        await asyncio.wait_for(task, timeout=60)
        assert started == []
    finally:
        holder.kill()
        holder.wait(timeout=10)
