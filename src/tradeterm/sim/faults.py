"""Fault injection, callable in-process (from any thread) or over HTTP
(``POST /_sim/fault/<name>?symbol=BTCUSDT&seconds=5``)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradeterm.sim.server import SimServer


class Faults:
    """Each method takes effect on the server's event loop; calling from another thread is
    safe (the call is handed over to the loop)."""

    def __init__(self, server: SimServer) -> None:
        self._server = server

    def _on_loop(self, fn: Any, *args: Any) -> None:
        loop = self._server.loop
        if loop is None or loop.is_closed():
            raise RuntimeError("the simulator is not running")
        if threading.get_ident() == self._server.loop_thread:
            fn(*args)
        else:
            loop.call_soon_threadsafe(fn, *args)

    def drop_all_sockets(self) -> None:
        """Close every WebSocket connection (clients must reconnect and resubscribe)."""
        self._on_loop(self._server.hub.drop_all)

    def skip_depth_update(self, symbol: str) -> None:
        """The next depth event of ``symbol`` starts 10 ids after the previous one ended."""
        market = self._server.market(symbol)
        self._on_loop(market.request_gap)

    def send_malformed(self, symbol: str | None = None) -> None:
        """The next frame on sockets subscribed to ``symbol`` (any socket if None) is preceded
        by a frame that is not JSON."""
        self._on_loop(self._server.hub.mark_malformed, symbol)

    def stall(self, seconds: float, symbol: str | None = None) -> None:
        """Stop pushing data of ``symbol`` (everything if None) for ``seconds``, sockets open."""
        self._on_loop(self._server.hub.stall, seconds, symbol)
