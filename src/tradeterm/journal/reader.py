"""Read-only access for the CLI, the UI and the engine's restore.

Each reader has its own ``mode=ro`` connection with a busy timeout: in WAL mode readers never
block the writer nor are blocked by it, so a query during heavy writing does not see
"database is locked". Readers never migrate; they read any schema version from 1 to the current.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from tradeterm.core.trading import ClosedTrade, Fill, Order, OrderStatus, Position
from tradeterm.journal import backtests
from tradeterm.journal.backtests import BacktestRow, BacktestTradeRow
from tradeterm.journal.files import JournalError, connect_readonly, inspect
from tradeterm.journal.records import EquityPoint, RestoredState
from tradeterm.journal.rows import (
    day_from_row, equity_from_row, fill_from_row, order_from_row, position_from_row,
    trade_from_row,
)
from tradeterm.journal.stats import GroupedStats, stream_stats
from tradeterm.journal.stats_checkpoint import StatsCheckpoint

MANUAL = "manual"  # the --strategy name of orders and trades no strategy made (NULL)
_WORKING = tuple(s.value for s in OrderStatus if s.is_working)
TIME_COLUMNS = {"positions": "closed_ms", "fills": "timestamp", "signals": "timestamp",
                "orders": "updated_ms", "equity": "timestamp"}
"""The tables the views page through, and the time column each is ordered and filtered by."""


class JournalReader:
    """A read-only view of a journal; JournalError if the file is missing, foreign or corrupt."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise JournalError(f"{self.path}: no journal here")
        if inspect(self.path) == 0:
            raise JournalError(f"{self.path}: the journal is empty (never opened by the engine)")
        self.db = Database(connect_readonly(self.path))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> JournalReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _where(
        self, time_col: str, since_ms: int | None, strategy: str | None, *,
        symbol: str | None = None, until_ms: int | None = None,
    ) -> tuple[str | None, list[Any]]:
        """The filters as a parameterised WHERE: ``since_ms`` inclusive, ``until_ms``
        exclusive, ``strategy`` (``manual``: none), ``symbol``."""
        where: list[str] = []
        params: list[Any] = []
        if since_ms is not None:
            where.append(f"[{time_col}] >= ?")
            params.append(since_ms)
        if until_ms is not None:
            where.append(f"[{time_col}] < ?")
            params.append(until_ms)
        if strategy == MANUAL:
            where.append("strategy IS NULL")
        elif strategy is not None:
            where.append("strategy = ?")
            params.append(strategy)
        if symbol is not None:
            where.append("symbol = ?")
            params.append(symbol)
        return " AND ".join(where) or None, params

    def _rows(
        self, table: str, time_col: str, since_ms: int | None, strategy: str | None,
        order: str | None = None, limit: int | None = None, *,
        symbol: str | None = None, until_ms: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        where, params = self._where(time_col, since_ms, strategy, symbol=symbol,
                                    until_ms=until_ms)
        try:
            yield from self.db.table(table).rows_where(
                where, params, order_by=order or f"[{time_col}], rowid", limit=limit,
                select=self._select(table),
            )
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: cannot read {table}: {exc}") from None

    def _select(self, table: str) -> str:
        """``*``; for closed trades also ``entry_reasons``, the reasons (JSON list) of the
        signal whose order opened the trade (schema 6 on; NULL before or without one)."""
        if table != "positions" or "entry_order" not in self.db.table(table).columns_dict:
            return "*"
        return ("*, (SELECT s.reasons FROM signals s WHERE s.order_id = positions.entry_order "
                "LIMIT 1) AS entry_reasons")

    # -- paging: what a screen or a streamed CLI table needs, never a whole table in memory --

    def rows(
        self, table: str, since_ms: int | None = None, strategy: str | None = None, *,
        newest_first: bool = False, limit: int | None = None, symbol: str | None = None,
        until_ms: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Rows of ``table`` (one of :data:`TIME_COLUMNS`) as stored, streamed from the cursor
        (constant memory): oldest first, or the newest ``limit`` newest first (by index)."""
        time_col = TIME_COLUMNS[table]
        order = f"[{time_col}] DESC, rowid DESC" if newest_first else None
        return self._rows(table, time_col, since_ms, strategy, order=order, limit=limit,
                          symbol=symbol if table != "equity" else None, until_ms=until_ms)

    def count(self, table: str, since_ms: int | None = None, strategy: str | None = None, *,
              symbol: str | None = None, until_ms: int | None = None) -> int:
        """How many rows :meth:`rows` would give without a limit (counted by SQLite)."""
        where, params = self._where(TIME_COLUMNS[table], since_ms, strategy, symbol=symbol,
                                    until_ms=until_ms)
        sql = f"SELECT count(*) FROM [{table}]" + (f" WHERE {where}" if where else "")
        try:
            return int(self.db.execute(sql, params).fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: cannot read {table}: {exc}") from None

    def columns(
        self, table: str, columns: str, since_ms: int | None = None,
        strategy: str | None = None, chunk: int = 10_000, *, symbol: str | None = None,
        until_ms: int | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """``columns`` (SQL) of ``table`` oldest first, fetched ``chunk`` rows at a time: what
        the statistics stream through exact Decimal arithmetic with constant memory."""
        time_col = TIME_COLUMNS[table]
        account = table == "equity"  # the whole account's: no strategy nor symbol
        where, params = self._where(time_col, since_ms, None if account else strategy,
                                    symbol=None if account else symbol, until_ms=until_ms)
        sql = (f"SELECT {columns} FROM [{table}]" + (f" WHERE {where}" if where else "")
               + f" ORDER BY [{time_col}], rowid")
        try:
            cursor = self.db.execute(sql, params)
            while batch := cursor.fetchmany(chunk):
                yield from batch
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: cannot read {table}: {exc}") from None

    def stats(self, since_ms: int | None = None, strategy: str | None = None, *,
              symbol: str | None = None, until_ms: int | None = None) -> GroupedStats:
        """Overall, per-strategy and per-day statistics: for the whole journal from the writer's
        checkpoint (``stats_checkpoint.py``), else streamed (``stats.stream_stats``); the
        overall drawdown is the equity curve's unless a strategy or symbol is chosen (the
        curve is the whole account's)."""
        if since_ms is None and strategy is None and symbol is None and until_ms is None:
            kept = self._checkpointed_stats()
            if kept is not None:
                return kept
        trades = self.columns("positions", "pnl, r_multiple, closed_ms, strategy",
                              since_ms, strategy, symbol=symbol, until_ms=until_ms)
        equity = (self.columns("equity", "equity", since_ms, until_ms=until_ms)
                  if strategy is None and symbol is None else None)
        return stream_stats(trades, equity)

    def _checkpointed_stats(self) -> GroupedStats | None:
        """Every trade's statistics from the writer's checkpoint, caught up in memory on what
        was added since; None when the journal has none that holds (then stream)."""
        conn = self.db.conn
        try:
            conn.execute("BEGIN")  # one snapshot for the checkpoint and the rows after it
            checkpoint = StatsCheckpoint.load(conn)
            if checkpoint is None:
                return None
            checkpoint.catch_up(conn)
            return checkpoint.result()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: cannot read the statistics: {exc}") from None
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    def account_quote(self) -> str | None:
        """The paper account's quote currency (what PnL and fees are in), if one is stored."""
        try:
            row = self.db.execute("SELECT quote FROM account WHERE id = 1").fetchone()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: cannot read account: {exc}") from None
        return None if row is None else str(row[0])

    def recent_fills(self, symbol: str, limit: int = 200) -> list[tuple[str, str]]:
        """(price, quantity) text of ``symbol``'s newest ``limit`` fills: the decimals a
        market's tick and step show through when the journal does not store them."""
        try:
            cursor = self.db.execute(
                "SELECT price, quantity FROM fills WHERE symbol = ? "
                "ORDER BY timestamp DESC LIMIT ?", (symbol, limit))
            return [(str(p), str(q)) for p, q in cursor]
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: cannot read fills: {exc}") from None

    def trades(self, since_ms: int | None = None, strategy: str | None = None) -> list[ClosedTrade]:
        """Closed trades, oldest first (``since``: closed at or after)."""
        return [trade_from_row(r) for r in self._rows("positions", "closed_ms", since_ms, strategy)]

    def fills(
        self, since_ms: int | None = None, strategy: str | None = None, last: int | None = None
    ) -> list[Fill]:
        """Oldest first; ``last``: only the newest ``last`` (read newest first, not all)."""
        if last is None:
            return [fill_from_row(r) for r in self._rows("fills", "timestamp", since_ms, strategy)]
        rows = self._rows("fills", "timestamp", since_ms, strategy,
                          order="[timestamp] DESC, rowid DESC", limit=last)
        return [fill_from_row(r) for r in rows][::-1]

    def orders(self, since_ms: int | None = None, strategy: str | None = None) -> list[Order]:
        """Latest state of each order updated since ``since_ms``."""
        return [order_from_row(r) for r in self._rows("orders", "updated_ms", since_ms, strategy)]

    def signals(
        self, since_ms: int | None = None, strategy: str | None = None
    ) -> list[dict[str, Any]]:
        """Signal rows as stored (prices as exact decimal strings), denied ones included."""
        return list(self._rows("signals", "timestamp", since_ms, strategy))

    def open_positions(self, strategy: str | None = None) -> list[Position]:
        return [position_from_row(r)
                for r in self._rows("open_positions", "id", None, strategy)]

    def open_position_rows(self, strategy: str | None = None) -> list[dict[str, Any]]:
        """Open positions as stored (a handful: the table holds only what is open)."""
        return list(self._rows("open_positions", "id", None, strategy))

    def equity(self, since_ms: int | None = None) -> list[EquityPoint]:
        return [equity_from_row(r) for r in self._rows("equity", "timestamp", since_ms, None)]

    def backtests(self, strategy: str | None = None) -> list[BacktestRow]:
        """Stored backtests, newest first, without their equity curves (none before schema 3)."""
        try:
            return backtests.list_rows(self.db, strategy)
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: cannot read backtests: {exc}") from None

    def backtest(self, backtest_id: int) -> tuple[BacktestRow, list[BacktestTradeRow]] | None:
        """One stored backtest with its curve and trades; None if there is no such id."""
        try:
            return backtests.read(self.db, backtest_id)
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: cannot read backtest {backtest_id}: {exc}") \
                from None

    def load_state(self) -> RestoredState:
        """Open positions, working orders, balance and the daily loss state, as last committed."""
        try:
            self.db.execute("BEGIN")  # one read snapshot for all the queries below
            q = self.db.execute
            account = q(
                "SELECT quote, balance, realized_today FROM account WHERE id = 1").fetchone()
            marks = ",".join("?" * len(_WORKING))
            cur = q(f"SELECT * FROM orders WHERE status IN ({marks}) ORDER BY created_ms, rowid",
                    _WORKING)
            cols = [c[0] for c in cur.description]
            orders = tuple(order_from_row(dict(zip(cols, r, strict=True))) for r in cur)
            day = list(self.db.table("day_state").rows_where(order_by="day DESC", limit=1))
            last = list(self.db.table("equity").rows_where(order_by="id DESC", limit=1))
            positions = tuple(self.open_positions())
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: cannot restore from the journal: {exc}") from None
        finally:
            self.db.rollback()
        return RestoredState(
            positions=positions,
            orders=orders,
            balance=None if account is None else Decimal(account[1]),
            realized_today=Decimal(account[2]) if account else Decimal(0),
            day_state=day_from_row(day[0]) if day else None,
            last_equity=equity_from_row(last[0]) if last else None,
            quote=account[0] if account else None,
        )


def load_state(path: Path) -> RestoredState:
    """What a restarted engine continues from (open the writer first: it migrates the file)."""
    with JournalReader(path) as reader:
        return reader.load_state()
