"""The journal's only writer: one thread owns the SQLite connection, fed by a queue.

Why a thread: the engine's asyncio loop must never wait on disk. ``write()`` converts records to
rows on the caller's side (a bad record fails at once, in the caller) and returns a
``concurrent.futures.Future``; ``await commit(...)`` is the same, awaited. The thread drains
everything queued, commits it in ONE transaction (group commit: one fsync for many fills), then
resolves the futures in submission order. A record is durable when its future resolves.

Durability: ``synchronous=FULL`` (the default) fsyncs the WAL at every commit, so a resolved
future survives a process crash AND a power loss. ``NORMAL`` in WAL mode survives a process
crash (SIGKILL) but may lose the last transactions on power loss or an OS crash; it is offered
for slow disks. Group commit is what makes FULL affordable (see ``benchmarks/journal.py``).

Failure (disk full, I/O error): the transaction is rolled back (the file stays consistent and
everything committed before stays readable), the batch's futures fail with
:class:`JournalWriteError`, ``on_failure`` is called (the engine HALTs trading), and the rows are
kept in memory and retried with the next batch or every ``retry_interval_s``; ``on_recovered`` is
called once they land. Callbacks run on the writer thread: hop to the loop with
``loop.call_soon_threadsafe``.

While halted, low-value rows (signals that placed no order, order denials: a strategy keeps
signalling into a halted desk) are coalesced instead of queued one by one: one row per kind
(strategy, symbol, status, reason...) with a ``coalesced`` count, at most
:data:`COALESCE_KEYS` of them. Why: queued one by one they would fill the space a user frees
within seconds, and be lost at close. A write made only of such rows resolves at once (it is
queued, not yet durable: the desk shows a denial without waiting for the disk). When commits
succeed again, the kept rows land first (nothing committed or accepted is lost) and the
coalesced ones after them, in their own transaction, if they fit; if not they wait for the next
retry. See ``docs/journal.md``.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from tradeterm.journal.files import JournalError, open_for_writing
from tradeterm.journal.records import RunRecord
from tradeterm.journal.rows import Write, rows_for
from tradeterm.journal.stats_checkpoint import StatsCheckpoint

log = logging.getLogger(__name__)

_STOP = object()
COALESCE_KEYS = 1_000
"""Distinct coalesced rows kept while halted; past it, rows merge per table and strategy."""
_CHECKPOINTED = frozenset({"positions", "equity"})  # tables the statistics' checkpoint follows
_KEY_FIELDS = {
    "signals": ("run_id", "strategy", "symbol", "timeframe", "kind", "side", "status", "reason"),
    "risk_events": ("run_id", "kind", "rule", "reason", "symbol", "side", "strategy"),
}


def low_value(write: Write) -> bool:
    """A row a halted journal coalesces: a signal that placed no order, an order denial."""
    op, table, row = write
    if op != "insert":
        return False
    if table == "signals":  # one that led to an order is kept: the order refers to it
        return row.get("order_id") is None and row.get("status") != "submitted"
    return table == "risk_events" and row.get("kind") == "denied"


class JournalWriteError(JournalError):
    """A batch could not be committed; its rows are kept in memory and retried."""


_Item = tuple[list[Write], Future[None]] | tuple[Callable[[Database], Any], Future[Any]]


class JournalWriter:
    """Owns the journal file; see the module docstring. Use as a context manager or start/close."""

    def __init__(
        self,
        path: Path,
        *,
        run: RunRecord | None = None,
        synchronous: str = "FULL",
        on_failure: Callable[[JournalWriteError], None] | None = None,
        on_recovered: Callable[[], None] | None = None,
        retry_interval_s: float = 1.0,
        max_batch: int = 20_000,
    ) -> None:
        self.path = Path(path)
        self._run = run
        self._synchronous = synchronous
        self._on_failure = on_failure
        self._on_recovered = on_recovered
        self._retry_interval_s = retry_interval_s
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._open_error: BaseException | None = None
        self._retry: list[Write] = []
        self._coalesced: dict[tuple[Any, ...], tuple[dict[str, Any], int]] = {}
        self._checkpoint: StatsCheckpoint | None = None
        self._sql: dict[tuple[str, str, tuple[str, ...]], str] = {}
        self.run_id: int | None = None
        self.error: JournalWriteError | None = None  # set while the journal cannot commit

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> JournalWriter:
        """Open (validate, migrate, WAL) on the writer thread; JournalError if refused."""
        self._thread = threading.Thread(target=self._main, name="journal-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._open_error is not None:
            self._thread.join()
            raise self._open_error
        return self

    def close(self, timeout: float | None = 30.0) -> None:
        """Commit what is queued, then close the file (WAL checkpointed by SQLite)."""
        if self._thread is None or not self._thread.is_alive():
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def __enter__(self) -> JournalWriter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def healthy(self) -> bool:
        return self.error is None

    @property
    def pending_retry(self) -> int:
        """Rows that failed to commit and wait in memory for the next attempt."""
        return len(self._retry)

    @property
    def coalesced(self) -> int:
        """Low-value rows accepted while halted and not yet written (as count rows)."""
        return sum(n for _, n in self._coalesced.values())

    # -- API -------------------------------------------------------------------------------

    def write(self, *records: object) -> Future[None]:
        """Queue ``records`` (committed together, atomically); the future resolves when durable.

        TypeError at once for a record the journal cannot store.
        """
        writes = [w for record in records for w in rows_for(record, self.run_id)]
        future: Future[None] = Future()
        self._queue.put((writes, future))
        return future

    async def commit(self, *records: object) -> None:
        """Write ``records`` and wait, without blocking the loop, until they are durable."""
        await asyncio.wrap_future(self.write(*records))

    def flush(self, timeout: float | None = None) -> None:
        """Block until everything queued before this call is committed (or has failed)."""
        try:
            self.write().result(timeout)
        except JournalWriteError:
            pass

    def set_max_size(self, max_bytes: int | None) -> None:
        """Cap the file size (SQLite ``max_page_count``): past it writes fail as on a full disk."""
        def apply(db: Database) -> None:
            page = db.execute("PRAGMA page_size").fetchone()[0]
            pages = 4_294_967_294 if max_bytes is None else max(1, max_bytes // page)
            db.execute(f"PRAGMA max_page_count = {pages}")

        self._call(apply).result()

    def transaction(self, fn: Callable[[Database], Any]) -> Future[Any]:
        """Run ``fn(db)`` on the writer thread in one transaction, after everything queued
        before it; the future holds its result. For writes that need the ids of the rows they
        insert (a backtest and its trades); an exception rolls the transaction back and fails
        the future."""
        def atomic(db: Database) -> Any:
            with db.atomic():
                return fn(db)

        return self._call(atomic)

    def _call(self, fn: Callable[[Database], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._queue.put((fn, future))
        return future

    # -- the thread ------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            db = open_for_writing(self.path, self._synchronous)
            if self._run is not None:
                with db.atomic():
                    self.run_id = self._insert(db, "insert", "runs", {
                        "started_ms": self._run.started_ms, "version": self._run.version,
                        "mode": self._run.mode, "config_hash": self._run.config_hash,
                    })
        except BaseException as exc:  # reported to start()'s caller
            self._open_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop(db)
        finally:
            db.close()

    def _loop(self, db: Database) -> None:
        self._stats_checkpoint(db)  # a journal written before the checkpoint catches up once
        while True:
            try:
                waiting = self._retry or self._coalesced
                first = self._queue.get(timeout=self._retry_interval_s if waiting else None)
            except queue.Empty:
                first = None  # a retry tick
            batch = [] if first is None else [first]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = False
            writes: list[tuple[list[Write], Future[None]]] = []
            for item in batch:
                if item is _STOP:
                    stop = True
                elif callable(item[0]):
                    self._commit(db, writes)  # keep the order: what came before goes first
                    writes = []
                    self._run_call(db, *item)
                else:
                    writes.append(item)
            self._commit(db, writes)
            if stop:
                if self._retry or self._coalesced:
                    log.error("%s: closing with %d rows that could not be committed and %d "
                              "coalesced signals and denials", self.path, len(self._retry),
                              self.coalesced)
                return

    @staticmethod
    def _run_call(db: Database, fn: Callable[[Database], Any], future: Future[Any]) -> None:
        try:
            future.set_result(fn(db))
        except Exception as exc:  # reported to the caller of _call
            future.set_exception(exc)

    def _commit(self, db: Database, items: list[tuple[list[Write], Future[None]]]) -> None:
        halted = self.error is not None
        if halted:
            items = self._coalesce(items)
        rows = self._retry + [w for writes, _ in items for w in writes]
        futures = [future for _, future in items]
        if rows:
            try:
                with db.atomic():
                    for op, table, row in rows:
                        self._insert(db, op, table, row)
                    if any(table in _CHECKPOINTED for _, table, _ in rows):
                        self._advance_checkpoint(db)  # in the same transaction
            except sqlite3.Error as exc:
                self._checkpoint = None  # rolled back with the rows: reloaded next time
                self._failed(rows, futures, exc)
                return
        for future in futures:
            if not future.done():
                future.set_result(None)
        if halted and not rows and not (self._coalesced and self._write_coalesced(db)):
            return  # nothing landed: no proof yet that the disk has room again
        self._retry = []
        self.error = None
        if halted and self._on_recovered is not None:
            self._callback(self._on_recovered)
        if self._coalesced:
            self._write_coalesced(db)

    def _advance_checkpoint(self, db: Database) -> None:
        """Feed the statistics' checkpoint what was just inserted (call inside a transaction)."""
        if self._checkpoint is None:
            self._checkpoint = StatsCheckpoint.load(db.conn)
            if self._checkpoint is None:
                return
        self._checkpoint.catch_up(db.conn)
        self._checkpoint.save(db.conn)

    def _stats_checkpoint(self, db: Database) -> None:
        try:
            with db.atomic():
                self._advance_checkpoint(db)
        except sqlite3.Error as exc:  # a full disk: the checkpoint waits, readers stream
            self._checkpoint = None
            log.warning("%s: statistics checkpoint not updated (%s)", self.path, exc)

    def _coalesce(
        self, items: list[tuple[list[Write], Future[None]]]
    ) -> list[tuple[list[Write], Future[None]]]:
        """Take the low-value rows out of ``items`` into the coalesced counts; a write left with
        nothing else is resolved (queued)."""
        kept: list[tuple[list[Write], Future[None]]] = []
        for writes, future in items:
            rest = [w for w in writes if not low_value(w)]
            for write in writes:
                if low_value(write):
                    self._add_coalesced(write)
            if rest or not writes:
                kept.append((rest, future))
            elif not future.done():
                future.set_result(None)
        return kept

    def _add_coalesced(self, write: Write) -> None:
        _, table, row = write
        key = (table, *(row.get(f) for f in _KEY_FIELDS[table]))
        if key not in self._coalesced and len(self._coalesced) >= COALESCE_KEYS:
            key = (table, row.get("strategy"))  # too many kinds: one row per strategy
            row = {**row, "reason": "(various reasons)"}
        first, n = self._coalesced.get(key, (row, 0))
        self._coalesced[key] = (first, n + 1)

    def _write_coalesced(self, db: Database) -> bool:
        """The coalesced rows, once the kept rows have landed; kept for later if they do not
        fit (they never halt trading on their own)."""
        try:
            with db.atomic():
                for table, row, n in ((k[0], r, n) for k, (r, n) in self._coalesced.items()):
                    self._insert(db, "insert", table, {**row, "coalesced": n})
        except sqlite3.Error as exc:
            log.warning("%s: %d coalesced signals and denials do not fit yet (%s): retried",
                        self.path, self.coalesced, exc)
            return False
        self._coalesced = {}
        return True

    def _failed(self, rows: list[Write], futures: list[Future[None]], exc: sqlite3.Error) -> None:
        for write in rows:
            if low_value(write):
                self._add_coalesced(write)
        rows = [w for w in rows if not low_value(w)]
        self._retry = rows
        self.error = JournalWriteError(
            f"{self.path}: could not commit to the journal ({exc}); "
            f"{len(rows)} rows kept in memory and retried"
        )
        log.error("%s", self.error)
        for future in futures:
            if not future.done():
                future.set_exception(self.error)
        if self._on_failure is not None:
            self._callback(self._on_failure, self.error)

    @staticmethod
    def _callback(fn: Callable[..., None], *args: object) -> None:
        try:
            fn(*args)
        except Exception:  # a broken callback must not stop the journal
            log.exception("journal callback %r failed", fn)

    def _insert(self, db: Database, op: str, table: str, row: dict[str, Any]) -> int | None:
        key = (op, table, tuple(row))
        sql = self._sql.get(key)
        if sql is None:
            if op == "clear":
                sql = f"DELETE FROM [{table}]"
            else:
                verb = "INSERT OR REPLACE" if op == "replace" else "INSERT"
                cols = ", ".join(f"[{c}]" for c in row)
                sql = f"{verb} INTO [{table}] ({cols}) VALUES ({', '.join('?' * len(row))})"
            self._sql[key] = sql
        return db.conn.execute(sql, tuple(row.values())).lastrowid
