"""Position size from the stop distance: the stop, if hit, loses ``risk_pct`` of equity.

The quotient is taken rounding down and the result is floored to the step, so the size never
risks more than the budget, and the risk engine's own check (same budget, exact product) passes
it. Fees are not part of the budget: they are small and the check must agree with the sizing.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal, localcontext

from tradeterm.core.models import Signal
from tradeterm.core.money import ZERO, dec, to_step

HUNDRED = Decimal(100)


def risk_budget(equity: Decimal, risk_pct: Decimal) -> Decimal:
    """Quote that one trade may lose: ``equity * risk_pct / 100`` rounded down; 0 if no equity."""
    if equity <= ZERO:
        return ZERO
    with localcontext() as ctx:
        ctx.rounding = ROUND_DOWN
        return equity * risk_pct / HUNDRED


def size_for_stop(
    entry: Decimal, stop: Decimal, equity: Decimal, risk_pct: Decimal, step: Decimal | None = None
) -> Decimal:
    """Quantity whose loss from ``entry`` to ``stop`` is at most ``risk_pct`` % of ``equity``."""
    distance = abs(entry - stop)
    budget = risk_budget(equity, risk_pct)
    if distance == ZERO or budget == ZERO:
        return ZERO
    with localcontext() as ctx:
        ctx.rounding = ROUND_DOWN
        quantity = budget / distance
    return to_step(quantity, step) if step is not None else quantity


def position_cap(
    price: Decimal, equity: Decimal, max_pct: Decimal, max_quote: Decimal, step: Decimal
) -> Decimal:
    """The largest quantity ``[risk] max_position_pct`` and ``max_position_quote`` allow at
    ``price``, rounded down to ``step``. Entries are scaled down to it rather than refused, live
    and in the backtester alike."""
    if price <= ZERO:
        return ZERO
    with localcontext() as ctx:
        ctx.rounding = ROUND_DOWN
        quote = min(equity * max_pct / HUNDRED, max_quote)
        return to_step(quote / price, step)


def signal_levels(
    signal_or_entry: Signal | Decimal, stop: Decimal | None
) -> tuple[Decimal, Decimal]:
    """(entry, stop) as Decimals from a signal (float analysis prices) or given directly."""
    if isinstance(signal_or_entry, Signal):
        if signal_or_entry.entry is None:
            raise ValueError(f"signal of {signal_or_entry.strategy} has no entry price")
        entry = dec(signal_or_entry.entry)
        if stop is None and signal_or_entry.stop is not None:
            stop = dec(signal_or_entry.stop)
    else:
        entry = signal_or_entry
    if stop is None:
        raise ValueError("sizing needs a stop price")
    return entry, stop
