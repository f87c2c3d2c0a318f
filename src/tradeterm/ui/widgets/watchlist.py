"""The watchlist: symbol, last price, 24 h change, sparkline; enter switches the chart. (Contract stub: replaced by its implementation.)"""

from __future__ import annotations

from textual.widgets import Static

from tradeterm.core.models import EngineSnapshot
from tradeterm.ui.themes import TradingColors


class Watchlist(Static):
    def update_data(self, snap: EngineSnapshot, colors: TradingColors) -> None:
        """Take the engine snapshot; repaint only if this panel's slice changed."""
