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
from datetime import UTC, datetime
from enum import Enum

from tradeterm.config import Settings
from tradeterm.core.commands import Shutdown
from tradeterm.core.display import fmt_qty
from tradeterm.core.events import Event, OrderDenied

log = logging.getLogger(__name__)


def describe(event: Event) -> str:
    """``2026-11-25T17:46:46Z SignalEmitted strategy=... ...`` (one line, no secrets: events
    carry none)."""
    when = datetime.fromtimestamp(event.timestamp / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(event, OrderDenied):  # every denial, one readable line (a halt brings many)
        r = event.request
        who = f" strategy={r.strategy}" if r.strategy else ""
        return (f"{when} OrderDenied {r.side} {fmt_qty(r.quantity)} {r.symbol} {r.type.value}"
                f"{who} rule={event.rule}: {event.reason}")
    fields = {k: getattr(event, k) for k in event.__dataclass_fields__ if k != "timestamp"}
    text = " ".join(
        f"{k}={v.value if isinstance(v, Enum) else v}" for k, v in fields.items() if v is not None
    )
    return f"{when} {type(event).__name__} {text}"


async def run_headless(settings: Settings) -> None:
    from tradeterm.engine import Engine

    engine = Engine(settings)

    def show(event: Event) -> None:
        line = describe(event)
        log.info("%s", line)
        print(line, flush=True)

    def restored(line: str) -> None:
        log.info("%s", line)
        print(line, flush=True)

    engine.add_listener(show)
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
