"""The journal's schema as an ordered list of migrations, applied by ``PRAGMA user_version``.

Why a list of functions and not an ORM: the file outlives the code that wrote it. Version ``n``
of the schema is exactly "migrations[0..n-1] applied in order"; each runs in the same
transaction as the ``user_version`` bump, so a crash mid-migration leaves the old version intact.
Never edit a shipped migration: append a new one.

Money columns are TEXT holding ``str(Decimal)`` (exact, round-trips bit for bit); never REAL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: checking a file's header must not import sqlite-utils
    from sqlite_utils import Database

APPLICATION_ID = 0x54545231  # "TTR1": marks a SQLite file as a tradeterm journal

Money = str  # a TEXT column holding a Decimal's string form


def _v1_tables(db: Database) -> None:
    """The first schema: every table the engine journals into."""
    db.table("runs").create(
        {"id": int, "started_ms": int, "version": str, "mode": str, "config_hash": str}, pk="id"
    )
    db.table("signals").create(
        {
            "id": int, "run_id": int, "timestamp": int, "strategy": str, "symbol": str,
            "timeframe": str, "bar_time": int, "kind": str, "side": str, "entry": Money,
            "stop": Money, "targets": str, "confidence": float, "reasons": str,
            "status": str, "reason": str, "order_id": str,
        },
        pk="id",
    )
    order_cols = {
        "id": str, "run_id": int, "symbol": str, "side": str, "type": str, "quantity": Money,
        "price": Money, "trigger_price": Money, "trail": Money, "time_in_force": str,
        "reduce_only": int, "bracket_stop": Money, "bracket_target": Money, "strategy": str,
        "client_id": str, "status": str, "created_ms": int, "updated_ms": int,
        "filled_quantity": Money, "average_price": Money, "fees": Money, "stop_price": Money,
        "parent_id": str, "oco_group": str, "reason": str,
    }
    db.table("orders").create(order_cols, pk="id")  # latest state of each order
    db.table("order_history").create(  # every version, in the order they happened
        {
            "seq": int, "order_id": str, "updated_ms": int, "status": str,
            "filled_quantity": Money, "average_price": Money, "fees": Money,
            "stop_price": Money, "reason": str,
        },
        pk="seq",
    )
    db.table("fills").create(
        {
            "id": str, "run_id": int, "order_id": str, "symbol": str, "side": str,
            "price": Money, "quantity": Money, "fee": Money, "liquidity": str,
            "timestamp": int, "strategy": str,
        },
        pk="id",
    )
    db.table("positions").create(  # closed trades
        {
            "id": int, "run_id": int, "symbol": str, "side": str, "quantity": Money,
            "entry_price": Money, "exit_price": Money, "opened_ms": int, "closed_ms": int,
            "pnl": Money, "fees": Money, "r_multiple": Money, "mae": Money, "mfe": Money,
            "strategy": str,
        },
        pk="id",
    )
    db.table("open_positions").create(  # replaced wholesale by every account snapshot
        {
            "id": int, "symbol": str, "quantity": Money, "average_entry": Money,
            "opened_ms": int, "strategy": str, "stop": Money, "target": Money,
            "initial_risk": Money, "realized_pnl": Money, "fees": Money,
            "max_adverse": Money, "max_favorable": Money,
        },
        pk="id",
    )
    db.table("account").create(  # one row (id 1): the latest balance, for restore
        {
            "id": int, "quote": str, "balance": Money, "equity": Money,
            "unrealized_pnl": Money, "realized_today": Money, "updated_ms": int,
        },
        pk="id",
    )
    db.table("equity").create(
        {"id": int, "timestamp": int, "equity": Money, "balance": Money,
         "unrealized_pnl": Money},
        pk="id",
    )
    db.table("risk_events").create(
        {
            "id": int, "run_id": int, "timestamp": int, "kind": str, "state": str,
            "rule": str, "reason": str, "symbol": str, "side": str, "quantity": Money,
            "strategy": str,
        },
        pk="id",
    )
    db.table("commands").create(
        {"id": int, "run_id": int, "timestamp": int, "command": str, "detail": str}, pk="id"
    )
    db.table("day_state").create(  # the risk engine's daily loss state, one row per UTC day
        {
            "day": str, "start_equity": Money, "realized_pnl": Money, "halted": int,
            "reason": str, "updated_ms": int,
        },
        pk="day",
    )


def _v2_indexes(db: Database) -> None:
    """Indexes for the CLI's ``--since`` and ``--strategy`` filters and for restore."""
    for table, column in (
        ("fills", "timestamp"), ("positions", "closed_ms"), ("positions", "strategy"),
        ("signals", "timestamp"), ("orders", "updated_ms"), ("orders", "status"),
        ("order_history", "order_id"), ("equity", "timestamp"), ("risk_events", "timestamp"),
        ("commands", "timestamp"),
    ):
        db.execute(f"CREATE INDEX idx_{table}_{column} ON {table} ({column})")


