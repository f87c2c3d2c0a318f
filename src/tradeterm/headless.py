"""``tradeterm run --headless``: the engine without a screen (a VPS, a crash test, a service).

Discrete events are printed one per line (and logged): every denial, the journal's halt on a
full disk and its recovery (``TradingStateChanged``) among them, after the paper account restored
from the journal (``restored: balance=... positions=N orders=M realized_today=...``); SIGINT or
SIGTERM shuts the engine down cleanly: streams cancelled, the exchange client closed, the journal closed.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum

from tradeterm.config import Settings
from tradeterm.core.commands import Shutdown
from tradeterm.core.display import MarketFormat, quote_of
from tradeterm.core.events import (
    Event,
    OrderDenied,
    OrderFilled,
    OrderUpdated,
    PositionClosed,
    ReplayFinished,
    SignalEmitted,
)
from tradeterm.core.notices import describe_closed, describe_denial, describe_fill, describe_signal

log = logging.getLogger(__name__)

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


async def run_headless(settings: Settings) -> None:
    from tradeterm.engine import Engine

    engine = Engine(settings)

    def fmt_for(symbol: str) -> MarketFormat:
        return engine.snapshot().market_format(symbol)

    def show(event: Event) -> None:
        line = describe(event, fmt_for)
        log.info("%s", line)
        print(line, flush=True)

    def restored(line: str) -> None:
        log.info("%s", line)
        print(line, flush=True)

    engine.add_listener(show)

    def replay_finished(event: Event) -> None:
        if isinstance(event, ReplayFinished):  # a headless replay ends with its file
            engine.submit(Shutdown())

    if settings.replaying:
        engine.add_listener(replay_finished)
    engine.desk.on_restored = restored  # "restored: balance=... positions=N orders=M ..."
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, engine.submit, Shutdown())
    print(f"tradeterm headless: {settings.mode} mode, "
          f"{'demo market' if settings.demo else settings.exchange}; Ctrl-C stops", flush=True)
    await engine.run()


def main(settings: Settings) -> int:
    try:
        asyncio.run(run_headless(settings))
    except KeyboardInterrupt:
        pass
    print("tradeterm headless: stopped", file=sys.stderr, flush=True)
    return 0
