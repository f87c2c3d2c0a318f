"""The strategies list (``S``): state, last run, errors; Enter starts or stops the highlighted
one. Dismisses with the command to send, or None. (Contract stub: replaced by its implementation.)"""

from __future__ import annotations

from textual.screen import ModalScreen

from tradeterm.core.commands import Command
from tradeterm.core.models import StrategyHealth


class StrategiesScreen(ModalScreen[Command | None]):
    def __init__(self, strategies: tuple[StrategyHealth, ...]) -> None:
        super().__init__()
        self.strategies = strategies
