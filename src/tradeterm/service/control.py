"""Which engine runs on a journal, and stopping it (``tradeterm engine status | stop``).

The engine's journal lock (``journal/lock.py``) is the one source of truth: an engine runs on a
journal exactly while some process holds the lock's ``flock``; the lock file names the pid that
took it. A name in a file is not proof, though (a stale file, a pid since reused, a hand-edited
file): before a signal goes anywhere, :func:`verified_pid` checks with the kernel that this very
pid holds the lock (``/proc/locks``; else that it has the lock file open).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tradeterm.journal.lock import LockHolder, engine_holding, lock_path

STOP_WAIT_S = 15.0


@dataclass(frozen=True, slots=True)
class Running:
    """An engine on a journal: who the lock file says it is, and whether the kernel agrees."""

    journal: Path
    holder: LockHolder
    verified: bool  # the lock file's pid really holds the lock

    @property
    def pid(self) -> int | None:
        return self.holder.pid


def _flock_holders(path: Path) -> set[int] | None:
    """Pids holding a ``flock`` on ``path`` per ``/proc/locks``; None when it cannot tell."""
    try:
        st = os.stat(path)
        text = Path("/proc/locks").read_text()
    except OSError:
        return None
    dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    pids: set[int] = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 6 or fields[1] == "->" or fields[1] != "FLOCK":
            continue  # a waiter ("->"), or a POSIX/OFD lock: not the engine's
        if fields[5].lower() == dev:
            pids.add(int(fields[4]))
    return pids


def _has_open(pid: int, path: Path) -> bool:
    """``pid`` has ``path`` open (its /proc fd links; readable for our own processes)."""
    try:
        st = os.stat(path)
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            target = os.stat(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if (target.st_dev, target.st_ino) == (st.st_dev, st.st_ino):
            return True
    return False


def verified_pid(journal: Path, pid: int) -> bool:
    """``pid`` holds ``journal``'s engine lock, by the kernel's account (see the docstring)."""
    path = lock_path(journal)
    holders = _flock_holders(path)
    if holders:
        return pid in holders
    return _has_open(pid, path)


def running(journal: Path) -> Running | None:
    """The engine running on ``journal``, or None."""
    holder = engine_holding(journal)
    if holder is None:
        return None
    ok = holder.pid is not None and verified_pid(journal, holder.pid)
    return Running(journal, holder, ok)


def process_command(pid: int) -> str | None:
    """``pid``'s command line (``/proc/<pid>/cmdline``), or None."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part) or None


def wait_released(
    journal: Path, timeout_s: float = STOP_WAIT_S, *, poll_s: float = 0.1,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Wait until no engine holds ``journal`` (True), at most ``timeout_s`` (False)."""
    deadline = time.monotonic() + timeout_s
    while engine_holding(journal) is not None:
        if time.monotonic() >= deadline:
            return False
        sleep(poll_s)
    return True


def terminate(engine: Running) -> None:
    """SIGTERM to the engine: only to a pid the kernel says holds the lock (raises
    ``PermissionError``/``ProcessLookupError`` as ``os.kill`` does, ValueError if unverified)."""
    if engine.pid is None or not verified_pid(engine.journal, engine.pid):
        raise ValueError("the lock file's pid does not hold the engine lock")
    os.kill(engine.pid, signal.SIGTERM)
