"""The one money display policy: how every screen, toast, denial and CLI table prints money.

- prices to the market's tick (``65002.9`` on a 0.1 tick shows ``65002.9``; ``0.5`` ticks keep
  one decimal), quantities to its step;
- quote amounts (balances, PnL, fees, notionals) to the quote currency's display precision: 2
  for USDT and the other dollar/fiat quotes, 8 for coins, configurable (:class:`DisplayPolicy`);
- R multiples and percentages to 2 decimals;
- never 28 digits, never trailing zeros past the precision, never ``-0.00``.

Exact values stay where they are exact: the journal, ``--csv`` and ``--json`` print the stored
``Decimal`` as it is. Display rounding is half-to-even, like the broker's own rounding.
This module is pure (no market, no UI): callers pass the tick, step or currency they know; an
unknown grid (``None`` or 0) falls back to decimals chosen from the value's magnitude.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from types import MappingProxyType

Number = Decimal | float | int | str

FIAT_PLACES = 2
COIN_PLACES = 8

DEFAULT_QUOTE_PLACES: Mapping[str, int] = MappingProxyType({
    "USDT": 2, "USDC": 2, "FDUSD": 2, "TUSD": 2, "BUSD": 2, "DAI": 2, "USD": 2, "EUR": 2,
    "GBP": 2, "TRY": 2, "BRL": 2, "JPY": 0, "BTC": 8, "ETH": 8, "BNB": 8,
})
"""Display decimals per quote currency; others get :data:`COIN_PLACES` unless configured."""


@dataclass(frozen=True, slots=True)
class DisplayPolicy:
    """Quote-currency decimals (``[display] quote_decimals`` in config overrides entries)."""

    quote_places: Mapping[str, int] = field(default_factory=lambda: DEFAULT_QUOTE_PLACES)
    default_places: int = COIN_PLACES

    def places(self, currency: str | None) -> int:
        if currency is None:
            return FIAT_PLACES
        return self.quote_places.get(currency.upper(), self.default_places)

    def __hash__(self) -> int:  # the mapping is read-only: hash its items (snapshots hash)
        return hash((tuple(sorted(self.quote_places.items())), self.default_places))

    def with_overrides(self, overrides: Mapping[str, int]) -> DisplayPolicy:
        merged = dict(self.quote_places)
        merged.update({k.upper(): int(v) for k, v in overrides.items()})
        return DisplayPolicy(MappingProxyType(merged), self.default_places)


DEFAULT_POLICY = DisplayPolicy()

_CONTEXT = Context(prec=80, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation])
"""Display rounds on purpose: its own context, so a caller's strict one (the broker traps
``Inexact`` to prove its money exact) never sees the display's rounding as an error."""


def _dec(value: Number) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def quote_of(symbol: str) -> str | None:
    """The quote currency of a ccxt symbol (``BTC/USDT`` and ``BTC/USDT:USDT`` -> ``USDT``)."""
    quote = symbol.partition("/")[2].partition(":")[0]
    return quote or None


def places_of(unit: Decimal | float | str | None) -> int | None:
    """Decimals a tick or step needs (``0.01`` -> 2, ``0.5`` -> 1, ``10`` -> 0); None if unknown."""
    if unit is None:
        return None
    try:
        d = _dec(unit)
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite() or d <= 0:
        return None
    exponent = d.normalize(_CONTEXT).as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def magnitude_places(value: Decimal) -> int:
    """Decimals worth showing for a price of this size when its tick is unknown."""
    p = abs(value)
    if p >= 10:
        return 2
    if p >= 1:
        return 3
    if p >= Decimal("0.01"):
        return 5
    return 8


