"""One engine per journal: the lock beside the journal refuses a second engine by name."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from tradeterm.config import Settings
from tradeterm.desk import Desk
from tradeterm.journal.lock import EngineLock, EngineLockedError, engine_holding, lock_path


def test_second_lock_on_the_same_journal_when_acquired_then_refused_naming_the_pid(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "journal.sqlite"
    first = EngineLock(journal)
    first.acquire()
    try:
        assert oct(lock_path(journal).stat().st_mode & 0o777) == "0o600"
        holder = engine_holding(journal)
        assert holder is not None and holder.pid == os.getpid()
        with pytest.raises(EngineLockedError) as caught:
            EngineLock(journal).acquire()
        message = str(caught.value)
        assert f"pid {os.getpid()}" in message and str(journal) in message
        assert "\n" not in message
        EngineLock(tmp_path / "other.sqlite").acquire()  # another journal: its own lock
    finally:
        first.release()
    assert engine_holding(journal) is None
    again = EngineLock(journal)
    again.acquire()  # released: the next engine may start
    again.release()


def test_no_lock_file_when_asked_who_holds_then_none_and_nothing_created(tmp_path: Path) -> None:
    journal = tmp_path / "journal.sqlite"
    assert engine_holding(journal) is None
    assert not lock_path(journal).exists()


def test_second_desk_on_the_same_journal_when_started_then_trading_disabled_with_the_reason(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path)

    async def run() -> None:
        events: list[object] = []
        first = Desk(settings, lambda e: None, lambda: 0)
        await first.start()
        try:
            second = Desk(settings, events.append, lambda: 0)
            await second.start()
            assert second.writer is None and second.error is not None
            assert "another tradeterm engine is running" in second.error
            assert second.trading_state == "halted"
            await second.close()  # nothing to release: it never held the lock
            assert engine_holding(settings.journal_file) is not None  # the first still does
        finally:
            await first.close()
        assert engine_holding(settings.journal_file) is None

    asyncio.run(run())
