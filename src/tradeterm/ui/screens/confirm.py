"""A yes/no question for actions that cannot be undone (flatten all, kill switch, resume).

``y`` or Enter answers True, ``n`` or escape False. The keys are priority bindings so nothing
underneath can take them. ``danger`` (the kill switch) draws the question in the error colour.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    """``y``/Enter answers True, ``n``/escape False."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 60; max-width: 100%; height: auto; max-height: 100%;
        border: round $warning; background: $surface; padding: 0 1;
    }
    ConfirmScreen #confirm-title { text-style: bold; color: $warning; }
    ConfirmScreen #confirm-body { margin: 1 0; }
    ConfirmScreen #confirm-hint { color: $text-muted; }
    ConfirmScreen.-danger > Vertical { border: heavy $error; }
    ConfirmScreen.-danger #confirm-title { color: $error; }
    """

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", priority=True),
        Binding("n,escape", "answer(False)", "No", priority=True),
    ]

    def __init__(
        self, title: str, body: str, *, confirm_label: str = "Yes", danger: bool = False
    ) -> None:
        super().__init__(classes="-danger" if danger else None)
        self.title_text, self.body, self.confirm_label = title, body, confirm_label
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, id="confirm-title", markup=False)
            yield Static(self.body, id="confirm-body", markup=False)
            yield Static(f"y / Enter: {self.confirm_label}   ·   n / Esc: cancel",
                         id="confirm-hint", markup=False)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
