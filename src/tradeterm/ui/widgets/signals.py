"""Recent strategy signals (strategy, side, confidence, reasons) and strategy health. (Contract stub: replaced by its implementation.)"""

from __future__ import annotations

from textual.widgets import Static

from tradeterm.core.models import EngineSnapshot
from tradeterm.ui.themes import TradingColors


class SignalsPanel(Static):
    def update_data(self, snap: EngineSnapshot, colors: TradingColors) -> None:
        """Take the engine snapshot; repaint only if this panel's slice changed."""
