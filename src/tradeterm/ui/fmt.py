"""The screens' side of the money display policy (:mod:`tradeterm.core.display`).

There is one policy: prices on the market's tick, quantities on its step, quote amounts at the
quote currency's decimals, R and % at 2. The helpers here only add what a screen needs on top
of it: the market's grid read from the engine snapshot (:func:`market_format`), and fitting a
number into a fixed column (:func:`fmt_size`, :func:`fmt_qty`). Before the exchange's markets
are loaded the tick is unknown and a price's decimals follow its magnitude.
"""

from __future__ import annotations

import math
from decimal import Decimal

from tradeterm.core import display
from tradeterm.core.display import MarketFormat, magnitude_places, places_of
from tradeterm.core.models import EngineSnapshot


def market_format(snap: EngineSnapshot, symbol: str) -> MarketFormat:
    """How ``symbol``'s numbers are shown (:meth:`EngineSnapshot.market_format`)."""
    return snap.market_format(symbol)


def price_decimals(price: float, tick: Decimal | None = None) -> int:
    """Decimals of a price: the tick's, else worth showing for a price of this size."""
    places = places_of(tick)
    if places is not None:
        return places
    return magnitude_places(Decimal(repr(float(price))))


def fmt_price(price: float | Decimal, tick: Decimal | None = None) -> str:
    """``price`` on the tick grid (the policy's :func:`~tradeterm.core.display.fmt_price`)."""
    return display.fmt_price(price, tick)


def fmt_decimals(price: float, decimals: int) -> str:
    """``price`` with a fixed number of ``decimals`` (a column of prices that share them);
    ``-0.00`` never shows."""
    text = f"{price:.{decimals}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def fmt_decimal(value: Decimal) -> str:
    """``1.25``, ``-0.14``, ``0.0046``: two decimals, or two significant digits when that would
    read as zero. Kept for the journal screen until it moves to the policy (core/display)."""
    if value == 0 or abs(value) >= Decimal("0.01"):
        return f"{value:.2f}"
    return f"{value:.2g}" if abs(value) >= Decimal("0.0001") else f"{value:.1e}"


def fmt_qty(quantity: Decimal, width: int = 8, step: Decimal | None = None) -> str:
    """An order or position quantity on the market's step (exact, no trailing zeros while the
    step is unknown); a held quantity must not read as a rounded one. Only a quantity too long
    to fit ``width`` is shortened."""
    text = display.fmt_qty(quantity, step)
    return text if len(text) <= width else fmt_size(float(quantity), width)


def fmt_size(size: float, width: int = 8, step: Decimal | None = None) -> str:
    """A market size in at most ``width`` characters: the step's decimals when known (else up
    to 4), fewer when that does not fit, then k/M suffixes."""
    places = places_of(step)
    start = 4 if places is None else places
    for decimals in range(start, -1, -1):
        text = f"{size:.{decimals}f}"
        if len(text) <= width:
            return text
    for divisor, suffix in ((1e3, "k"), (1e6, "M"), (1e9, "G")):
        text = f"{size / divisor:.1f}{suffix}"
        if len(text) <= width:
            return text
    return f"{size:.2g}"


def nice_step(span: float, target_count: int) -> float:
    """A 1/2/5 x 10^k step that divides ``span`` into about ``target_count`` intervals."""
    if span <= 0 or target_count <= 0:
        return 1.0
    raw = span / target_count
    magnitude = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * magnitude:
            return mult * magnitude
    return 10 * magnitude


def step_decimals(step: float) -> int:
    """Decimals needed to print multiples of ``step`` exactly (0.25 -> 2, 50 -> 0)."""
    for decimals in range(0, 10):
        if abs(round(step, decimals) - step) < step * 1e-9:
            return decimals
    return 10
