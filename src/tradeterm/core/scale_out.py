"""Scale-outs: a strategy's ``scale_out`` shares as exact leg quantities.

One rule for the backtester and the live path, so the two take the same legs: the shares become
integer weights (parts per million, :func:`leg_weights`); a position of ``n`` steps gives leg
``j`` ``floor(n x w_j / sum(w))`` steps and the last leg the rest (:func:`split_quantity`,
what ``backtest/kernel.py`` computes in integers). Live, each leg with a target is a reduce-only
take-profit order, so a leg the exchange would refuse (below its minimum quantity or minimum
notional at the leg's price) is merged into the previous leg, with a notice
(:func:`plan_legs`); the backtester merges by the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

ONE_SHARE = 1_000_000
"""A share of 1 as an integer weight (parts per million)."""

MAX_LEGS = 3


def leg_weights(scale_out: Sequence[float]) -> tuple[int, ...]:
    """A strategy's ``scale_out`` shares as integer weights (parts per million, exact for the
    floor division); ``()`` -> one leg. Refused (``ValueError``): more than three, a share not
    in (0, 1], shares not summing to 1."""
    if not scale_out:
        return (1,)
    if len(scale_out) > MAX_LEGS or not all(0 < float(s) <= 1 for s in scale_out):
        raise ValueError(f"scale_out must be 1 to 3 shares in (0, 1], got {tuple(scale_out)!r}")
    weights = tuple(round(float(s) * ONE_SHARE) for s in scale_out)
    if abs(sum(weights) - ONE_SHARE) > 1:
        raise ValueError(f"scale_out shares must sum to 1, got {tuple(scale_out)!r}")
    return weights


def split_steps(steps: int, weights: Sequence[int]) -> tuple[int, ...]:
    """``steps`` (a whole number of steps) in legs: ``floor(steps x w / total)``, the last leg
    the rest. The backtester's kernel does exactly this in its integers."""
    total = sum(weights)
    legs = [steps * w // total for w in weights[:-1]]
    return (*legs, steps - sum(legs))


def _step_of(quantity: Decimal, step: Decimal) -> Decimal:
    """The grid to split on: the market's step, or (no grid) the quantity's last digit."""
    if step > 0:
        return step
    exponent = quantity.as_tuple().exponent
    return Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)


def split_quantity(quantity: Decimal, weights: Sequence[int], step: Decimal) -> tuple[Decimal, ...]:
    """``quantity`` (on the step) in legs of whole steps, the last leg the rest: exact."""
    grid = _step_of(quantity, step)
    steps = int(quantity // grid)
    legs = split_steps(steps, weights)
    rest = quantity - steps * grid  # off the grid (never for a sized order): on the last leg
    return tuple(q * grid + (rest if j == len(legs) - 1 else 0) for j, q in enumerate(legs))


@dataclass(frozen=True, slots=True)
class LegPlan:
    """The legs as they will be placed: quantity per leg (0: none), in leg order, and what was
    merged (one line each)."""

    quantities: tuple[Decimal, ...]
    notices: tuple[str, ...] = ()


def _too_small(qty: Decimal, price: Decimal | None, min_qty: Decimal,
               min_notional: Decimal) -> bool:
    """A take-profit order of ``qty`` at ``price`` the exchange would refuse."""
    return price is not None and qty > 0 and (qty < min_qty or qty * price < min_notional)


def merge_small(quantities: Sequence[Decimal], prices: Sequence[Decimal | None], *,
                min_qty: Decimal, min_notional: Decimal) -> LegPlan:
    """Legs with a take-profit below ``min_qty`` or ``min_notional`` (at their price) merged
    into the previous leg (the first into the next leg that has a quantity), last leg first, so
    small legs gather until one is large enough. A leg without a price is no order and is never
    merged; what it receives rides with it."""
    legs = list(quantities)
    notices: list[str] = []
    for j in range(len(legs) - 1, 0, -1):
        if _too_small(legs[j], prices[j], min_qty, min_notional):
            notices.append(f"target {j + 1} leg of {legs[j]} is below the market's minimum: "
                           f"merged into target {j}")
            legs[j - 1] += legs[j]
            legs[j] = Decimal(0)
    if _too_small(legs[0], prices[0], min_qty, min_notional):
        later = next((j for j in range(1, len(legs)) if legs[j] > 0), None)
        if later is not None:
            notices.append(f"target 1 leg of {legs[0]} is below the market's minimum: "
                           f"merged into target {later + 1}")
            legs[later] += legs[0]
            legs[0] = Decimal(0)
    return LegPlan(tuple(legs), tuple(notices))


def plan_legs(quantity: Decimal, weights: Sequence[int], prices: Sequence[Decimal | None], *,
              step: Decimal, min_qty: Decimal, min_notional: Decimal) -> LegPlan:
    """The legs of a position of ``quantity``: split on the step, then small ones merged."""
    return merge_small(split_quantity(quantity, weights, step), prices, min_qty=min_qty,
                       min_notional=min_notional)


LEG_TAG = ":tp"
"""A take-profit leg's ``client_id`` is ``<entry id>:tp<n>``: the leg survives a restart with
the order (the journal keeps client ids), and the panels show its number."""


def leg_client_id(entry_id: str, leg: int) -> str:
    """The client id of take-profit leg ``leg`` (1-based) of entry ``entry_id``."""
    return f"{entry_id}{LEG_TAG}{leg}"


def leg_of(client_id: str | None) -> int | None:
    """The take-profit leg number a ``client_id`` names (``leg_client_id``), else None."""
    if not client_id or LEG_TAG not in client_id:
        return None
    tail = client_id.rsplit(LEG_TAG, 1)[1]
    return int(tail) if tail.isdigit() else None


__all__ = ["LEG_TAG", "MAX_LEGS", "ONE_SHARE", "LegPlan", "leg_client_id", "leg_of",
           "leg_weights", "merge_small", "plan_legs", "split_quantity", "split_steps"]
