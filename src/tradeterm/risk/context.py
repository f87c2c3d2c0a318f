"""What a risk check sees (:class:`RiskContext`) and what it answers (:class:`RiskDecision`).

The risk engine does not reach into the broker: the engine builds a context from the account
snapshot and the book, so every rule is a pure function of (request, context, settings) and a
test states its inputs in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradeterm.core.money import ZERO
from tradeterm.core.trading import AccountSnapshot, Order, OrderRequest, OrderType, Position


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """Approved, or denied by ``rule`` with a ``reason`` naming the rule and the numbers."""

    approved: bool
    rule: str | None = None
    reason: str | None = None


APPROVED = RiskDecision(True)


def deny(rule: str, detail: str) -> RiskDecision:
    """A denial whose reason starts with the rule's name: ``"rule: detail"``."""
    return RiskDecision(False, rule, f"{rule}: {detail}")


@dataclass(frozen=True, slots=True)
class RiskContext:
    """The account and market facts the rules need at the moment of the check."""

    equity: Decimal
    balance: Decimal
    positions: tuple[Position, ...] = ()
    orders: tuple[Order, ...] = ()  # working orders
    mid: Decimal | None = None  # book mid of the request's symbol
    reduces: bool = False  # the request only reduces an existing position (no flip)

    @classmethod
    def of(
        cls, account: AccountSnapshot, request: OrderRequest, mid: Decimal | None
    ) -> RiskContext:
        """The context for ``request`` from an account snapshot (``reduces`` computed)."""
        return cls(
            equity=account.equity,
            balance=account.balance,
            positions=account.positions,
            orders=account.orders,
            mid=mid,
            reduces=reduces_position(request, account.positions),
        )

    def position(self, symbol: str) -> Position | None:
        """The open position on ``symbol``, if any."""
        for pos in self.positions:
            if pos.symbol == symbol and pos.quantity != ZERO:
                return pos
        return None


def reduces_position(request: OrderRequest, positions: tuple[Position, ...]) -> bool:
    """True when ``request`` is on the opposite side of an open position and no larger than it."""
    for pos in positions:
        if pos.symbol == request.symbol and pos.quantity != ZERO:
            return pos.side != request.side and request.quantity <= abs(pos.quantity)
    return False


def reference_price(request: OrderRequest, mid: Decimal | None) -> Decimal | None:
    """The price the order is expected to trade at: its limit, its trigger, or the mid."""
    if request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and request.price is not None:
        return request.price
    if request.type in (OrderType.STOP_MARKET, OrderType.TRAILING_STOP) and request.stop_price:
        return request.stop_price
    return mid


def is_working_entry(order: Order) -> bool:
    """A working order that may open exposure (not reduce-only, not a protective bracket child)."""
    return order.status.is_working and not order.request.reduce_only and order.parent_id is None
