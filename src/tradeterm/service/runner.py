"""The engine in the foreground, with no screen: ``tradeterm engine start`` (and its alias
``tradeterm run --headless``), under systemd, in tmux, or detached (``service/detach.py`` starts
this same command in a new session).

What it says goes through :class:`~tradeterm.service.status_log.StatusLog`: the restored
account, one line per event, a status line every ``[service] status_every_s``. SIGINT or SIGTERM
shut the engine down cleanly (streams cancelled, the exchange client closed, the journal
closed), and ``main`` returns 0.

The engine serves its socket (``service/hosted.py``: screens attach with ``tradeterm attach``).

**The hook.** ``extra`` (anything else that should live beside the engine) runs as a task,
started only once the engine holds its journal (the lock is taken and the account restored: a second
engine refused by the lock never starts it), and cancelled once ``Engine.run`` has returned
(the engine stopped, its journal closed), so it sees the engine's last events. A hook that
raises is logged and the engine trades on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tradeterm.config import Settings
from tradeterm.core.commands import Shutdown
from tradeterm.core.events import Event, ReplayFinished
from tradeterm.service.logs import log_file
from tradeterm.service.status_log import StatusLog

if TYPE_CHECKING:
    from tradeterm.engine import Engine

log = logging.getLogger(__name__)

EngineHook = Callable[["Engine"], Awaitable[None]]
"""Runs beside the engine once it holds its journal; cancelled when the engine has stopped."""


def _same_file(stream: TextIO, path: Path) -> bool:
    """``stream`` writes to ``path`` (a detached engine's stdout and stderr are its log)."""
    try:
        a, b = os.fstat(stream.fileno()), os.stat(path)
    except (OSError, ValueError):  # no descriptor (a test's capture), or no log yet
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _emitter(settings: Settings) -> Callable[..., None]:
    """Each line to the log and to stdout, once: a detached engine's stdout *is* its log.
    ``logged=True``: the line is in the log already (the desk logs ``restored:``)."""
    to_stdout = not _same_file(sys.stdout, log_file(settings))

    def emit(line: str, *, logged: bool = False) -> None:
        if not logged:
            log.info("%s", line)
        if to_stdout:
            print(line, flush=True)

    return emit


async def run_engine(settings: Settings, *, extra: EngineHook | None = None) -> None:
    """Run the engine until SIGINT, SIGTERM or a ``Shutdown`` command (see the module
    docstring for ``extra``)."""
    from tradeterm.service.hosted import served_engine

    engine = served_engine(settings)  # its socket server starts once it holds the journal
    emit = _emitter(settings)
    status = StatusLog(engine.snapshot, emit, every_s=settings.service.status_every_s,
                       limit_pct=settings.risk.daily_loss_limit_pct)
    tasks: list[asyncio.Task[None]] = []

    async def guarded(hook: EngineHook) -> None:
        try:
            await hook(engine)
        except asyncio.CancelledError:
            raise
        except Exception:  # a broken hook must not take the engine down: say so, trade on
            log.exception("engine hook %r failed", hook)
            emit(f"engine hook failed: {getattr(hook, '__name__', hook)} (see the log)")

    def restored(line: str) -> None:  # the journal is open and locked: this engine is the one
        emit(line, logged=True)
        tasks.append(asyncio.create_task(status.run(), name="service:status"))
        if extra is not None:
            tasks.append(asyncio.create_task(guarded(extra), name="service:extra"))

    engine.add_listener(status.on_event)

    def replay_finished(event: Event) -> None:
        if isinstance(event, ReplayFinished):  # a headless replay ends with its file
            engine.submit(Shutdown())

    if settings.replaying:
        engine.add_listener(replay_finished)
    engine.desk.on_restored = restored  # "restored: balance=... positions=N orders=M ..."
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, engine.submit, Shutdown())
    market = "demo market" if settings.demo else settings.exchange
    if settings.replaying:
        market = f"replay of {', '.join(str(f) for f in settings.sim.replay_files)}"
    emit(f"tradeterm engine: pid {os.getpid()}, {settings.mode} mode, {market}, "
         f"journal {settings.journal_file}; Ctrl-C or SIGTERM stops")
    try:
        await engine.run()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def main(settings: Settings, *, extra: EngineHook | None = None) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_engine(settings, extra=extra))
    log.info("tradeterm engine: stopped")
    if not _same_file(sys.stderr, log_file(settings)):
        print("tradeterm engine: stopped", file=sys.stderr, flush=True)
    return 0
