"""WebSocket connections: subscriptions, fan-out, back-pressure and socket-level faults.

Each connection owns a bounded outbox drained by its own writer task, so a slow or vanished
client never blocks the market loop or other clients: a connection whose outbox exceeds
``MAX_OUTBOX`` messages is closed (as Binance disconnects slow consumers). Payloads are
serialised once per stream and event, not once per client.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import Any

from aiohttp import web

from tradeterm.sim.streams import StreamName, parse_stream

log = logging.getLogger(__name__)

MAX_OUTBOX = 5_000
MALFORMED_FRAME = "MALFORMED FRAME (SIMULATOR FAULT INJECTION) ###"


class Connection:
    """One client socket. ``combined`` wraps payloads as ``{"stream", "data"}``."""

    def __init__(self, ws: web.WebSocketResponse, combined: bool) -> None:
        self.ws = ws
        self.combined = combined
        self.streams: dict[str, StreamName] = {}
        self.outbox: deque[str] = deque()
        self.wakeup = asyncio.Event()
        self.malformed_next = False
        self.closed = False

    def push(self, text: str) -> bool:
        """Queue a frame; False if the client is too slow and must go."""
        if self.closed:
            return True
        if self.malformed_next:
            self.malformed_next = False
            self.outbox.append(MALFORMED_FRAME)
        self.outbox.append(text)
        self.wakeup.set()
        return len(self.outbox) <= MAX_OUTBOX

    async def writer(self) -> None:
        try:
            while not self.closed:
                await self.wakeup.wait()
                self.wakeup.clear()
                while self.outbox and not self.closed:
                    await self.ws.send_str(self.outbox.popleft())
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass
        finally:
            self.closed = True
            self.outbox.clear()

    def symbols(self) -> set[str]:
        return {s.symbol for s in self.streams.values()}


class Hub:
    """All connections and the stream index used by the publisher."""

    def __init__(self, symbols: set[str], loop_time: Any) -> None:
        self.symbols = symbols
        self.conns: set[Connection] = set()
        self.by_stream: dict[str, set[Connection]] = {}
        self._stall_until: dict[str | None, float] = {}
        self._time = loop_time

    # ---- subscriptions ------------------------------------------------------------------
    def subscribe(self, conn: Connection, stream: StreamName) -> None:
        conn.streams[stream.name] = stream
        self.by_stream.setdefault(stream.name, set()).add(conn)

    def unsubscribe(self, conn: Connection, name: str) -> None:
        conn.streams.pop(name, None)
        subs = self.by_stream.get(name)
        if subs is not None:
            subs.discard(conn)
            if not subs:
                del self.by_stream[name]

    def forget(self, conn: Connection) -> None:
        conn.closed = True
        conn.wakeup.set()
        for name in list(conn.streams):
            self.unsubscribe(conn, name)
        self.conns.discard(conn)

    def wanted(self, name: str) -> bool:
        return name in self.by_stream

    # ---- publishing ----------------------------------------------------------------------
    def stalled(self, symbol: str) -> bool:
        now = self._time()
        return self._stall_until.get(None, 0.0) > now or self._stall_until.get(symbol, 0.0) > now

    def publish(self, stream: StreamName | str, payload: dict) -> None:
        name = stream if isinstance(stream, str) else stream.name
        conns = self.by_stream.get(name)
        if not conns:
            return
        symbol = name.partition("@")[0].upper()
        if self.stalled(symbol):
            return
        raw = combined = None
        for conn in list(conns):
            if conn.combined:
                combined = combined or json.dumps({"stream": name, "data": payload},
                                                  separators=(",", ":"))
                ok = conn.push(combined)
            else:
                raw = raw or json.dumps(payload, separators=(",", ":"))
                ok = conn.push(raw)
            if not ok:
                log.warning("closing slow websocket client (%d queued)", len(conn.outbox))
                self.forget(conn)
                asyncio.ensure_future(conn.ws.close())

    # ---- faults ---------------------------------------------------------------------------
    def stall(self, seconds: float, symbol: str | None) -> None:
        self._stall_until[symbol.upper() if symbol else None] = self._time() + seconds

    def mark_malformed(self, symbol: str | None) -> None:
        for conn in self.conns:
            if symbol is None or symbol.upper() in conn.symbols():
                conn.malformed_next = True

    def drop_all(self) -> asyncio.Future[list[Any]]:
        """Forget every connection now and close the sockets (await the result to wait)."""
        conns = list(self.conns)
        for conn in conns:
            self.forget(conn)
        return asyncio.gather(*(c.ws.close() for c in conns), return_exceptions=True)

    # ---- control messages -----------------------------------------------------------------
    def handle_control(self, conn: Connection, text: str) -> dict | None:
        """Answer SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS like Binance."""
        try:
            msg = json.loads(text)
        except ValueError:
            return {"error": {"code": 3, "msg": "Invalid JSON: expected value"}, "id": None}
        if not isinstance(msg, dict):
            return {"error": {"code": 2, "msg": "Invalid request: request must be an object"},
                    "id": None}
        req_id = msg.get("id")
        method = msg.get("method")
        if req_id is None or not isinstance(req_id, (int, str)) or isinstance(req_id, bool):
            return {"error": {"code": 2, "msg": "Invalid request: missing or invalid field `id`"},
                    "id": None}
        params = msg.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                return {"error": {"code": 2, "msg": "Invalid request: `params` must be a list of "
                                  "stream names"}, "id": req_id}
            parsed = [parse_stream(p, self.symbols) for p in params]
            bad = [p for p, s in zip(params, parsed, strict=True) if s is None]
            if bad:
                return {"error": {"code": 2, "msg": f"Invalid request: unknown stream {bad[0]!r}"},
                        "id": req_id}
            for s in parsed:
                assert s is not None
                if method == "SUBSCRIBE":
                    self.subscribe(conn, s)
                else:
                    self.unsubscribe(conn, s.name)
            return {"result": None, "id": req_id}
        if method == "LIST_SUBSCRIPTIONS":
            return {"result": sorted(conn.streams), "id": req_id}
        if method == "SET_PROPERTY":
            if params and params[0] == "combined" and len(params) == 2:
                conn.combined = bool(params[1])
                return {"result": None, "id": req_id}
            return {"error": {"code": 2, "msg": "Invalid request: unknown property"}, "id": req_id}
        if method == "GET_PROPERTY":
            return {"result": conn.combined, "id": req_id}
        return {"error": {"code": 2, "msg": f"Invalid request: unknown method {method!r}"},
                "id": req_id}
