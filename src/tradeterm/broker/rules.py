"""Exchange filters (Binance's PRICE_FILTER, LOT_SIZE, MIN/MAX_NOTIONAL) as exact Decimals.

The paper broker and the risk engine refuse what the real exchange would refuse, with the same
filter names, so a strategy that runs on paper does not start failing live. Every message is
``"<FILTER>: <what> <value> <why> <limit>"``; the part before the first ``:`` is the filter name
(:func:`filter_name`), which callers use as the ``rule`` of an ``OrderDenied``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradeterm.core.display import fmt_quote, quote_of
from tradeterm.core.models import MarketPrecision
from tradeterm.core.money import ZERO, dec
from tradeterm.core.trading import OrderRequest, OrderType

UNLIMITED = Decimal("Infinity")  # max_qty when the exchange states none (never enters arithmetic)


def _number(value: Any, default: Decimal) -> Decimal:
    """A ccxt float/str/None as a Decimal; ``None`` and zero mean 'not stated' -> ``default``."""
    if value is None:
        return default
    result = dec(value)
    return default if result == ZERO else result


def filter_name(reason: str) -> str:
    """The filter a :meth:`MarketRules.check` message names (``"LOT_SIZE"``, ...)."""
    return reason.split(":", 1)[0]


def market_precision(market: Mapping[str, Any]) -> MarketPrecision:
    """How a ccxt unified market's numbers are shown (its tick, step, base and quote)."""
    rules = MarketRules.from_ccxt(market)
    symbol = rules.symbol
    base, _, quote = symbol.partition("/")
    return MarketPrecision(
        tick=rules.tick or None,
        step=rules.step or None,
        base=str(market.get("base") or base),
        quote=str(market.get("quote") or quote.partition(":")[0]),
    )


def markets_precision(markets: Mapping[str, Mapping[str, Any]]) -> dict[str, MarketPrecision]:
    """:func:`market_precision` of every market that has a readable one."""
    out: dict[str, MarketPrecision] = {}
    for symbol, market in markets.items():
        try:
            out[symbol] = market_precision(market)
        except (KeyError, TypeError, ValueError, ArithmeticError):
            continue
    return out


def _on_grid(value: Decimal, step: Decimal) -> bool:
    return step <= ZERO or value % step == ZERO


@dataclass(frozen=True, slots=True)
class MarketRules:
    """One symbol's trading filters. ``tick``/``step`` of 0 mean 'no grid'."""

    symbol: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal = ZERO
    max_qty: Decimal = UNLIMITED
    min_notional: Decimal = ZERO
    max_notional: Decimal | None = None

    @classmethod
    def from_ccxt(cls, market: Mapping[str, Any]) -> MarketRules:
        """Read ccxt's unified market (binance: TICK_SIZE precision mode, sizes as floats)."""
        precision = market.get("precision") or {}
        limits = market.get("limits") or {}
        amount = limits.get("amount") or {}
        cost = limits.get("cost") or {}
        max_notional = cost.get("max")
        return cls(
            symbol=str(market["symbol"]),
            tick=_number(precision.get("price"), ZERO),
            step=_number(precision.get("amount"), ZERO),
            min_qty=_number(amount.get("min"), ZERO),
            max_qty=_number(amount.get("max"), UNLIMITED),
            min_notional=_number(cost.get("min"), ZERO),
            max_notional=None if not max_notional else dec(max_notional),
        )

    def check(self, request: OrderRequest, reference_price: Decimal | None = None) -> str | None:
        """The first filter ``request`` breaks, as a message naming filter and value; else None.

        The notional of a market order needs a price: pass ``reference_price`` (the mid, or the
        best opposite price); without one the notional filters are skipped for market orders,
        as Binance checks them against its own average price.
        """
        qty = request.quantity
        if qty <= ZERO:
            return f"LOT_SIZE: quantity {qty} must be positive"
        if qty < self.min_qty:
            return f"LOT_SIZE: quantity {qty} below minimum {self.min_qty}"
        if qty > self.max_qty:
            return f"LOT_SIZE: quantity {qty} above maximum {self.max_qty}"
        if not _on_grid(qty, self.step):
            return f"LOT_SIZE: quantity {qty} not a multiple of step {self.step}"
        for label, price in (
            ("price", request.price),
            ("stop price", request.stop_price),
            ("trail", request.trail),
        ):
            if price is None:
                continue
            if price <= ZERO:
                return f"PRICE_FILTER: {label} {price} must be positive"
            if not _on_grid(price, self.tick):
                return f"PRICE_FILTER: {label} {price} not a multiple of tick {self.tick}"
        price = _notional_price(request) or reference_price
        if price is None:
            return None
        notional = qty * price
        if notional < self.min_notional:
            return (f"MIN_NOTIONAL: notional {self._quote(notional)} below minimum "
                    f"{self._quote(self.min_notional)}")
        if self.max_notional is not None and notional > self.max_notional:
            return (f"MAX_NOTIONAL: notional {self._quote(notional)} above maximum "
                    f"{self._quote(self.max_notional)}")
        return None

    def _quote(self, amount: Decimal) -> str:
        """A notional in the message: the quote currency's display decimals, not 28 digits."""
        return fmt_quote(amount, quote_of(self.symbol))


def _notional_price(request: OrderRequest) -> Decimal | None:
    """The price the order states for itself (limit price, else its trigger), if any."""
    if request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and request.price is not None:
        return request.price
    if request.type in (OrderType.STOP_MARKET, OrderType.TRAILING_STOP):
        return request.stop_price
    return None
