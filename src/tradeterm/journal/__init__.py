"""The SQLite journal: every signal, order, fill, trade, equity point and risk event, durably.

One writer thread (:class:`JournalWriter`) owns the file; readers (:class:`JournalReader`, the
CLI, the UI) open their own read-only connections. See ``docs/journal.md``.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real types for mypy; at run time they load lazily (below)
    from tradeterm.journal.files import JournalError
    from tradeterm.journal.reader import JournalReader, load_state
    from tradeterm.journal.records import (
        AccountRecord, CommandRecord, DayState, EquityPoint, RestoredState, RiskEvent, RunRecord,
        SignalRecord, config_hash,
    )
    from tradeterm.journal.writer import JournalWriteError, JournalWriter

# Lazy exports (PEP 562): ``tradeterm --help`` and the CLI's parser must not pay for sqlite-utils.
_EXPORTS = {
    "JournalError": "files", "JournalReader": "reader", "load_state": "reader",
    "AccountRecord": "records", "CommandRecord": "records", "DayState": "records",
    "EquityPoint": "records", "RestoredState": "records", "RiskEvent": "records",
    "RunRecord": "records", "SignalRecord": "records", "config_hash": "records",
    "JournalWriteError": "writer", "JournalWriter": "writer",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


__all__ = [
    "AccountRecord", "CommandRecord", "DayState", "EquityPoint", "JournalError", "JournalReader",
    "JournalWriteError", "JournalWriter", "RestoredState", "RiskEvent", "RunRecord",
    "SignalRecord", "config_hash", "load_state",
]
