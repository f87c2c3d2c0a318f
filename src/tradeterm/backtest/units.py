"""Exact money as integers: the fixed-point units the backtest kernel computes in.

Why: the kernel (:mod:`kernel`) is compiled, and compiled code has no ``Decimal``. Every amount
the backtester handles is a multiple of a power of ten it can know in advance: prices of the tick
(or of the finest digit of a signal's reference price), quantities of the step, fees of ``tick x
step x fee rate``, the account's balance and limits of their own last digit. So money is held as
integers of ``10**-digits`` quote (:attr:`MoneyUnits.digits`), prices as integers of ticks, and
quantities as integers of steps; the risk engine's divisions (which round down to the step) are
integer floor divisions of exact fractions. The result equals the ``Decimal`` arithmetic of
``risk.sizing`` and the paper broker to the last digit, as long as it fits: the kernel checks,
and the runner reruns in Python integers (unbounded) when it would not.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import numpy as np

LIMIT = float(2**60)
"""Largest magnitude the kernel lets a balance, a fee or a product reach before it raises. A
trade's PnL is a price difference times the quantity (< 2 LIMIT) minus two fees (< LIMIT each),
so < 4 LIMIT; a balance (< LIMIT when sized) plus that, the day's realised PnL and its starting
equity all stay under 5 LIMIT < 2**63. The sizes and the daily limit are split as
``(b // d) n + (b % d) n // d``, never ``b x n``. How much quote that is depends on the money
unit: with BTC/USDT's filters (tick 0.01, step 0.00001), 0.1 % fees make it 1e-10 quote (a
balance up to ~115 million), 0.075 % fees 1e-12 (~1.15 million); beyond, the exact Python walk
runs instead."""


def mantissa(value: Decimal) -> tuple[int, int]:
    """``value`` as ``(integer, digits)`` with ``value == integer * 10**-digits``, ``digits >= 0``
    and as few digits as that allows (``Decimal("5.00")`` is ``(5, 0)``: trailing zeros would
    only make every integer larger)."""
    sign, digits, exponent = value.normalize().as_tuple()
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite number: {value}")
    number = int("".join(map(str, digits))) * (-1 if sign else 1)
    if exponent >= 0:
        return number * 10**exponent, 0
    return number, -exponent


def _ratio(value: Decimal) -> tuple[int, int]:
    f = Fraction(value)
    return f.numerator, f.denominator


@dataclass(frozen=True, slots=True)
class MoneyUnits:
    """The integer scales of one backtest, and the account's settings in them.

    - prices: integers of ticks; a signal's reference price (the risk engine sizes from it)
      in integers of ``10**-price_digits`` (``tick_to_price`` of them make one tick);
    - quantities: integers of steps;
    - money: integers of ``10**-digits`` quote; ``notional`` of them make one tick x one step,
      and ``taker``/``maker`` are the fee of one tick x one step.
    """

    digits: int
    price_digits: int
    tick_to_price: int
    notional: int  # money units of 1 tick x 1 step
    ref_notional: int  # money units of 1 reference-price unit x 1 step
    taker: int  # money units of the taker fee on 1 tick x 1 step
    maker: int
    balance: int  # the starting balance
    max_quote: int  # [risk] max_position_quote
    min_notional: int
    min_qty_steps: int  # the smallest quantity the exchange takes, rounded up to whole steps
    risk_pct: tuple[int, int]  # [risk] risk_per_trade_pct as a fraction
    max_pct: tuple[int, int]  # [risk] max_position_pct
    loss_pct: tuple[int, int]  # [risk] daily_loss_limit_pct

    @classmethod
    def of(cls, *, tick: Decimal, step: Decimal, taker: Decimal, maker: Decimal,
           balance: Decimal, max_quote: Decimal, min_notional: Decimal, min_qty: Decimal,
           risk_pct: Decimal, max_pct: Decimal, loss_pct: Decimal, ref_digits: int
           ) -> MoneyUnits:
        """Scales fine enough for every amount: ``ref_digits`` is the most decimal digits of
        any reference price the signals give (0 when they are all on the tick grid)."""
        if not step > 0:
            raise ValueError("the backtester needs the market's step size (rules.step > 0)")
        tick_m, tick_d = mantissa(tick)
        step_m, step_d = mantissa(step)
        taker_m, taker_d = mantissa(taker)
        maker_m, maker_d = mantissa(maker)
        price_digits = max(tick_d, ref_digits)
        digits = max(price_digits + step_d, tick_d + step_d + max(taker_d, maker_d),
                     decimal_digits(balance), decimal_digits(max_quote),
                     decimal_digits(min_notional))
        notional = tick_m * step_m * 10 ** (digits - tick_d - step_d)
        steps = Fraction(min_qty) / Fraction(step)
        return cls(
            digits=digits, price_digits=price_digits,
            tick_to_price=tick_m * 10 ** (price_digits - tick_d),
            notional=notional,
            ref_notional=step_m * 10 ** (digits - price_digits - step_d),
            taker=tick_m * step_m * taker_m * 10 ** (digits - tick_d - step_d - taker_d),
            maker=tick_m * step_m * maker_m * 10 ** (digits - tick_d - step_d - maker_d),
            balance=to_units(balance, digits), max_quote=to_units(max_quote, digits),
            min_notional=to_units(min_notional, digits),
            min_qty_steps=-(-steps.numerator // steps.denominator),
            risk_pct=_ratio(risk_pct), max_pct=_ratio(max_pct), loss_pct=_ratio(loss_pct),
        )

    def fits_int64(self) -> bool:
        """Whether every factor is small enough for the compiled kernel (``max_quote`` and
        ``min_notional`` are only divided or compared: see :meth:`capped`)."""
        values = (self.tick_to_price, self.notional, self.ref_notional, self.taker, self.maker,
                  self.balance, self.min_qty_steps, *self.risk_pct, *self.max_pct,
                  *self.loss_pct)
        return all(abs(v) < LIMIT for v in values)

    @staticmethod
    def capped(amount: int) -> int:
        """``max_quote`` or ``min_notional`` for the compiled kernel: at most 2**62 - 1. The
        same decisions: a position's notional is under :data:`LIMIT` there, so a larger cap
        never binds and a larger minimum refuses every entry either way."""
        return min(amount, 2**62 - 1)

    def money(self, units: int) -> Decimal:
        """An integer of money units as a Decimal, without trailing zeros after the point."""
        return plain(Decimal(int(units)).scaleb(-self.digits))


def to_units(value: Decimal, digits: int) -> int:
    number, own = mantissa(value)
    return number * 10 ** (digits - own)


def plain(value: Decimal) -> Decimal:
    """``value`` without trailing zeros after the point (``10166.87450`` -> ``10166.8745``,
    ``1.0E+4`` -> ``10000``)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def on_tick_grid(refs: np.ndarray, ticks: np.ndarray, floats: np.ndarray, mant: int
                 ) -> np.ndarray:
    """Which reference prices are exactly ``ticks`` ticks (whose floats are ``floats``): then
    their Decimal, as the risk engine takes it (``dec()``: the shortest repr), is the grid
    price, since a float equal to the float of an on-grid price of at most 15 significant digits
    has that price as its shortest repr (two decimals of 15 digits never share a float). The
    others (a computed ``entry`` column) need their own ``dec()``."""
    return (floats == refs) & (np.abs(ticks) < 10**15 // mant)


def decimal_digits(value: Decimal) -> int:
    """Digits after the point (0 for integers)."""
    return mantissa(value)[1]
