"""Opening a journal file safely: refuse what is not ours before SQLite may touch it.

A foreign or corrupt file is refused with a :class:`JournalError` naming the file and the
problem, and left byte-identical: the 100-byte header is read with plain ``open()``, then only a
read-only (``mode=ro``) connection looks inside. Nothing is migrated, switched to WAL or chmod-ed
until the file has proven to be a tradeterm journal of a version we know.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING


from tradeterm.journal.schema import APPLICATION_ID, SCHEMA_VERSION, migrate

_MAGIC = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 10_000
SYNCHRONOUS = ("FULL", "NORMAL")


if TYPE_CHECKING:  # the header check before the first frame must not import sqlite-utils
    from sqlite_utils import Database


class JournalError(Exception):
    """The journal cannot be used; the message names the file and the problem."""


def _check_header(path: Path) -> bool:
    """True if ``path`` is empty (a new journal); raise JournalError if it is not ours."""
    try:
        with path.open("rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise JournalError(f"{path}: cannot read the journal: {exc.strerror}") from None
    if not header:
        return True
    if len(header) < 100 or not header.startswith(_MAGIC):
        raise JournalError(f"{path}: not a SQLite database (a foreign or corrupt file); left as is")
    app_id = int.from_bytes(header[68:72], "big")
    if app_id != APPLICATION_ID:
        raise JournalError(
            f"{path}: a SQLite database but not a tradeterm journal "
            f"(application_id {app_id:#x}, expected {APPLICATION_ID:#x}); left as is"
        )
    return False


def connect_readonly(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    """A read-only connection (``mode=ro``) with a busy timeout, for the CLI and the UI.

    ``immutable`` also promises SQLite nobody writes, so it creates no ``-wal``/``-shm`` files:
    for inspecting a file that may not be ours while no writer is running.
    """
    query = "mode=ro&immutable=1" if immutable else "mode=ro"
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?{query}", uri=True, isolation_level=None,
        check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000,
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def inspect(path: Path, *, deep: bool = False) -> int:
    """The schema version of the journal at ``path`` (0: new/empty); JournalError if unusable.

    ``deep`` also runs ``PRAGMA quick_check`` (the writer does, once at start).
    """
    if _check_header(path):
        return 0
    wal = path.with_name(path.name + "-wal")
    try:
        conn = connect_readonly(path, immutable=not wal.exists())
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if deep:
                problems = [row[0] for row in conn.execute("PRAGMA quick_check(5)")]
                if problems != ["ok"]:
                    raise JournalError(
                        f"{path}: the journal is corrupt ({'; '.join(problems)}); left as is"
                    )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"{path}: the journal is corrupt or unreadable ({exc}); left as is") \
            from None
    if version > SCHEMA_VERSION:
        raise JournalError(
            f"{path}: journal schema version {version} is newer than this tradeterm knows "
            f"({SCHEMA_VERSION}); upgrade tradeterm; left as is"
        )
    return version


def preflight(path: Path) -> None:
    """Refuse, before anything starts, a journal the writer could not use: JournalError with one
    line. Reads only: a foreign, corrupt or newer file (:func:`inspect`), a read-only file, or a
    folder that cannot hold a new journal (a file in its way, read-only)."""
    if path.exists() or path.is_symlink():
        inspect(path, deep=True)
        if not os.access(path, os.R_OK | os.W_OK):
            raise JournalError(f"{path}: the journal is read-only; tradeterm writes every order "
                               "and fill to it before acting (make it writable)")
        return
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise JournalError(f"{path}: cannot create the journal: {folder} is a file, not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise JournalError(f"{path}: cannot create the journal: {folder} is read-only")


def open_for_writing(path: Path, synchronous: str = "FULL") -> Database:
    """Create or open, validate, tighten to 0600, migrate and switch to WAL. Writer only.

    The connection belongs to the calling thread (the writer's).
    """
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, got {synchronous!r}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))  # 0600 from the first byte
    except OSError as exc:
        raise JournalError(f"{path}: cannot open the journal for writing: "
                           f"{exc.strerror or exc}") from None
    version = inspect(path, deep=True)
    os.chmod(path, 0o600)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=True)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        from sqlite_utils import Database

        db = Database(conn)
        migrate(db, version)  # in rollback-journal mode on a new file: app id lands in the file
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise JournalError(f"{path}: cannot switch the journal to WAL (mode {mode})")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    except sqlite3.Error as exc:
        conn.close()
        raise JournalError(f"{path}: cannot open the journal for writing: {exc}") from None
    except BaseException:
        conn.close()
        raise
    return db
