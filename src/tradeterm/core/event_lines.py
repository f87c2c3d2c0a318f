"""One line per engine event, for people and logs: what ``tradeterm engine start`` (and its alias
``run --headless``) prints and logs for every event, every denial, halt and recovery among them.

Here in ``core`` so every front end (the service runner, a client printing what an engine says)
shares one text; trading events read like the workstation's toasts (``core/notices.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum

from tradeterm.core.display import MarketFormat, quote_of
from tradeterm.core.events import (
    BacktestFinished,
    Event,
    OptimizeFinished,
    OptimizeProgressed,
    OrderDenied,
    OrderFilled,
    OrderUpdated,
    PositionClosed,
    SignalEmitted,
)
from tradeterm.core.notices import describe_closed, describe_denial, describe_fill, describe_signal

FormatFor = Callable[[str], MarketFormat]
"""A symbol's display format (tick, step, quote decimals): the engine snapshot's markets."""


def _by_symbol(symbol: str) -> MarketFormat:
    return MarketFormat(quote=quote_of(symbol))


def describe(event: Event, fmt_for: FormatFor = _by_symbol) -> str:
    """``2026-11-25T17:46:46Z SignalEmitted strategy=... ...`` (one line, no secrets: events
    carry none). Trading events read like the workstation's toasts, money on the display
    policy (``fmt_for`` gives a symbol's tick, step and quote decimals); the journal keeps the
    exact values."""
    when = datetime.fromtimestamp(event.timestamp / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = f"{when} {type(event).__name__}"
    match event:
        case OrderFilled(fill=fill, order=order):
            fmt = fmt_for(fill.symbol)
            return (f"{head} order={order.id} fill={fill.id} {describe_fill(fill, fmt)} "
                    f"fee={fmt.amount(fill.fee)}")
        case OrderDenied(request=request, reason=reason, rule=rule):
            who = f" strategy={request.strategy}" if request.strategy else ""
            denial = describe_denial(request, reason, fmt_for(request.symbol))
            return f"{head} rule={rule}{who} {denial}"
        case PositionClosed(trade=trade):
            return f"{head} {describe_closed(trade, fmt_for(trade.symbol))}"
        case SignalEmitted(signal=sig):
            return f"{head} strategy={sig.strategy} {describe_signal(sig, fmt_for(sig.symbol))}"
        case BacktestFinished(report=report, error=error):  # not its report: one line
            what = f"job={event.job} {event.strategy} {event.symbol} {event.timeframe}"
            if report is None:
                return f"{head} {what} error={error}"
            return f"{head} {what} trades={report.trades_total} bars={report.bars}"
        case OptimizeFinished(report=report, error=error):  # not its report: one line
            what = f"job={event.job} {event.strategy} {event.symbol} {event.timeframe}"
            if report is None:
                return f"{head} {what} error={error}"
            return f"{head} {what} trials={len(report.trials)} bars={report.bars}"
        case OptimizeProgressed():  # not logged per trial: its end is
            return f"{head} job={event.job} {event.phase} {event.done}/{event.total}"
        case OrderUpdated(order=order):
            req, fmt = order.request, fmt_for(order.request.symbol)
            price = f" price={fmt.price(req.price)}" if req.price is not None else ""
            return (f"{head} order={order.id} {req.side} {fmt.qty(req.quantity)} {req.symbol} "
                    f"{req.type.value}{price} status={order.status.value} "
                    f"filled={fmt.qty(order.filled_quantity)}")
    fields = {k: getattr(event, k) for k in event.__dataclass_fields__ if k != "timestamp"}
    text = " ".join(
        f"{k}={v.value if isinstance(v, Enum) else v}" for k, v in fields.items() if v is not None
    )
    return f"{when} {type(event).__name__} {text}"
