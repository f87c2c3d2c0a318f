"""One engine per journal: an exclusive lock file beside it (``journal.sqlite.lock``).

Two engines writing one journal silently lost a position (each restored the account, traded
and journaled its own view of it). The engine takes this lock before the journal opens and
holds it until it closes; a second engine on the same journal is refused with one line naming
the running engine's pid. Read-only views (``tradeterm journal ...``) never take it, so they
keep working while an engine runs. ``tradeterm backtest`` storing a result is not an engine
either: SQLite serialises its one insert with the engine's writer.

``flock`` belongs to the open file: the kernel drops it when the process ends, however it ends
(a SIGKILL leaves no stale lock to clean up). The file itself stays; it holds who has the lock
(pid, start time, command) as JSON for the refusal message.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tradeterm.journal.files import JournalError

try:
    import fcntl
except ImportError:  # not a POSIX system: no lock (the engine runs as before)
    fcntl = None  # type: ignore[assignment]


class EngineLockedError(JournalError):
    """Another engine holds the journal; the message names its pid and what to do."""


@dataclass(frozen=True, slots=True)
class LockHolder:
    pid: int | None
    started_ms: int | None
    command: str | None


def lock_path(journal: Path) -> Path:
    return journal.with_name(journal.name + ".lock")


def _read_holder(fd: int) -> LockHolder:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        data = json.loads(os.read(fd, 4096).decode() or "{}")
    except (OSError, ValueError):
        data = {}
    pid, started, command = data.get("pid"), data.get("started_ms"), data.get("command")
    return LockHolder(pid if isinstance(pid, int) else None,
                      started if isinstance(started, int) else None,
                      command if isinstance(command, str) else None)


def refusal(journal: Path, holder: LockHolder) -> str:
    """The one line a second engine prints."""
    who = f"pid {holder.pid}" if holder.pid is not None else "another process"
    if holder.started_ms is not None:
        when = datetime.fromtimestamp(holder.started_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
        who += f", started {when} UTC"
    return (f"{journal}: another tradeterm engine is running on this journal ({who}); "
            "`tradeterm attach` opens the workstation on it, `tradeterm engine stop` stops it, "
            "or give this engine its own journal (journal_path in config.toml); "
            "`tradeterm journal ...` reads it meanwhile")


class EngineLock:
    """Held by the running engine (see the module docstring). ``acquire`` raises
    :class:`EngineLockedError` when another engine holds it."""

    def __init__(self, journal: Path) -> None:
        self.journal = journal
        self.path = lock_path(journal)
        self._fd: int | None = None

    def acquire(self) -> None:
        if fcntl is None or self._fd is not None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot create the engine lock: "
                               f"{exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_holder(fd)
            os.close(fd)
            raise EngineLockedError(refusal(self.journal, holder)) from None
        record = {"pid": os.getpid(), "started_ms": time.time_ns() // 1_000_000,
                  "command": " ".join(["tradeterm", *sys.argv[1:]])}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None and fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def engine_holding(journal: Path) -> LockHolder | None:
    """Who holds ``journal``'s engine lock, or None when no engine runs on it. Takes and drops
    the lock to find out (never creates the lock file)."""
    path = lock_path(journal)
    if fcntl is None or not path.is_file():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return _read_holder(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
