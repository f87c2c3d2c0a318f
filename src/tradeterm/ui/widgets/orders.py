"""Working orders. (Contract stub: replaced by its implementation.)"""

from __future__ import annotations

from textual.widgets import Static

from tradeterm.core.models import EngineSnapshot
from tradeterm.ui.themes import TradingColors


class OrdersTable(Static):
    def update_data(self, snap: EngineSnapshot, colors: TradingColors) -> None:
        """Take the engine snapshot; repaint only if this panel's slice changed."""

    def selected_order_id(self) -> str | None:
        """The id of the highlighted working order (the first one if none is highlighted)."""
        return None
