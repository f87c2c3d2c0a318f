"""The question asked when ``x`` cancels one leg of a bracket (its stop or its target).

Why a question: the legs are one-cancels-the-other, and cancelling the stop used to cancel the
target with it, silently leaving the position without any protection. The answer is explicit:
``b`` cancels both legs, ``k`` cancels this leg and keeps the other working, escape does
nothing. There is no default on Enter: neither answer is safe to give by reflex.
"""

from __future__ import annotations

from typing import Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

LegChoice = Literal["both", "this"]
"""``both``: cancel the two legs; ``this``: cancel the chosen leg, keep the other."""


class BracketLegScreen(ModalScreen[LegChoice | None]):
    """``b`` both legs, ``k`` keep the other leg, escape: nothing (None)."""

    DEFAULT_CSS = """
    BracketLegScreen { align: center middle; }
    BracketLegScreen > Vertical {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: round $warning; background: $surface; padding: 0 1;
    }
    BracketLegScreen #leg-title { text-style: bold; color: $warning; }
    BracketLegScreen #leg-body { margin: 1 0; }
    BracketLegScreen #leg-hint { color: $text-muted; }
    """

    BINDINGS = [
        Binding("b", "choose('both')", "Cancel both legs", priority=True),
        Binding("k", "choose('this')", "Keep the other leg", priority=True),
        Binding("escape", "choose(None)", "Do nothing", priority=True),
    ]

    def __init__(self, leg: str, other: str, symbol: str) -> None:
        """``leg`` / ``other``: how the chosen leg and its sibling are described, e.g.
        ``stop 95.00`` and ``target 105.00``."""
        super().__init__()
        self.leg, self.other, self.symbol = leg, other, symbol

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"Cancel the {self.leg} of a bracket", id="leg-title", markup=False)
            yield Static(
                f"The {self.leg} and the {self.other} protect the {self.symbol} position "
                f"together. Cancel both, or only the {self.leg} and keep the {self.other} "
                "working?",
                id="leg-body", markup=False,
            )
            yield Static(f"b: cancel both   ·   k: keep the {self.other}   ·   Esc: do nothing",
                         id="leg-hint", markup=False)

    def action_choose(self, choice: LegChoice | None) -> None:
        self.dismiss(choice)
