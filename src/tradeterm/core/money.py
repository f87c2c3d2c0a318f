"""Exact money: every order, fill, balance and PnL is a ``Decimal``, never a binary float.

Market data arrive as floats (ccxt); they cross into money only through :func:`dec`, which goes
through the float's shortest repr (``64990.12`` stays ``Decimal("64990.12")``, not
``64990.11999999999534...``), and are then snapped to the exchange's tick or step.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_UP, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)


def dec(value: Decimal | float | int | str) -> Decimal:
    """``value`` as a Decimal; floats through their shortest repr. ValueError for NaN/inf."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def to_step(value: Decimal, step: Decimal, rounding: str = ROUND_DOWN) -> Decimal:
    """``value`` rounded to a multiple of ``step`` (quantities round down: never more than asked)."""
    if step <= 0:
        return value
    return (value / step).to_integral_value(rounding=rounding) * step


def to_tick(price: Decimal, tick: Decimal, side: str | None = None) -> Decimal:
    """``price`` on the tick grid: a buy rounds down, a sell up (never a worse price), else nearest."""
    rounding = {"buy": ROUND_DOWN, "sell": ROUND_UP}.get(side or "", ROUND_HALF_EVEN)
    return to_step(price, tick, rounding)


def fee(price: Decimal, quantity: Decimal, rate: Decimal) -> Decimal:
    """Fee in quote for one fill, exact (no rounding: Decimal products of exact inputs).

    Here, not in the broker, because the risk package's order preview estimates the same fee
    and may not import the broker (``docs/architecture.md``, layers)."""
    return price * quantity * rate
