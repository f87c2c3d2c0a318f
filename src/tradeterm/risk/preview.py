"""The order ticket's preview: the exact order a draft becomes, and what it risks. Pure.

Why here and not in the ticket: the numbers shown before Enter must be the numbers the engine
places. The draft is sized with the risk package's own sizing (:func:`size_for_stop`), snapped to
the exchange's tick and lot step, and turned into the same :class:`OrderRequest` that
``PlaceOrder`` carries; the verdict comes from a callback the desk supplies (the risk engine's
side-effect-free ``evaluate`` plus the broker's filters), so this module changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Protocol

from tradeterm.core.money import ZERO, fee, to_step, to_tick
from tradeterm.core.preview import OrderPreview, TicketDraft
from tradeterm.core.trading import Bracket, OrderRequest, OrderType
from tradeterm.risk.rules import fmt
from tradeterm.risk.sizing import HUNDRED, size_for_stop

RISK_NEEDS_STOP = "risk % sizing needs a stop"

Verdict = Callable[[OrderRequest], str | None]
"""The reason the desk would refuse ``request`` (risk first, then the exchange filters)."""


class Grid(Protocol):
    """A market's price tick and lot step: what the preview snaps to. The broker's
    ``MarketRules`` is one; a protocol because risk sits beside the broker and may not import
    it (``docs/architecture.md``, layers)."""

    @property
    def tick(self) -> Decimal: ...

    @property
    def step(self) -> Decimal: ...


def entry_price(draft: TicketDraft, rules: Grid, touch: Decimal | None) -> Decimal | None:
    """The price the order is measured at: its limit on the tick (a buy rounds down, a sell up:
    never a worse price than typed), or for a market order the touch it would take."""
    if draft.type is OrderType.LIMIT:
        return None if draft.price is None else to_tick(draft.price, rules.tick, draft.side)
    return touch


def level_problem(draft: TicketDraft, entry: Decimal, stop: Decimal | None,
                  target: Decimal | None) -> str | None:
    """A stop must be on the losing side of the entry and a target on the winning side."""
    buy = draft.side == "buy"
    if stop is not None and (stop >= entry if buy else stop <= entry):
        return f"stop {fmt(stop)} is not {'below' if buy else 'above'} the entry {fmt(entry)}"
    if target is not None and (target <= entry if buy else target >= entry):
        return f"target {fmt(target)} is not {'above' if buy else 'below'} the entry {fmt(entry)}"
    return None


def quantity_for(draft: TicketDraft, entry: Decimal, stop: Decimal | None, equity: Decimal,
                 step: Decimal) -> Decimal | str:
    """Base quantity floored to the lot step, or the reason there is none."""
    if draft.size <= ZERO:
        return "size must be positive"
    if draft.unit == "base":
        quantity = to_step(draft.size, step)
    elif draft.unit == "quote":
        quantity = to_step(draft.size / entry, step)
    else:
        if stop is None:
            return RISK_NEEDS_STOP
        quantity = size_for_stop(entry, stop, equity, draft.size, step)
    if quantity <= ZERO:
        unit = {"base": "", "quote": " quote", "risk": "% of equity at risk"}[draft.unit]
        return f"size {fmt(draft.size)}{unit} rounds to no quantity (lot step {fmt(step)})"
    return quantity


def preview_order(
    draft: TicketDraft,
    *,
    rules: Grid,
    touch: Decimal | None,
    equity: Decimal,
    taker_fee: Decimal,
    verdict: Verdict,
) -> OrderPreview:
    """Size, snap and measure ``draft``; ``allowed`` only if ``verdict`` finds no refusal.

    ``touch`` is the best ask for a buy (best bid for a sell), or the last trade; ``equity``
    the account's. Money at risk is the stop distance times the quantity plus the taker fee on
    the entry and on the exit at the stop; R:R is the target distance over the stop distance.
    """
    entry = entry_price(draft, rules, touch)
    if entry is None or entry <= ZERO:
        why = "a limit order needs a price" if draft.type is OrderType.LIMIT else (
            f"no price for {draft.symbol} yet")
        return OrderPreview(None, False, why)
    stop = None if draft.stop is None else to_tick(draft.stop, rules.tick)
    target = None if draft.target is None else to_tick(draft.target, rules.tick)
    problem = level_problem(draft, entry, stop, target)
    if problem is not None:
        return OrderPreview(None, False, problem, reference_price=entry)
    quantity = quantity_for(draft, entry, stop, equity, rules.step)
    if isinstance(quantity, str):
        return OrderPreview(None, False, quantity, reference_price=entry)
    bracket = None if stop is None and target is None else Bracket(stop, target)
    request = OrderRequest(
        draft.symbol, draft.side, draft.type, quantity,
        price=entry if draft.type is OrderType.LIMIT else None, bracket=bracket,
    )
    notional = quantity * entry
    exit_price = stop if stop is not None else entry
    fees = fee(entry, quantity, taker_fee) + fee(exit_price, quantity, taker_fee)
    risk = None if stop is None else abs(entry - stop) * quantity + fees
    reward_risk = None
    if stop is not None and target is not None:
        reward_risk = abs(target - entry) / abs(entry - stop)
    reason = verdict(request)
    return OrderPreview(
        request=request,
        allowed=reason is None,
        reason=reason,
        reference_price=entry,
        quantity=quantity,
        notional=notional,
        risk_amount=risk,
        risk_pct=None if risk is None or equity <= ZERO else risk * HUNDRED / equity,
        reward_risk=reward_risk,
        fee_estimate=fees,
    )