def _v3_backtests(db: Database) -> None:
    """Backtests (``tradeterm backtest``) and their trades. The per-bar equity curve and bar
    times are zlib-compressed little-endian float64/int64 arrays: a million bars would be a
    million rows otherwise, and the curve is only ever read whole (floats: a statistic, not
    money; the money is in the trades and ``final_balance``)."""
    db.table("backtests").create(
        {
            "id": int, "created_ms": int, "strategy": str, "symbol": str, "timeframe": str,
            "timeframe_ms": int, "start_ms": int, "end_ms": int, "bars": int,
            "params": str, "settings": str, "metrics": str, "skipped": str,
            "final_balance": Money, "exposure_bars": int,
            "open_time": bytes, "equity": bytes,
        },
        pk="id",
    )
    db.table("backtest_trades").create(
        {
            "id": int, "backtest_id": int, "seq": int, "side": str, "quantity": Money,
            "signal_bar": int, "entry_bar": int, "entry_ms": int, "entry_price": Money,
            "exit_bar": int, "exit_ms": int, "exit_price": Money, "exit_reason": str,
            "stop": Money, "target": Money, "initial_risk": Money, "entry_fee": Money,
            "exit_fee": Money, "fees": Money, "pnl": Money, "r_multiple": Money,
            "mae": Money, "mfe": Money,
        },
        pk="id",
        foreign_keys=[("backtest_id", "backtests", "id")],
    )
    db.execute("CREATE INDEX idx_backtest_trades_backtest_id ON backtest_trades (backtest_id)")
    db.execute("CREATE INDEX idx_backtests_created_ms ON backtests (created_ms)")


def _v4_day_reasons(db: Database) -> None:
    """The kill switch's and the loss limit's reasons in their own ``day_state`` columns.

    Until now one ``reason`` column held both, joined by ``" | "`` (the kill switch's as
    ``"kill_switch: <words>"``, the loss limit's starting with ``"daily_loss_limit"``); they are
    split into the new columns here. ``reason`` stays (SQLite keeps columns) but is not written.
    Self-contained on purpose: a migration never calls code that may change later.
    """
    db.execute("ALTER TABLE day_state ADD COLUMN kill_reason TEXT")
    db.execute("ALTER TABLE day_state ADD COLUMN loss_reason TEXT")
    rows = db.execute("SELECT day, reason FROM day_state WHERE reason IS NOT NULL").fetchall()
    for day, reason in rows:
        kill = loss = None
        for part in reason.split(" | "):
            if part.startswith("kill_switch: "):
                kill = part.removeprefix("kill_switch: ")
            elif part.startswith("daily_loss_limit"):
                loss = part
        db.execute(
            "UPDATE day_state SET kill_reason = ?, loss_reason = ? WHERE day = ?",
            [kill, loss, day],
        )


def _v5_paging_and_coalescing(db: Database) -> None:
    """Self-contained (renumber freely): indexes for reading a page of one strategy's rows,
    newest first (the journal screen, ``journal ... --strategy``) and a symbol's recent fills
    (display decimals); a ``coalesced`` count on signals and risk events (while a full disk
    halts trading, repeated signals and denials are kept as one row with how many it stands
    for; NULL: one); and the statistics' checkpoint table (filled by the writer)."""
    for table, columns in (
        ("positions", "strategy, closed_ms"), ("fills", "strategy, timestamp"),
        ("fills", "symbol, timestamp"), ("signals", "strategy, timestamp"),
        ("orders", "strategy, updated_ms"),
    ):
        name = f"idx_{table}_{columns.replace(', ', '_')}"
        db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")
    for table in ("signals", "risk_events"):
        if "coalesced" not in db.table(table).columns_dict:
            db.execute(f"ALTER TABLE {table} ADD COLUMN coalesced INTEGER")
    # the statistics' checkpoint (journal/stats_checkpoint.py): one JSON state per group
    db.execute("CREATE TABLE IF NOT EXISTS stats_checkpoint (key TEXT PRIMARY KEY, state TEXT)")


def _v6_trade_story(db: Database) -> None:
    """Self-contained (renumber freely): what a closed trade needs to tell its story. The
    initial risk (|entry - stop| x qty, in quote: MAE and MFE in R) and the order that opened
    it (its signal's reasons, joined on ``signals.order_id``), also on open positions (a
    restart keeps them); indexes for the journal's symbol filter and that join. Trades
    journaled before stay NULL here: shown blank, never as zero."""
    for table, column in (("positions", "initial_risk"), ("positions", "entry_order"),
                          ("open_positions", "entry_order")):
        if column not in db.table(table).columns_dict:
            db.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
    for table, columns in (("positions", "symbol, closed_ms"), ("signals", "order_id")):
        name = f"idx_{table}_{columns.replace(', ', '_')}"
        db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")


def _v7_bracket_legs(db: Database) -> None:
    """Self-contained (renumber freely): a scale-out entry's take-profit legs, so a restart
    while the entry is still working keeps all of them (``bracket_target`` holds only the
    first). JSON ``[[price or null, weight], ...]``, prices as exact decimal strings, weights
    the integer parts per million of ``core.scale_out.leg_weights``; NULL: no legs (orders
    journaled before restore as they did, with their one target)."""
    if "bracket_legs" not in db.table("orders").columns_dict:
        db.execute("ALTER TABLE orders ADD COLUMN bracket_legs TEXT")


MIGRATIONS: tuple[Callable[[Database], None], ...] = (
    _v1_tables, _v2_indexes, _v3_backtests, _v4_day_reasons, _v5_paging_and_coalescing,
    _v6_trade_story, _v7_bracket_legs,
)
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: Database, current: int, target: int = SCHEMA_VERSION) -> None:
    """Apply migrations ``current+1 .. target`` in one transaction with the version bump."""
    if current >= target:
        return
    with db.atomic():
        if current == 0:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        for migration in MIGRATIONS[current:target]:
            migration(db)
        db.execute(f"PRAGMA user_version = {target}")
