"""Read-only access for the CLI, the UI and the engine's restore.

Each reader has its own ``mode=ro`` connection with a busy timeout: in WAL mode readers never
block the writer nor are blocked by it, so a query during heavy writing does not see
"database is locked". Readers never migrate; they read any schema version from 1 to the current.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from collections.abc import Iterator
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

MANUAL = "manual"  # the --strategy name of orders and trades no strategy made (NULL)
_WORKING = tuple(s.value for s in OrderStatus if s.is_working)


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

    def _rows(
        self, table: str, time_col: str, since_ms: int | None, strategy: str | None,
        order: str | None = None, limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        where: list[str] = []
        params: list[object] = []
        if since_ms is not None:
            where.append(f"[{time_col}] >= ?")
            params.append(since_ms)
        if strategy == MANUAL:
            where.append("strategy IS NULL")
        elif strategy is not None:
            where.append("strategy = ?")
            params.append(strategy)
        try:
            yield from self.db.table(table).rows_where(
                " AND ".join(where) or None, params, order_by=order or f"[{time_col}], rowid",
                limit=limit,
            )
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: cannot read {table}: {exc}") from None

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
