"""A checkpoint of the trade statistics, kept in the journal, so ``journal stats`` reads a few
hundred rows instead of every trade.

Why it equals the full computation bit for bit: the statistics are sequential Decimal sums in
closing order (28-digit sums round, so order matters). The checkpoint is exactly the state of
:class:`~tradeterm.journal.stats.TradeGroups` after the trades up to ``trade_rowid``, fed in
rowid order; that is closing order as long as every new trade closes at or after the last one
(ties: ``ORDER BY closed_ms, rowid`` puts the later rowid last too). Catching up checks it row by
row; a trade that breaks it invalidates the checkpoint for good and ``stats`` streams every
trade instead. The equity curve's drawdown is kept the same way.

The writer catches up on open and in the transaction of every commit that adds trades or equity
points (a few rows updated); a reader catches up in memory on what was added since (a journal
written by older code or bulk-inserted). Journals never delete or change closed trades.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from tradeterm.journal.stats import (
    DAY_MS,
    DrawdownAccumulator,
    GroupedStats,
    StatsAccumulator,
    TradeGroups,
    accumulator_from_state,
    accumulator_state,
)

TABLE = "stats_checkpoint"
CHUNK = 10_000


class StatsCheckpoint:
    """See the module docstring."""

    def __init__(self) -> None:
        self.groups = TradeGroups()
        self.trade_rowid = 0
        self.closed_ms: int | None = None
        self.trades_ok = True
        self.curve = DrawdownAccumulator()
        self.equity_rowid = 0
        self.equity_ts: int | None = None
        self.equity_ok = True
        self._dirty: set[str] = set()

    # -- load and save -------------------------------------------------------------------------

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> StatsCheckpoint | None:
        """The stored checkpoint (empty if none yet); None if the schema has no such table."""
        try:
            rows = conn.execute(f"SELECT key, state FROM {TABLE}").fetchall()
        except sqlite3.OperationalError:
            return None  # a journal from before schema 4
        cp = cls()
        for key, text in rows:
            state = json.loads(text)
            if key == "meta":
                cp.trade_rowid, cp.closed_ms, cp.trades_ok = (
                    state["trade_rowid"], state["closed_ms"], state["trades_ok"])
                cp.equity_rowid, cp.equity_ts, cp.equity_ok = (
                    state["equity_rowid"], state["equity_ts"], state["equity_ok"])
                peak = state["equity_peak"]
                cp.curve.peak = None if peak is None else Decimal(peak)
                cp.curve.worst = Decimal(state["equity_worst"])
                cp.curve.points = state["equity_points"]
            elif key == "all":
                cp.groups.overall = accumulator_from_state(state)
            elif key.startswith("strategy:"):
                cp.groups.strategies[key[9:]] = accumulator_from_state(state)
            elif key.startswith("day:"):
                cp.groups.days[int(key[4:])] = accumulator_from_state(state)
        return cp

    def save(self, conn: sqlite3.Connection) -> None:
        """Write what changed since the last save (call inside the writer's transaction)."""
        if not self._dirty:
            return
        meta = {
            "trade_rowid": self.trade_rowid, "closed_ms": self.closed_ms,
            "trades_ok": self.trades_ok, "equity_rowid": self.equity_rowid,
            "equity_ts": self.equity_ts, "equity_ok": self.equity_ok,
            "equity_peak": None if self.curve.peak is None else str(self.curve.peak),
            "equity_worst": str(self.curve.worst), "equity_points": self.curve.points,
        }
        rows: list[tuple[str, str]] = [("meta", json.dumps(meta))]
        for key in self._dirty - {"meta"}:
            rows.append((key, json.dumps(accumulator_state(self._accumulator(key)))))
        conn.executemany(f"INSERT OR REPLACE INTO {TABLE} (key, state) VALUES (?, ?)", rows)
        self._dirty.clear()

    def _accumulator(self, key: str) -> StatsAccumulator:
        if key == "all":
            return self.groups.overall
        if key.startswith("strategy:"):
            return self.groups.strategies[key[9:]]
        return self.groups.days[int(key[4:])]

    # -- catching up ---------------------------------------------------------------------------

    def catch_up(self, conn: sqlite3.Connection) -> None:
        """Feed the trades and equity points added since the checkpoint, in rowid order."""
        if self.trades_ok:
            self._trades(_chunks(conn.execute(
                "SELECT rowid, pnl, r_multiple, closed_ms, strategy FROM positions "
                "WHERE rowid > ? ORDER BY rowid", (self.trade_rowid,))))
        if self.equity_ok:
            self._equity(_chunks(conn.execute(
                "SELECT rowid, timestamp, equity FROM equity WHERE rowid > ? ORDER BY rowid",
                (self.equity_rowid,))))

    def _trades(self, rows: Iterable[tuple[int, str, str | None, int, str | None]]) -> None:
        groups, to_decimal, dirty = self.groups, Decimal, self._dirty
        last = self.closed_ms
        for rowid, pnl, r, closed_ms, strategy in rows:
            if last is not None and closed_ms < last:
                self.trades_ok = False  # out of closing order: the checkpoint cannot follow
                dirty.add("meta")
                return
            last = closed_ms
            groups.add(to_decimal(pnl), None if r is None else to_decimal(r), closed_ms,
                       strategy)
            dirty.add(f"strategy:{strategy or 'manual'}")
            dirty.add(f"day:{closed_ms // DAY_MS}")
            self.trade_rowid, self.closed_ms = rowid, closed_ms
        if dirty:
            dirty.update(("all", "meta"))

    def _equity(self, rows: Iterable[tuple[int, int, str]]) -> None:
        curve, to_decimal = self.curve, Decimal
        for rowid, timestamp, value in rows:
            if self.equity_ts is not None and timestamp < self.equity_ts:
                self.equity_ok = False
                self._dirty.add("meta")
                return
            curve.add(to_decimal(value))
            self.equity_rowid, self.equity_ts = rowid, timestamp
            self._dirty.add("meta")

    # -- the statistics ------------------------------------------------------------------------

    def result(self) -> GroupedStats | None:
        """The statistics of every trade (drawdown from the equity curve when there is one), or
        None when the checkpoint cannot give them (then stream)."""
        if not (self.trades_ok and self.equity_ok):
            return None
        return self.groups.result(self.curve.worst if self.curve.points > 1 else None)


def _chunks(cursor: sqlite3.Cursor) -> Iterable[Any]:
    while batch := cursor.fetchmany(CHUNK):
        yield from batch

