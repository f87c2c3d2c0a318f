"""The spot markets the project's simulator lists, with their exchange filters, as plain data.

Why in ``core``: the simulator (``sim/spec.py``) serves these filters, and the backtester uses
the same ones for its default rules when no exchange was asked (``backtest/runner.py``); the
backtester sits beside the simulator in the layers of ``docs/architecture.md`` and may not import
it, so the one table lives below both.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class ListedMarket:
    """One spot market's filters as Binance publishes them (``symbol`` without the slash)."""

    symbol: str
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_notional: Decimal


DEMO_MARKETS: dict[str, ListedMarket] = {
    m.symbol: m
    for m in (
        ListedMarket("BTCUSDT", "BTC", "USDT", Decimal("0.01"), Decimal("0.00001"), Decimal("5")),
        ListedMarket("ETHUSDT", "ETH", "USDT", Decimal("0.01"), Decimal("0.0001"), Decimal("5")),
        ListedMarket("SOLUSDT", "SOL", "USDT", Decimal("0.01"), Decimal("0.001"), Decimal("5")),
    )
}
