"""The journal screen (``j``): closed trades, fills, signals and the statistics, read from the
journal file in a worker thread. (Contract stub: replaced by its implementation.)"""

from __future__ import annotations

from pathlib import Path

from textual.screen import Screen


class HistoryScreen(Screen[None]):
    def __init__(self, journal_path: Path) -> None:
        super().__init__()
        self.journal_path = journal_path
