"""What the paper broker refuses at submission, before an order can reach the book.

Every refusal is ``"<RULE>: <what> <value> ..."`` (the exchange filters of ``rules.py`` plus
the broker's own: ORDER_TYPE, REDUCE_ONLY, BRACKET, MARGIN), so the rule and the offending
value are visible in the UI and the journal.
"""

from __future__ import annotations

from decimal import Decimal

from tradeterm.broker.rules import MarketRules
from tradeterm.core.display import fmt_quote, quote_of
from tradeterm.core.money import ZERO
from tradeterm.core.scale_out import MAX_LEGS
from tradeterm.core.trading import OrderRequest, OrderType, TimeInForce


def check_shape(request: OrderRequest) -> str | None:
    """The fields each order type needs are present and consistent."""
    kind = request.type
    if kind in (OrderType.LIMIT, OrderType.STOP_LIMIT) and request.price is None:
        return f"ORDER_TYPE: {kind.value} order needs a price"
    if kind in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT) and request.stop_price is None:
        return f"ORDER_TYPE: {kind.value} order needs a stop price"
    if kind is OrderType.TRAILING_STOP and request.trail is None:
        return "ORDER_TYPE: trailing_stop order needs a trail"
    if request.time_in_force is TimeInForce.POST_ONLY and kind is not OrderType.LIMIT:
        return f"ORDER_TYPE: post-only applies to limit orders, not {kind.value}"
    bracket = request.bracket
    if bracket is not None:
        if request.reduce_only:
            return "BRACKET: a reduce-only order cannot carry a bracket"
        if len(bracket.legs) > MAX_LEGS or any(leg.weight <= 0 for leg in bracket.legs):
            return (f"BRACKET: {len(bracket.legs)} take-profit legs; at most {MAX_LEGS}, "
                    "each with a positive weight")
        sign = 1 if request.side == "buy" else -1
        ref = request.price if request.price is not None else request.stop_price
        if ref is not None:
            if bracket.stop_loss is not None and (ref - bracket.stop_loss) * sign <= ZERO:
                return f"BRACKET: stop-loss {bracket.stop_loss} on the wrong side of {ref}"
            if bracket.take_profit is not None and (bracket.take_profit - ref) * sign <= ZERO:
                return f"BRACKET: take-profit {bracket.take_profit} on the wrong side of {ref}"
            for n, leg in enumerate(bracket.legs, start=1):
                if leg.price is not None and (leg.price - ref) * sign <= ZERO:
                    return f"BRACKET: target {n} {leg.price} on the wrong side of {ref}"
    return None


def check_bracket_grid(request: OrderRequest, rules: MarketRules) -> str | None:
    """Bracket prices obey the tick like any price (they become orders of their own)."""
    bracket = request.bracket
    if bracket is None or rules.tick <= ZERO:
        return None
    levels = [("stop-loss", bracket.stop_loss), ("take-profit", bracket.take_profit)]
    levels += [(f"target {n}", leg.price) for n, leg in enumerate(bracket.legs, start=1)]
    for label, price in levels:
        if price is not None and (price <= ZERO or price % rules.tick != ZERO):
            return f"PRICE_FILTER: {label} {price} not a positive multiple of tick {rules.tick}"
    return None


def check_reduce_only(request: OrderRequest, position: Decimal) -> str | None:
    """A reduce-only order needs an opposite position to reduce (it is clipped to it later)."""
    if not request.reduce_only:
        return None
    if position == ZERO:
        return f"REDUCE_ONLY: no {request.symbol} position to reduce"
    if (position > ZERO) == (request.side == "buy"):
        kind = "long" if position > ZERO else "short"
        return f"REDUCE_ONLY: a {request.side} would increase the {kind} position {position}"
    return None


def check_margin(request: OrderRequest, position: Decimal, price: Decimal | None,
                 equity: Decimal) -> str | None:
    """Leverage 1: an order that grows the position may not take its notional above equity."""
    if request.reduce_only or price is None:
        return None
    signed = request.quantity if request.side == "buy" else -request.quantity
    after = abs(position + signed)
    if after <= abs(position):
        return None
    notional = after * price
    if notional > equity:
        quote = quote_of(request.symbol)
        return (f"MARGIN: position notional {fmt_quote(notional, quote)} above equity "
                f"{fmt_quote(equity, quote)} (leverage 1)")
    return None
