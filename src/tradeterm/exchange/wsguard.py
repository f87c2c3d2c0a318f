"""Recovering a ccxt WebSocket whose reader was killed by a malformed message.

In ccxt 4.5.x the socket reader is a chain of asyncio callbacks: ``Client.receive_loop`` starts a
``receive()`` task whose done-callback parses the frame (``json.loads``), dispatches it to the
exchange's handlers and only then schedules the next receive. If parsing or a handler raises
(invalid JSON, a kline whose fields are not numbers, ...), the exception escapes the callback
into the event loop's exception handler and the next receive is never scheduled: the socket
stays open but nobody reads it. Pending ``watch_*`` futures hang until ccxt's ping/pong keepalive
gives up (40-80 s with ``keepAlive=20000``).

:class:`ReaderGuard` sits in the loop's exception handler, recognises that failure by the ccxt
``Client`` the failing callback belongs to, and fails that client with :class:`MalformedMessage`
(through ccxt's own ``Client.on_error``): its pending watches raise at once, ccxt forgets the
client, and the next watch call dials a fresh socket and subscribes again. Everything else is
passed on to the previous handler untouched.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from tradeterm.exchange.errors import one_line

log = logging.getLogger(__name__)

_CLIENT_MODULE = "ccxt.async_support.base.ws.client"


class MalformedMessage(ConnectionError):
    """A socket was reset because a message on it could not be parsed or handled."""


def ccxt_client_of(handle: Any) -> Any | None:
    """The ccxt WebSocket ``Client`` whose callback ``handle`` ran, if it was one."""
    module = sys.modules.get(_CLIENT_MODULE)
    if module is None or handle is None:
        return None
    client_cls = module.Client
    callback = getattr(handle, "_callback", None)
    owner = getattr(callback, "__self__", None)  # Client.receive_loop draining its buffer
    if isinstance(owner, client_cls):
        return owner
    for cell in getattr(callback, "__closure__", None) or ():  # receive_loop's after_interrupt
        try:
            value = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if isinstance(value, client_cls):
            return value
    return None


class ReaderGuard:
    """Installed on the engine's loop while the feed runs; see the module docstring."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: Any = None
        self.resets = 0

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._loop is not None:
            return
        self._loop = loop
        self._previous = loop.get_exception_handler()
        loop.set_exception_handler(self._handle)

    def uninstall(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None and loop.get_exception_handler() == self._handle:
            loop.set_exception_handler(self._previous)

    def _handle(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        client = ccxt_client_of(context.get("handle")) if exc is not None else None
        if client is None or exc is None:
            if self._previous is not None:
                self._previous(loop, context)
            else:
                loop.default_exception_handler(context)
            return
        reason = f"{type(exc).__name__}: {one_line(exc, 160)}"
        log.warning("unusable message on %s (%s); reconnecting that socket", client.url, reason)
        self.resets += 1
        client.on_error(MalformedMessage(f"malformed message skipped ({reason})"))
