"""Backtests in the journal: schema 3 adds ``backtests`` and ``backtest_trades``; an older journal
is migrated with its rows kept, and readers of an older file see no backtests (never an error)."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

from sqlite_utils import Database

from tradeterm.journal import JournalReader, JournalWriter
from tradeterm.journal.backtests import BacktestRow, BacktestTradeRow, insert
from tradeterm.journal.schema import SCHEMA_VERSION, migrate


def _row(**changes: object) -> BacktestRow:
    values: dict[str, object] = dict(
        created_ms=1_700_000_000_000, strategy="ema_cross", symbol="BTC/USDT", timeframe="1m",
        timeframe_ms=60_000, start_ms=0, end_ms=60_000, bars=2, params={"fast": 9},
        settings={"slippage_ticks": 1}, metrics={"stats": {"trades": 1}}, skipped={},
        final_balance=Decimal("10001.000000000000000001"), exposure_bars=1,
        open_time=b"\x00" * 16, equity=b"\x01" * 16,
    )
    values.update(changes)
    return BacktestRow(**values)  # type: ignore[arg-type]


TRADE = BacktestTradeRow(
    seq=0, side="buy", quantity=Decimal("0.00100"), signal_bar=0, entry_bar=1, entry_ms=60_000,
    entry_price=Decimal("100.01"), exit_bar=1, exit_ms=60_000, exit_price=Decimal("101.00"),
    exit_reason="target", stop=Decimal("99.00"), target=Decimal("101.00"),
    initial_risk=Decimal("0.00101000"), entry_fee=Decimal("0.0001000100"),
    exit_fee=Decimal("0.000101000"), fees=Decimal("0.0002010100"),
    pnl=Decimal("0.0007889900"), r_multiple=None, mae=Decimal("0"), mfe=Decimal("0.00099"),
)


def test_v2_journal_when_opened_then_gains_backtest_tables_and_keeps_its_rows(tmp_path):
    path = tmp_path / "v2.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(Database(conn), 0, target=2)
    conn.execute("INSERT INTO fills (id, symbol, side, price, quantity, fee, liquidity, timestamp)"
                 " VALUES ('F1', 'BTC/USDT', 'buy', '100.10', '0.5', '0.05005', 'taker', 7)")
    conn.close()
    with JournalReader(path) as reader:  # readers never migrate: an old file has no backtests
        assert reader.backtests() == [] and reader.backtest(1) is None
    with JournalWriter(path) as writer:
        new_id = writer.transaction(lambda db: insert(db, _row(), [TRADE])).result()
    assert SCHEMA_VERSION >= 3  # later migrations keep these rows too
    with JournalReader(path) as reader:
        (fill,) = reader.fills()
        assert (fill.id, fill.price, fill.fee) == ("F1", Decimal("100.10"), Decimal("0.05005"))
        stored = reader.backtest(new_id)
    assert stored is not None
    row, trades = stored
    assert row == _row(id=new_id) and trades == [TRADE]


def test_listing_is_newest_first_without_arrays_and_filters_by_strategy(tmp_path):
    path = tmp_path / "j.sqlite"
    with JournalWriter(path) as writer:
        a = writer.transaction(lambda db: insert(db, _row(), [])).result()
        b = writer.transaction(lambda db: insert(db, _row(strategy="confluence"), [])).result()
    with JournalReader(path) as reader:
        assert [r.id for r in reader.backtests()] == [b, a]
        assert [r.id for r in reader.backtests("ema_cross")] == [a]
        assert reader.backtests()[0].equity == b""  # listings skip the curve
        assert reader.backtest(999) is None


def test_failing_transaction_rolls_back_the_backtest_row(tmp_path):
    path = tmp_path / "j.sqlite"
    with JournalWriter(path) as writer:
        def boom(db: Database) -> int:
            insert(db, _row(), [TRADE])
            raise RuntimeError("disk on fire")

        future = writer.transaction(boom)
        assert isinstance(future.exception(), RuntimeError)
    with JournalReader(path) as reader:
        assert reader.backtests() == []
