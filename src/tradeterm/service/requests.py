"""Requests a client asks the engine (``Ask`` frames), answered with ``Answer``.

Each kind names what it needs and who may ask: ``preview`` (the order ticket's question:
changes nothing), ``status`` (what ``tradeterm engine status`` and the stop confirmation show)
and ``stop`` (a trader's confirmed stop of the engine). Answers are plain values (msgspec
builtins: money as decimal strings).
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tradeterm import __version__
from tradeterm.core.commands import Shutdown
from tradeterm.core.preview import TicketDraft
from tradeterm.wire.codec import CodecError, convert, to_plain
from tradeterm.wire.messages import Role

if TYPE_CHECKING:
    from tradeterm.engine import Engine


class RequestRefused(Exception):
    """The request cannot be answered; the message says why (it goes back to the client)."""


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asks: the role decides what is allowed."""

    role: Role
    clients: Callable[[], int]  # how many clients are attached now
    started_ms: int


Handler = Callable[["Engine", Asker, dict[str, Any]], Awaitable[Any]]


async def _preview(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    try:
        draft = convert(args.get("draft"), TicketDraft, "order ticket draft")
    except CodecError as exc:
        raise RequestRefused(str(exc)) from None
    return to_plain(engine.preview(draft))


async def _status(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    snap = engine.snapshot()
    account = snap.account
    return {
        "pid": os.getpid(),
        "version": __version__,
        "started_ms": asker.started_ms,
        "uptime_s": round(time.time() - asker.started_ms / 1000, 1),
        "phase": snap.phase.value,
        "exchange": snap.exchange,
        "mode": snap.mode,
        "demo": snap.demo,
        "trading_state": snap.trading_state,
        "positions": len(account.positions) if account is not None else 0,
        "orders": len(account.orders) if account is not None else 0,
        "equity": to_plain(account.equity) if account is not None else None,
        "quote": account.quote if account is not None else None,
        "clients": asker.clients(),
    }


async def _stop(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    if asker.role != "trader":
        raise RequestRefused("a read-only client cannot stop the engine")
    answer = await _status(engine, asker, args)
    engine.submit(Shutdown())
    return answer


HANDLERS: dict[str, Handler] = {"preview": _preview, "status": _status, "stop": _stop}


async def answer(engine: Engine, asker: Asker, kind: str, args: dict[str, Any]) -> Any:
    handler = HANDLERS.get(kind)
    if handler is None:
        raise RequestRefused(f"unknown request {kind!r} (known: {', '.join(sorted(HANDLERS))})")
    return await handler(engine, asker, args)
