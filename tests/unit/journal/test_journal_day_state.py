"""The day's risk state in the journal: both reasons (kill switch, daily loss) round-trip as
separate fields, and a journal written before schema 4 (one ``" | "``-joined ``reason``) still
restores both, read as it is and after the writer migrated it."""

from __future__ import annotations

import sqlite3
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlite_utils import Database

from tradeterm.core.day import DayState, TradingState
from tradeterm.journal import JournalWriter, load_state
from tradeterm.journal.reader import JournalReader
from tradeterm.journal.schema import SCHEMA_VERSION, migrate

KILL = "flat before the FOMC | really"  # the user's words may hold the old separator
LOSS = ("daily_loss_limit: realised -300 today reached 3% of the day's starting equity 10000 "
        "(-300); new entries halted until 00:00 UTC")


def _restored(path: Path) -> DayState | None:
    with JournalReader(path) as reader:
        return reader.load_state().day_state


def test_day_state_with_both_reasons_round_trips_exactly(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    day = DayState(date(2024, 6, 1), Decimal("10000.5"), Decimal("-123.456789"),
                   kill_reason=KILL, loss_reason=LOSS, updated_ms=1_717_200_000_123)
    with JournalWriter(path) as writer:
        writer.write(day).result(20)
    assert load_state(path).day_state == day
    assert day.state is TradingState.HALTED
    row = Database(path).execute("SELECT halted, reason FROM day_state").fetchone()
    assert row == (1, None)  # the joined column is no longer written


def test_loss_alone_is_reducing_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    day = DayState(date(2024, 6, 1), Decimal("10000"), Decimal("-300"), loss_reason=LOSS)
    with JournalWriter(path) as writer:
        writer.write(day).result(20)
    restored = load_state(path).day_state
    assert restored == day and restored.state is TradingState.REDUCING


def _v3_journal_with_joined_reason(path: Path, reason: str) -> None:
    """A day_state row exactly as the code before schema 4 wrote it."""
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(Database(conn), 0, target=3)
    conn.execute(
        "INSERT INTO day_state (day, start_equity, realized_pnl, halted, reason, updated_ms) "
        "VALUES ('2024-06-01', '10000', '-300', 1, ?, 77)", [reason])
    conn.close()


def test_v3_journal_with_both_reasons_joined_restores_both_before_and_after_migration(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v3.sqlite"
    _v3_journal_with_joined_reason(path, f"kill_switch: panic | {LOSS}")
    expected = DayState(date(2024, 6, 1), Decimal("10000"), Decimal("-300"),
                        kill_reason="panic", loss_reason=LOSS, updated_ms=77)
    assert _restored(path) == expected  # read as it is: readers never migrate
    with JournalWriter(path):
        pass  # the writer migrates to the current schema
    assert Database(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    row = Database(path).execute("SELECT kill_reason, loss_reason FROM day_state").fetchone()
    assert row == ("panic", LOSS)
    assert _restored(path) == expected


def test_v3_journal_with_one_reason_migrates_to_that_field_only(tmp_path: Path) -> None:
    kill_only, loss_only = tmp_path / "kill.sqlite", tmp_path / "loss.sqlite"
    _v3_journal_with_joined_reason(kill_only, "kill_switch: journal: disk full")
    _v3_journal_with_joined_reason(loss_only, LOSS)
    for path in (kill_only, loss_only):
        with JournalWriter(path):
            pass
    kill, loss = _restored(kill_only), _restored(loss_only)
    assert kill is not None and (kill.kill_reason, kill.loss_reason) == ("journal: disk full", None)
    assert loss is not None and (loss.kill_reason, loss.loss_reason) == (None, LOSS)
