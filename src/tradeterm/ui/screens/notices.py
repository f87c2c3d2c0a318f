"""The notification log: every notice of this session (the last ``LOG_SIZE``), newest first,
with its time (UTC), severity and text, including the ones folded into a burst's summary toast
or gone before anyone read them (``N``, or "Notifications" in the palette)."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tradeterm.ui.notices import LOG_SIZE, Notice

_STYLE = {"warning": "yellow", "error": "bold red"}


def notice_row(notice: Notice) -> tuple[str, Text, str]:
    """``(time, severity, text)``: one line each (a multi-line text joined with " · ")."""
    when = datetime.fromtimestamp(notice.at, UTC).strftime("%H:%M:%S")
    text = " · ".join(line for line in notice.text.splitlines() if line.strip())
    if notice.title:
        text = f"{notice.title}: {text}"
    return when, Text(notice.severity, style=_STYLE.get(notice.severity, "")), text


class NotificationLogScreen(ModalScreen[None]):
    """Lists ``notices`` (newest first) in a table the arrow keys scroll; escape, q or N closes."""

    DEFAULT_CSS = """
    NotificationLogScreen { align: center middle; }
    NotificationLogScreen > Vertical {
        width: 100%; max-width: 120; height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    NotificationLogScreen #notices-title { text-style: bold; color: $accent; }
    NotificationLogScreen #notices-hint { color: $text-muted; }
    NotificationLogScreen DataTable { height: 1fr; }
    """

    BINDINGS = [Binding("escape,q,N", "close", "Close", show=False)]

    def __init__(self, notices: list[Notice]) -> None:
        super().__init__()
        self.notices = notices

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Notifications ({len(self.notices)}, newest first; the last "
                         f"{LOG_SIZE} are kept)", id="notices-title")
            yield Static("↑↓ scroll · escape closes", id="notices-hint")
            table: DataTable[str | Text] = DataTable(id="notices", cursor_type="row",
                                                     zebra_stripes=True)
            table.add_columns("Time", "Severity", "Text")
            for notice in self.notices:
                table.add_row(*notice_row(notice))
            yield table

    def action_close(self) -> None:
        self.dismiss(None)
