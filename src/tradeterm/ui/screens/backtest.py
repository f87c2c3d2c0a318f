"""The backtest screen (``t``): choose strategy, symbol, range and parameters; progress; results,
equity curve; trades drawn on a chart. (Contract stub: replaced by its implementation.)"""

from __future__ import annotations

from textual.screen import Screen

from tradeterm.config import Settings


class BacktestScreen(Screen[None]):
    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
