"""The fill model's arithmetic: walking an L2 book, the queue estimate, fees. Pure functions.

Market data are floats; they become money here, once, through ``dec`` and the symbol's
tick/step (a level's price to the nearest tick, its size down to the step: never more depth
than the exchange showed). The broker keeps the book as the feed delivered it and converts
only the levels an order actually touches, so absorbing book updates stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal

from tradeterm.core.models import Side
from tradeterm.core.money import ZERO, dec, to_step, to_tick
from tradeterm.core.money import fee as fee  # re-exported: the fee formula lives in core

Level = tuple[Decimal, Decimal]  # (price, size), exact


def levels(raw: Sequence[tuple[float, float]], tick: Decimal, step: Decimal) -> Iterator[Level]:
    """A book side's levels as exact (price, size), best first; empty levels are skipped."""
    for price, size in raw:
        qty = to_step(dec(size), step)
        if qty > ZERO:
            yield to_tick(dec(price), tick), qty


def crosses(side: Side, level_price: Decimal, limit: Decimal | None) -> bool:
    """Whether an order on ``side`` with ``limit`` (None: market) may trade at ``level_price``."""
    if limit is None:
        return True
    return level_price <= limit if side == "buy" else level_price >= limit


def walk(
    side: Side,
    opposite: Iterator[Level],
    quantity: Decimal,
    limit: Decimal | None,
    consumed: Mapping[Decimal, Decimal],
) -> list[Level]:
    """Take up to ``quantity`` from the opposite side, level by level, one fill per level.

    ``limit`` stops the walk at the first level beyond the limit price (None: no limit).
    ``consumed`` is depth already taken from this snapshot by earlier orders (the book is not
    replenished until the next snapshot arrives). Returns the (price, quantity) fills; their sum
    is below ``quantity`` when the book runs out.
    """
    fills: list[Level] = []
    left = quantity
    for price, size in opposite:
        if left <= ZERO or not crosses(side, price, limit):
            break
        available = size - consumed.get(price, ZERO)
        if available <= ZERO:
            continue
        take = min(left, available)
        fills.append((price, take))
        left -= take
    return fills


def size_at(same_side: Iterator[Level], price: Decimal) -> Decimal:
    """The size resting at ``price`` on the order's own side: the queue ahead of a new order."""
    for level_price, size in same_side:
        if level_price == price:
            return size
    return ZERO
