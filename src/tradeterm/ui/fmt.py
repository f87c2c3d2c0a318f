"""Number formatting shared by the chart axis, the book ladder, the tape and the status bar.

Snapshots carry no market precision yet, so decimals are chosen from the price's magnitude: a
trader reading BTC at 64250.10 and a memecoin at 0.000123 both see the digits that move.
"""

from __future__ import annotations

import math
from decimal import Decimal


def price_decimals(price: float) -> int:
    """Decimals worth showing for a price of this size."""
    p = abs(price)
    if p >= 10:
        return 2
    if p >= 1:
        return 3
    if p >= 0.01:
        return 5
    return 8


def fmt_price(price: float, decimals: int | None = None) -> str:
    """``price`` with ``decimals`` (default: from its magnitude), no thousands separators."""
    return f"{price:.{price_decimals(price) if decimals is None else decimals}f}"


def fmt_decimal(value: Decimal) -> str:
    """``1.25``, ``-0.14``, ``0.0046``: two decimals, or two significant digits when that would
    read as zero, so a small fee or risk never shows as ``0.00``."""
    if value == 0 or abs(value) >= Decimal("0.01"):
        return f"{value:.2f}"
    return f"{value:.2g}" if abs(value) >= Decimal("0.0001") else f"{value:.1e}"


def fmt_qty(quantity: Decimal, width: int = 8) -> str:
    """An order or position quantity, exactly (``0.00153``) when it fits in ``width``; a held
    quantity must not read as a rounded one. Only a quantity too long to fit is shortened."""
    text = f"{quantity.normalize():f}"
    return text if len(text) <= width else fmt_size(float(quantity), width)


def fmt_size(size: float, width: int = 8) -> str:
    """A size in at most ``width`` characters: as many decimals as fit, then k/M suffixes."""
    for decimals in (4, 3, 2, 1, 0):
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
