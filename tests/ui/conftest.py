"""The screens' tests draw overlays and panes from the first frame with data, as a screen in the
engine's process does (the engine imported the indicators before its first candles): an
attached screen's deferred import is tested on its own (test_ui_chart_widget.py)."""

from tradeterm.ui.chart.overlays import load_indicators

load_indicators()
