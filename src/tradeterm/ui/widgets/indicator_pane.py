"""The indicator pane under the chart: RSI or MACD of the chart's candles. (Contract stub: replaced by its implementation.)"""

from __future__ import annotations

from textual.widgets import Static

from tradeterm.core.models import EngineSnapshot
from tradeterm.ui.themes import TradingColors


class IndicatorPane(Static):
    def update_data(self, snap: EngineSnapshot, colors: TradingColors) -> None:
        """Take the engine snapshot; repaint only if this panel's slice changed."""

    def cycle_mode(self) -> str:
        """Switch RSI -> MACD -> RSI; returns the new mode's name."""
        return "rsi"
