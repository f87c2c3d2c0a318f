"""A yes/no question for actions that cannot be undone (flatten all, kill switch, resume).
(Contract stub: replaced by its implementation.)"""

from __future__ import annotations

from textual.screen import ModalScreen


class ConfirmScreen(ModalScreen[bool]):
    """``y``/Enter answers True, ``n``/escape False."""

    def __init__(self, title: str, body: str, *, confirm_label: str = "Yes") -> None:
        super().__init__()
        self.title_text, self.body, self.confirm_label = title, body, confirm_label
