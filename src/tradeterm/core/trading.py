"""Orders, fills, positions and the account: the vocabulary of risk, broker and journal.

All quantities and prices are ``Decimal`` (see ``core.money``). Everything is frozen: the broker
replaces an order with its next version (``dataclasses.replace``) and hands out snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from tradeterm.core.models import Side


class OrderType(str, Enum):
    MARKET = "market"
    LIMIT = "limit"
    STOP_MARKET = "stop_market"  # becomes a market order when the last trade reaches stop_price
    STOP_LIMIT = "stop_limit"  # becomes a limit order at ``price`` when triggered
    TRAILING_STOP = "trailing_stop"  # a stop that follows the best price by ``trail``


class TimeInForce(str, Enum):
    GTC = "gtc"  # rests until filled or cancelled
    IOC = "ioc"  # fills what it can at once, the rest is cancelled
    POST_ONLY = "post_only"  # rejected if it would take liquidity


class OrderStatus(str, Enum):
    PENDING = "pending"  # accepted, not yet at the book (latency)
    OPEN = "open"  # working (resting limit, untriggered stop)
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"  # IOC remainder, or a market order that ran out of book

    @property
    def is_working(self) -> bool:
        return self in (OrderStatus.PENDING, OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)


class Liquidity(str, Enum):
    MAKER = "maker"
    TAKER = "taker"


@dataclass(frozen=True, slots=True)
class TargetLeg:
    """One take-profit leg of a scale-out bracket: its limit price (None: no take-profit, the
    leg rides to the stop or an exit) and its integer weight (``core.scale_out.leg_weights``)."""

    price: Decimal | None
    weight: int


@dataclass(frozen=True, slots=True)
class Bracket:
    """Protective orders attached to an entry: placed when it fills, one cancels the other.
    With ``legs`` (a strategy's scale-out, ``docs/strategies.md``): the stop plus one
    reduce-only take-profit per leg; a leg's fill shrinks the stop to what is left."""

    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    legs: tuple[TargetLeg, ...] = ()


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What a strategy, the UI or a script asks for; risk checks it, the broker executes it."""

    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal  # base asset
    price: Decimal | None = None  # limit price (LIMIT, STOP_LIMIT)
    stop_price: Decimal | None = None  # trigger (STOP_*), initial trigger for TRAILING_STOP
    trail: Decimal | None = None  # TRAILING_STOP distance in quote
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False
    bracket: Bracket | None = None
    strategy: str | None = None  # None: a manual order
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class Order:
    """One order as the broker knows it now."""

    id: str
    request: OrderRequest
    status: OrderStatus
    created_ms: int
    updated_ms: int
    filled_quantity: Decimal = Decimal(0)
    average_price: Decimal | None = None
    fees: Decimal = Decimal(0)  # quote
    stop_price: Decimal | None = None  # current trigger (moves for trailing stops)
    parent_id: str | None = None  # the entry a bracket child protects
    oco_group: str | None = None  # siblings cancelled when one fills
    reason: str | None = None  # why rejected / expired / cancelled

    @property
    def remaining(self) -> Decimal:
        return self.request.quantity - self.filled_quantity


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. Committed to the journal before anyone is told about it."""

    id: str
    order_id: str
    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    fee: Decimal  # in quote
    liquidity: Liquidity
    timestamp: int
    strategy: str | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """An open position: ``quantity`` > 0 long, < 0 short (margin-style, leverage 1)."""

    symbol: str
    quantity: Decimal
    average_entry: Decimal
    opened_ms: int
    strategy: str | None = None
    stop: Decimal | None = None
    target: Decimal | None = None
    initial_risk: Decimal | None = None  # quote at risk when opened: |entry - stop| * qty (for R)
    realized_pnl: Decimal = Decimal(0)  # of the partial closes so far
    fees: Decimal = Decimal(0)
    max_adverse: Decimal = Decimal(0)  # MAE in quote (<= 0)
    max_favorable: Decimal = Decimal(0)  # MFE in quote (>= 0)
    entry_order_id: str | None = None  # the order whose fill opened it (its signal's reasons)

    @property
    def side(self) -> Side:
        return "buy" if self.quantity > 0 else "sell"


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """A position from open to flat, for the journal's positions table and the stats."""

    symbol: str
    side: Side
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    opened_ms: int
    closed_ms: int
    pnl: Decimal  # realised, after fees
    fees: Decimal
    r_multiple: Decimal | None
    mae: Decimal
    mfe: Decimal
    strategy: str | None = None
    initial_risk: Decimal | None = None  # quote at risk when opened (MAE/MFE in R); None: no stop
    entry_order_id: str | None = None  # the order whose fill opened it


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """Balance, equity and what is open, marked to the book mid."""

    quote: str
    balance: Decimal  # cash, after realised PnL and fees
    equity: Decimal  # balance + unrealised PnL at the mid
    unrealized_pnl: Decimal
    realized_pnl_today: Decimal
    positions: tuple[Position, ...] = ()
    orders: tuple[Order, ...] = field(default=())  # working orders only
