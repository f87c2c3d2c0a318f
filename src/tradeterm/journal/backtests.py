"""Backtests in the journal: one ``backtests`` row per run, its trades in ``backtest_trades``.

The journal knows rows, not the backtester: a :class:`BacktestRow` carries the run's settings,
parameters and metrics as JSON text (written by ``tradeterm.backtest.store``), its exact final
balance, and the per-bar times and equity as raw little-endian int64/float64 bytes that are
zlib-compressed here. Money columns are TEXT holding ``str(Decimal)``, as in every other table.

A backtest and its trades go in one transaction on the writer thread (the trades need the
backtest's id), through :meth:`JournalWriter.transaction`.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradeterm.journal.rows import from_money, money

if TYPE_CHECKING:
    from sqlite_utils import Database

HEADER_COLUMNS = (
    "id", "created_ms", "strategy", "symbol", "timeframe", "timeframe_ms", "start_ms", "end_ms",
    "bars", "params", "settings", "metrics", "skipped", "final_balance", "exposure_bars",
)
"""Everything but the two arrays: what a listing reads."""


@dataclass(frozen=True, slots=True)
class BacktestRow:
    """One stored backtest. ``open_time``/``equity`` are raw array bytes (empty in listings)."""

    created_ms: int
    strategy: str
    symbol: str
    timeframe: str
    timeframe_ms: int
    start_ms: int | None
    end_ms: int | None
    bars: int
    params: dict[str, Any]
    settings: dict[str, Any]
    metrics: dict[str, Any]
    skipped: dict[str, int]
    final_balance: Decimal
    exposure_bars: int
    open_time: bytes = b""
    equity: bytes = b""
    id: int | None = None


@dataclass(frozen=True, slots=True)
class BacktestTradeRow:
    """One trade of a stored backtest, exactly as the backtester closed it."""

    seq: int
    side: str  # buy (long) or sell (short)
    quantity: Decimal
    signal_bar: int
    entry_bar: int
    entry_ms: int
    entry_price: Decimal
    exit_bar: int
    exit_ms: int
    exit_price: Decimal
    exit_reason: str
    stop: Decimal | None
    target: Decimal | None
    initial_risk: Decimal | None
    entry_fee: Decimal
    exit_fee: Decimal
    fees: Decimal
    pnl: Decimal
    r_multiple: Decimal | None
    mae: Decimal
    mfe: Decimal


_MONEY = {f.name for f in fields(BacktestTradeRow)
          if f.type in ("Decimal", "Decimal | None")}


def insert(db: Database, row: BacktestRow, trades: list[BacktestTradeRow]) -> int:
    """Insert a backtest and its trades (writer thread, inside its transaction); its id."""
    header = {
        "created_ms": row.created_ms, "strategy": row.strategy, "symbol": row.symbol,
        "timeframe": row.timeframe, "timeframe_ms": row.timeframe_ms,
        "start_ms": row.start_ms, "end_ms": row.end_ms, "bars": row.bars,
        "params": json.dumps(row.params), "settings": json.dumps(row.settings),
        "metrics": json.dumps(row.metrics), "skipped": json.dumps(row.skipped),
        "final_balance": money(row.final_balance), "exposure_bars": row.exposure_bars,
        "open_time": zlib.compress(row.open_time), "equity": zlib.compress(row.equity),
    }
    cols = ", ".join(f"[{c}]" for c in header)
    cur = db.conn.execute(
        f"INSERT INTO backtests ({cols}) VALUES ({', '.join('?' * len(header))})",
        tuple(header.values()))
    backtest_id = int(cur.lastrowid)  # type: ignore[arg-type]
    if trades:
        names = [f.name for f in fields(BacktestTradeRow)]
        sql = (f"INSERT INTO backtest_trades (backtest_id, {', '.join(names)}) "
               f"VALUES ({', '.join('?' * (len(names) + 1))})")
        db.conn.executemany(sql, [
            (backtest_id, *(money(getattr(t, n)) if n in _MONEY else getattr(t, n)
                            for n in names))
            for t in trades
        ])
    return backtest_id


def _header(row: dict[str, Any]) -> BacktestRow:
    return BacktestRow(
        id=row["id"], created_ms=row["created_ms"], strategy=row["strategy"],
        symbol=row["symbol"], timeframe=row["timeframe"], timeframe_ms=row["timeframe_ms"],
        start_ms=row["start_ms"], end_ms=row["end_ms"], bars=row["bars"],
        params=json.loads(row["params"]), settings=json.loads(row["settings"]),
        metrics=json.loads(row["metrics"]), skipped=json.loads(row["skipped"]),
        final_balance=Decimal(row["final_balance"]), exposure_bars=row["exposure_bars"],
    )


def _decoded(names: list[str], values: tuple[Any, ...]) -> dict[str, Any]:
    """A backtest_trades row by column name, money columns back to ``Decimal``."""
    return {n: from_money(v) if n in _MONEY else v for n, v in zip(names, values, strict=True)}


def _has_table(db: Database) -> bool:
    """Journals older than schema 3 have no backtests (readers never migrate)."""
    return db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'backtests'").fetchone() \
        is not None


def list_rows(db: Database, strategy: str | None = None) -> list[BacktestRow]:
    """Every stored backtest (newest first), without the arrays."""
    if not _has_table(db):
        return []
    where, params = ("WHERE strategy = ?", (strategy,)) if strategy else ("", ())
    cur = db.execute(f"SELECT {', '.join(HEADER_COLUMNS)} FROM backtests {where} "
                     "ORDER BY id DESC", params)
    return [_header(dict(zip(HEADER_COLUMNS, r, strict=True))) for r in cur]


def read(db: Database, backtest_id: int) -> tuple[BacktestRow, list[BacktestTradeRow]] | None:
    """One backtest with its arrays and trades (in trade order), or None."""
    if not _has_table(db):
        return None
    try:
        db.execute("BEGIN")  # one read snapshot for both tables
        cur = db.execute(f"SELECT {', '.join(HEADER_COLUMNS)}, open_time, equity FROM backtests "
                         "WHERE id = ?", (backtest_id,))
        found = cur.fetchone()
        if found is None:
            return None
        names = [f.name for f in fields(BacktestTradeRow)]
        trade_cur = db.execute(f"SELECT {', '.join(names)} FROM backtest_trades "
                               "WHERE backtest_id = ? ORDER BY seq", (backtest_id,))
        trades = [BacktestTradeRow(**_decoded(names, r)) for r in trade_cur]
    finally:
        db.conn.rollback()
    head = dict(zip(HEADER_COLUMNS, found[:-2], strict=True))
    row = replace(_header(head), open_time=zlib.decompress(found[-2]),
                  equity=zlib.decompress(found[-1]))
    return row, trades
