"""The SQLite journal: every signal, order, fill, trade, equity point and risk event, durably.

One writer thread (:class:`JournalWriter`) owns the file; readers (:class:`JournalReader`, the
CLI, the UI) open their own read-only connections. See ``docs/journal.md``.
"""

from tradeterm.journal.files import JournalError
from tradeterm.journal.reader import JournalReader, load_state
from tradeterm.journal.records import (
    AccountRecord, CommandRecord, DayState, EquityPoint, RestoredState, RiskEvent, RunRecord,
    SignalRecord, config_hash,
)
from tradeterm.journal.writer import JournalWriteError, JournalWriter

__all__ = [
    "AccountRecord", "CommandRecord", "DayState", "EquityPoint", "JournalError", "JournalReader",
    "JournalWriteError", "JournalWriter", "RestoredState", "RiskEvent", "RunRecord",
    "SignalRecord", "config_hash", "load_state",
]