def _fixed(value: Decimal, places: int, *, signed: bool = False) -> str:
    """``value`` rounded half-to-even to ``places`` decimals; ``-0.00`` becomes ``0.00``."""
    if not value.is_finite():
        return str(value)
    q = value.quantize(Decimal(1).scaleb(-places, _CONTEXT), ROUND_HALF_EVEN, _CONTEXT)
    if q.is_zero():
        q = q.copy_abs()
    text = f"{q:.{places}f}"
    if signed and q > 0:
        text = "+" + text
    return text


def _on_grid(value: Decimal, unit: Decimal) -> Decimal:
    units = _CONTEXT.divide(value, unit).to_integral_value(ROUND_HALF_EVEN, _CONTEXT)
    return _CONTEXT.multiply(units, unit)


def fmt_price(value: Number | None, tick: Decimal | float | str | None = None) -> str:
    """A price on the market's tick grid with the tick's decimals; ``-`` for None."""
    if value is None:
        return "-"
    d = _dec(value)
    if not d.is_finite():  # an indicator's warm-up NaN, a float overflow: shown as they are
        return str(d)
    places = places_of(tick)
    if places is None:
        return _fixed(d, magnitude_places(d))
    return _fixed(_on_grid(d, _dec(tick)), places)  # type: ignore[arg-type]


def fmt_qty(value: Number | None, step: Decimal | float | str | None = None) -> str:
    """A quantity on the market's step grid with the step's decimals; unknown step: exact, at
    most 8 decimals, no trailing zeros. ``-`` for None."""
    if value is None:
        return "-"
    d = _dec(value)
    places = places_of(step)
    if places is None:
        text = _fixed(d, COIN_PLACES)
        return text.rstrip("0").rstrip(".") if "." in text else text
    return _fixed(_on_grid(d, _dec(step)), places)  # type: ignore[arg-type]


def fmt_quote(
    value: Number | None,
    currency: str | None = None,
    *,
    signed: bool = False,
    policy: DisplayPolicy = DEFAULT_POLICY,
) -> str:
    """A quote amount (balance, PnL, fee, notional) to the currency's display decimals; with
    ``signed`` a positive amount gets ``+``. ``-`` for None."""
    if value is None:
        return "-"
    return _fixed(_dec(value), policy.places(currency), signed=signed)


def fmt_r(value: Number | None, *, signed: bool = False) -> str:
    """An R multiple, 2 decimals (the caller adds the ``R``); ``-`` for None."""
    if value is None:
        return "-"
    return _fixed(_dec(value), 2, signed=signed)


def fmt_pct(value: Number | None, *, signed: bool = False) -> str:
    """A percentage, 2 decimals (the caller adds the ``%``); ``-`` for None."""
    if value is None:
        return "-"
    return _fixed(_dec(value), 2, signed=signed)


_COMPACT = ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"),
            (Decimal(10) ** 3, "K"))


def fmt_compact(value: Number | None) -> str:
    """A large amount in a narrow column: 2 decimals of thousands, millions, billions or
    trillions (``882.89M``), smaller ones as they are to 2 decimals; ``-`` for None."""
    if value is None:
        return "-"
    d = _dec(value)
    if not d.is_finite():
        return str(d)
    for scale, suffix in _COMPACT:
        if abs(d) >= scale:
            return _fixed(_CONTEXT.divide(d, scale), 2) + suffix
    return _fixed(d, 2)


@dataclass(frozen=True, slots=True)
class MarketFormat:
    """One market's display: its tick, step and quote currency under a policy, so a screen that
    shows a position or an order formats all of its numbers the same way."""

    tick: Decimal | None = None
    step: Decimal | None = None
    quote: str | None = None
    policy: DisplayPolicy = DEFAULT_POLICY

    def price(self, value: Number | None) -> str:
        return fmt_price(value, self.tick)

    def qty(self, value: Number | None) -> str:
        return fmt_qty(value, self.step)

    def amount(self, value: Number | None, *, signed: bool = False) -> str:
        """A quote amount of this market (PnL, notional, fee)."""
        return fmt_quote(value, self.quote, signed=signed, policy=self.policy)
