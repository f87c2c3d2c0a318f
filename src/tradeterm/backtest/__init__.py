"""Backtesting and historical data.

Kept empty of imports on purpose: ``tradeterm --help`` and the UI's first frame must not pay for
polars, httpx or ccxt. Import the submodules you need (``tradeterm.backtest.data.download``).
"""
