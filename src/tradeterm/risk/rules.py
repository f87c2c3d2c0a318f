"""The per-order rules: pure functions of (request, context, settings), ``None`` when they pass.

Each denial names its rule and the numbers that broke it, because "why no trade" must be
answerable from the journal alone. The rules that bound new exposure (stop, risk, size, count)
apply to entries only; an order that reduces a position can only lower risk.
"""

from __future__ import annotations

from decimal import Decimal

from tradeterm.config import RiskSettings
from tradeterm.core.display import fmt_pct, fmt_quote, quote_of
from tradeterm.core.money import ZERO
from tradeterm.core.trading import OrderRequest
from tradeterm.risk.context import (
    RiskContext,
    RiskDecision,
    deny,
    is_working_entry,
    reference_price,
)
from tradeterm.risk.sizing import HUNDRED, risk_budget


def fmt(value: Decimal) -> str:
    """A price or quantity for a human: plain notation, no trailing zeros (``1E+4`` ->
    ``10000``). Prices and quantities here are on the market's grid already, so exact is short;
    quote amounts and percentages go through the display policy (:func:`_quote`, :func:`_pct`)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def _pct(value: Decimal) -> str:
    return fmt_pct(value)


def _quote(value: Decimal, symbol: str) -> str:
    """A quote amount in a denial: the quote currency's display decimals, never 28 digits."""
    return fmt_quote(value, quote_of(symbol))


def mandatory_stop(
    request: OrderRequest, ctx: RiskContext, settings: RiskSettings
) -> RiskDecision | None:
    """A strategy entry must carry a bracket stop-loss (reduce-only or reducing orders need not)."""
    if not settings.require_stop_for_strategies or request.strategy is None:
        return None
    if request.reduce_only or ctx.reduces:
        return None
    if request.bracket is None or request.bracket.stop_loss is None:
        return deny(
            "mandatory_stop",
            f"strategy {request.strategy} sent a {request.side} {request.symbol} entry "
            "without a stop-loss",
        )
    return None


def price_band(
    request: OrderRequest, ctx: RiskContext, settings: RiskSettings
) -> RiskDecision | None:
    """Limit/stop prices within ``price_band_pct`` of the mid; an entry needs a mid at all.

    A reduction without a mid (feed down) passes: closing must never depend on the feed.
    """
    mid = ctx.mid
    if mid is None or mid <= ZERO:
        if ctx.reduces:
            return None
        return deny("price_band", f"no book mid for {request.symbol}; an entry needs one")
    band = settings.price_band_pct
    for label, price in (("limit price", request.price), ("stop price", request.stop_price)):
        if price is None:
            continue
        distance = abs(price - mid)
        if distance * HUNDRED > band * mid:
            return deny(
                "price_band",
                f"{label} {fmt(price)} is {_pct(distance * HUNDRED / mid)}% from the mid "
                f"{fmt(mid)}, limit {_pct(band)}%",
            )
    return None


def opening_quantity(request: OrderRequest, ctx: RiskContext) -> Decimal:
    """How much of the request opens or adds exposure (the rest, on a flip, closes a position)."""
    pos = ctx.position(request.symbol)
    if pos is None or pos.side == request.side:
        return request.quantity
    return max(request.quantity - abs(pos.quantity), ZERO)


def risk_per_trade(
    request: OrderRequest, ctx: RiskContext, settings: RiskSettings
) -> RiskDecision | None:
    """The bracket stop, if hit, may lose at most ``risk_per_trade_pct`` of equity.

    An entry without a stop has no measurable risk here: ``mandatory_stop`` refuses it for
    strategies, and the position-size rules bound a manual one.
    """
    stop = request.bracket.stop_loss if request.bracket is not None else None
    entry = reference_price(request, ctx.mid)
    if stop is None or entry is None:
        return None
    distance = entry - stop if request.side == "buy" else stop - entry
    if distance <= ZERO:
        need = "below" if request.side == "buy" else "above"
        return deny(
            "risk_per_trade",
            f"stop {fmt(stop)} is not {need} the entry {fmt(entry)} of a {request.side}",
        )
    quantity = opening_quantity(request, ctx)
    risk = distance * quantity
    budget = risk_budget(ctx.equity, settings.risk_per_trade_pct)
    if risk > budget:
        return deny(
            "risk_per_trade",
            f"risk {_quote(risk, request.symbol)} ({fmt(quantity)} x stop distance "
            f"{fmt(distance)}) exceeds {_pct(settings.risk_per_trade_pct)}% of equity "
            f"{_quote(ctx.equity, request.symbol)} ({_quote(budget, request.symbol)})",
        )
    return None


def _exposure(request: OrderRequest, ctx: RiskContext) -> tuple[Decimal, Decimal, Decimal]:
    """(open, working, order) quote exposure on the request's symbol and side after the order."""
    price = reference_price(request, ctx.mid) or ZERO
    pos = ctx.position(request.symbol)
    opened = ZERO
    if pos is not None and pos.side == request.side:
        opened = abs(pos.quantity) * (ctx.mid or pos.average_entry)
    working = ZERO
    for order in ctx.orders:
        req = order.request
        if req.symbol == request.symbol and req.side == request.side and is_working_entry(order):
            order_price = reference_price(req, ctx.mid) or ZERO
            working += (req.quantity - order.filled_quantity) * order_price
    return opened, working, opening_quantity(request, ctx) * price


def _exposure_text(request: OrderRequest, parts: tuple[Decimal, Decimal, Decimal]) -> str:
    opened, working, order = parts
    symbol = request.symbol
    terms = [f"{_quote(opened, symbol)} open"] if opened else []
    if working:
        terms.append(f"{_quote(working, symbol)} in working orders")
    terms.append(f"{_quote(order, symbol)} this order")
    side = "long" if request.side == "buy" else "short"
    return f"{symbol} {side} exposure {_quote(sum(parts, ZERO), symbol)} ({' + '.join(terms)})"


def max_position(
    request: OrderRequest, ctx: RiskContext, settings: RiskSettings
) -> RiskDecision | None:
    """Same-side exposure after the order (open + working entries + this) in quote and % equity."""
    parts = _exposure(request, ctx)
    total = sum(parts, ZERO)
    if total > settings.max_position_quote:
        return deny(
            "max_position_quote",
            f"{_exposure_text(request, parts)}, limit "
            f"{_quote(settings.max_position_quote, request.symbol)}",
        )
    if total * HUNDRED > settings.max_position_pct * ctx.equity:
        share = f"{_pct(total * HUNDRED / ctx.equity)}%" if ctx.equity > ZERO else "all"
        return deny(
            "max_position_pct",
            f"{_exposure_text(request, parts)} is {share} of equity "
            f"{_quote(ctx.equity, request.symbol)}, limit {_pct(settings.max_position_pct)}%",
        )
    return None


def max_open_positions(
    request: OrderRequest, ctx: RiskContext, settings: RiskSettings
) -> RiskDecision | None:
    """An entry on a new symbol only while fewer than the limit are open (or being opened)."""
    held = {p.symbol for p in ctx.positions if p.quantity != ZERO}
    pending = {o.request.symbol for o in ctx.orders if is_working_entry(o)} - held
    if request.symbol in held or request.symbol in pending:
        return None
    count = len(held) + len(pending)
    if count < settings.max_open_positions:
        return None
    detail = f"{count} open"
    if pending:
        detail += f" ({len(pending)} pending as working entry orders)"
    return deny("max_open_positions", f"{detail}, limit {settings.max_open_positions}")
