"""Opening the journal: migrations, file mode, and refusing foreign or corrupt files untouched."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from tradeterm.journal import JournalError, JournalReader, JournalWriter
from tradeterm.journal.schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, migrate


def _pragma(path: Path, name: str) -> object:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def test_new_journal_when_opened_then_latest_schema_wal_app_id_and_mode_0600(tmp_path):
    path = tmp_path / "sub" / "journal.sqlite"
    with JournalWriter(path):
        assert os.stat(path).st_mode & 0o777 == 0o600
    assert _pragma(path, "user_version") == SCHEMA_VERSION
    assert _pragma(path, "application_id") == APPLICATION_ID
    assert _pragma(path, "journal_mode") == "wal"
    tables = set(Database(path).table_names())
    assert {"runs", "signals", "orders", "order_history", "fills", "positions", "open_positions",
            "account", "equity", "risk_events", "commands", "day_state"} <= tables


def test_existing_journal_with_loose_mode_when_opened_then_tightened_to_0600(tmp_path):
    path = tmp_path / "j.sqlite"
    with JournalWriter(path):
        pass
    os.chmod(path, 0o644)
    with JournalWriter(path):
        pass
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_v1_journal_when_opened_then_upgraded_and_rows_kept(tmp_path):
    path = tmp_path / "v1.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(Database(conn), 0, target=1)
    conn.execute("INSERT INTO commands (timestamp, command) VALUES (5, 'flatten')")
    conn.close()
    assert _pragma(path, "user_version") == 1
    with JournalWriter(path):
        pass
    assert _pragma(path, "user_version") == SCHEMA_VERSION == len(MIGRATIONS)
    db = Database(path)
    assert [r["command"] for r in db.table("commands").rows] == ["flatten"]
    assert "idx_fills_timestamp" in {i.name for i in db.table("fills").indexes}


def _snapshot(path: Path) -> tuple[bytes, int, list[str]]:
    return path.read_bytes(), os.stat(path).st_mode, sorted(os.listdir(path.parent))


def test_newer_journal_when_opened_then_refused_and_untouched(tmp_path):
    path = tmp_path / "newer.sqlite"
    with JournalWriter(path):
        pass
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    before = _snapshot(path)
    with pytest.raises(JournalError, match=rf"newer\.sqlite.*version {SCHEMA_VERSION + 1} is newer"):
        JournalWriter(path).start()
    assert _snapshot(path) == before


def test_foreign_sqlite_file_when_opened_then_refused_and_byte_identical(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()
    os.chmod(path, 0o644)
    before = _snapshot(path)
    with pytest.raises(JournalError, match=r"other\.db: a SQLite database but not a tradeterm"):
        JournalWriter(path).start()
    with pytest.raises(JournalError, match="not a tradeterm journal"):
        JournalReader(path)
    assert _snapshot(path) == before


def test_non_sqlite_file_when_opened_then_refused_and_byte_identical(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are my notes, not a database\n" * 10)
    before = _snapshot(path)
    with pytest.raises(JournalError, match=r"notes\.txt: not a SQLite database"):
        JournalWriter(path).start()
    assert _snapshot(path) == before


def test_corrupt_journal_when_opened_then_refused_and_byte_identical(tmp_path):
    path = tmp_path / "corrupt.sqlite"
    with JournalWriter(path):
        pass
    data = bytearray(path.read_bytes())
    data[100:4096] = os.urandom(3996)  # page 1's b-tree (sqlite_master) after a valid header
    path.write_bytes(bytes(data))
    before = _snapshot(path)
    with pytest.raises(JournalError, match=r"corrupt\.sqlite: the journal is corrupt"):
        JournalWriter(path).start()
    assert _snapshot(path) == before
