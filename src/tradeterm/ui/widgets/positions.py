"""Open positions: side, size, entry, mark, unrealised PnL, R, stop/target. (Contract stub: replaced by its implementation.)"""

from __future__ import annotations

from textual.widgets import Static

from tradeterm.core.models import EngineSnapshot
from tradeterm.ui.themes import TradingColors


class PositionsTable(Static):
    def update_data(self, snap: EngineSnapshot, colors: TradingColors) -> None:
        """Take the engine snapshot; repaint only if this panel's slice changed."""

    def selected_symbol(self) -> str | None:
        """The symbol of the highlighted position (the first one if none is highlighted)."""
        return None
