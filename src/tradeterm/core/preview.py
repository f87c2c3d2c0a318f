"""The order ticket's question to the engine, and the answer shown before Enter confirms.

The ticket describes what the user typed (:class:`TicketDraft`); the engine turns it into the
exact order it would place, sized and checked by the same risk engine that will check it again
on submit, and answers with :class:`OrderPreview`. Nothing here changes any state.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from tradeterm.core.models import Side
from tradeterm.core.trading import OrderRequest, OrderType

SizeUnit = Literal["quote", "base", "risk"]  # quote amount, base quantity, or % of equity at risk


@dataclass(frozen=True, slots=True)
class TicketDraft:
    symbol: str
    side: Side
    type: OrderType  # MARKET or LIMIT
    size: Decimal
    unit: SizeUnit
    price: Decimal | None = None  # limit price (LIMIT only)
    stop: Decimal | None = None
    target: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderPreview:
    """What Enter would do. ``request`` is None when no valid order can be built; ``allowed``
    is False when risk or the exchange filters would refuse it, ``reason`` says which rule."""

    request: OrderRequest | None
    allowed: bool
    reason: str | None = None
    reference_price: Decimal | None = None  # the limit price, or the touch a market order takes
    quantity: Decimal | None = None  # base, snapped to the lot step
    notional: Decimal | None = None  # quote
    risk_amount: Decimal | None = None  # quote lost if the stop is hit (fees included)
    risk_pct: Decimal | None = None  # risk_amount as % of equity
    reward_risk: Decimal | None = None  # |target - entry| / |entry - stop|
    fee_estimate: Decimal | None = None  # quote, entry and exit at the taker fee
