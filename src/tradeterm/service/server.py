"""The engine's socket server: screens (and scripts) attach, watch and act through it.

One :class:`EngineServer` per engine, on the engine's event loop. Each connection is a
:class:`Session`: a handshake (the protocol version must match; the role decides what the
client may do, and the engine enforces it), then frames in both directions. The engine never
waits for a client: view updates and events are written without awaiting the socket, and a
client whose unread backlog passes ``max_backlog`` bytes is dropped (its socket aborted, a line
in the log), so a frozen or malicious screen costs the engine nothing but that buffer. A frame
the engine cannot read is rejected with the reason and the session goes on; only an oversized
frame (the stream cannot be resynchronised) or a broken handshake ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import struct
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from tradeterm import __version__
from tradeterm.core.commands import Command, Shutdown, SwitchSymbol, SwitchTimeframe
from tradeterm.core.events import CommandIgnored, Event
from tradeterm.core.models import TIMEFRAME_MS, EngineSnapshot
from tradeterm.market.convert import BOOK_DEPTH
from tradeterm.service.paths import ensure_private_dir
from tradeterm.service.requests import Asker, RequestRefused, answer
from tradeterm.service.views import ViewState, next_view
from tradeterm.wire.codec import CodecError, command_of, event_frame
from tradeterm.wire.frames import MAX_CLIENT_FRAME, FrameTooLarge, pack, read_frame
from tradeterm.wire.messages import (
    CLIENT_DECODER,
    ENCODER,
    PROTOCOL,
    Answer,
    Ask,
    Bye,
    Cmd,
    Hello,
    Refused,
    Rejected,
    Role,
    Subscribe,
    Welcome,
)

if TYPE_CHECKING:
    from tradeterm.engine import Engine

log = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT_S = 5.0
MAX_BACKLOG = 4 << 20
"""Bytes a client may leave unread before it is dropped (4 MiB: minutes of view updates)."""


def _peer_pid(writer: asyncio.StreamWriter) -> int | None:
    sock = writer.get_extra_info("socket")
    so_peercred = getattr(socket, "SO_PEERCRED", None)
    if sock is None or so_peercred is None:
        return None
    try:
        pid, _uid, _gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, so_peercred,
                                                               struct.calcsize("3i")))
    except OSError:
        return None
    return int(pid)


class Session:
    """One attached client (see the module docstring)."""

    def __init__(self, server: EngineServer, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter, number: int) -> None:
        self.server, self.reader, self.writer = server, reader, writer
        self.number = number
        self.role: Role = "read-only"
        self.view: ViewState | None = None  # set by the handshake
        self.closed = False
        self.name = f"client {number} (pid {_peer_pid(writer) or '?'})"

    # -- writing: never waits -------------------------------------------------------------------

    def send(self, message: Any) -> None:
        self.write(pack(ENCODER.encode(message)))

    def write(self, frame: bytes) -> None:
        if self.closed:
            return
        transport = self.writer.transport
        if transport.is_closing():
            self.closed = True
            return
        transport.write(frame)
        backlog = transport.get_write_buffer_size()
        if backlog > self.server.max_backlog:
            self.drop(f"not reading ({backlog:,} bytes unread)")

    def drop(self, reason: str) -> None:
        """End the session now, without waiting for the client to read anything."""
        if self.closed:
            return
        self.closed = True
        log.warning("%s dropped: %s", self.name, reason)
        self.writer.transport.abort()

    def close(self, reason: str) -> None:
        """End the session politely: a Bye with the reason, then the socket closes."""
        if self.closed:
            return
        self.send(Bye(reason))
        self.closed = True
        self.writer.close()

    # -- reading ---------------------------------------------------------------------------------

    async def serve(self) -> None:
        try:
            if await self._handshake():
                log.info("%s attached as %s", self.name, self.role)
                await self._read_loop()
        except FrameTooLarge as exc:
            self.send(Rejected(str(exc)))
            self.close("oversized frame")
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass
        except Exception:  # one client's failure is never the engine's
            log.exception("%s failed", self.name)
        finally:
            if not self.closed:
                self.closed = True
                self.writer.close()
            self.server.forget(self)

    async def _handshake(self) -> bool:
        try:
            payload = await asyncio.wait_for(read_frame(self.reader, MAX_CLIENT_FRAME),
                                             HANDSHAKE_TIMEOUT_S)
        except TimeoutError:
            self.close(f"no hello within {HANDSHAKE_TIMEOUT_S:.0f} s")
            return False
        if payload is None:
            return False
        try:
            hello = CLIENT_DECODER.decode(payload)
        except msgspec.DecodeError as exc:
            return self._refuse(f"expected a hello frame: {exc}")
        if not isinstance(hello, Hello):
            return self._refuse(f"expected a hello frame, got {type(hello).__name__.lower()}")
        if hello.protocol != PROTOCOL:
            return self._refuse(
                f"protocol mismatch: this engine (tradeterm {__version__}, pid {os.getpid()}) "
                f"speaks protocol {PROTOCOL}, the client (tradeterm {hello.version}) speaks "
                f"{hello.protocol}; attach with the engine's tradeterm version")
        self.role = hello.role
        if hello.client:
            self.name = f"{self.name} {hello.client}"
        snap = self.server.engine.snapshot()
        settings = self.server.engine.settings
        self.view = ViewState(snap.symbol, snap.timeframe, trades_kept=settings.feed.trades_kept,
                              book_every_s=1 / settings.ui.book_fps)
        self.send(Welcome(
            protocol=PROTOCOL, version=__version__, pid=os.getpid(), role=self.role,
            journal=str(settings.journal_file), symbol=snap.symbol, timeframe=snap.timeframe,
            book_fps=settings.ui.book_fps, fps=self.server.fps,
        ))
        self.server.views_changed()
        return True

    def _refuse(self, reason: str) -> bool:
        log.warning("%s refused: %s", self.name, reason)
        self.send(Refused(reason))
        self.closed = True
        self.writer.close()
        return False

    async def _read_loop(self) -> None:
        while not self.closed:
            payload = await read_frame(self.reader, MAX_CLIENT_FRAME)
            if payload is None:
                return
            try:
                frame = CLIENT_DECODER.decode(payload)
            except msgspec.DecodeError as exc:
                self._reject(f"malformed frame: {exc}")
                continue
            match frame:
                case Subscribe():
                    self._subscribe(frame.symbol, frame.timeframe, frame.book_depth, frame.trades)
                case Cmd():
                    self._command(frame)
                case Ask():  # answered beside the next frames: a slow request (a journal's
                    # statistics, a strategy listing) never holds up this client's commands
                    task = asyncio.create_task(self._ask(frame), name=f"{self.name}: ask")
                    self.server._handlers.add(task)
                    task.add_done_callback(self.server._handlers.discard)
                case Bye():
                    log.info("%s detached", self.name)
                    self.close("bye")
                    return
                case Hello():
                    self._reject("hello was already said")

    def _reject(self, reason: str) -> None:
        log.info("%s: frame rejected: %s", self.name, reason)
        self.send(Rejected(reason))

    def _subscribe(self, symbol: str, timeframe: str, depth: int, trades: int) -> None:
        view = self.view
        assert view is not None
        markets = self.server.engine.snapshot().markets
        if timeframe not in TIMEFRAME_MS:
            self._reject(f"unknown timeframe {timeframe!r}")
            return
        if markets and symbol not in markets:
            self._reject(f"{symbol!r} is not listed on this exchange")
            return
        kept = self.server.engine.settings.feed.trades_kept
        view.resubscribe(symbol, timeframe, max(1, min(depth, BOOK_DEPTH)),
                         max(1, min(trades, kept)))
        self.server.views_changed()
        self.server.push(self)  # what the engine has of it now, not at the pump's next tick

    def _command(self, frame: Cmd) -> None:
        try:
            command = command_of(frame)
        except CodecError as exc:
            self._reject(str(exc))
            return
        view = self.view
        assert view is not None
        if isinstance(command, SwitchSymbol):  # what a client looks at is its own
            self._subscribe(command.symbol, view.timeframe, view.book_depth, view.trades_kept)
        elif isinstance(command, SwitchTimeframe):
            self._subscribe(view.symbol, command.timeframe, view.book_depth, view.trades_kept)
        elif isinstance(command, Shutdown):
            self._reject("a client detaches with bye; stopping the engine is the stop request")
        elif self.role != "trader":
            self._ignored(command, f"read-only client: {type(command).__name__} refused")
        else:
            self.server.engine.submit(command)

    def _ignored(self, command: Command, reason: str) -> None:
        log.info("%s: %s", self.name, reason)
        event = CommandIgnored(int(time.time() * 1000), command=repr(command), reason=reason)
        self.send(event_frame(event))

    async def _ask(self, frame: Ask) -> None:
        asker = Asker(self.role, lambda: len(self.server.sessions), self.server.started_ms)
        try:
            body = await answer(self.server.engine, asker, frame.kind, frame.args)
        except RequestRefused as exc:
            self.send(Answer(frame.id, False, error=str(exc)))
            return
        except Exception as exc:  # a bug in a handler: this answer fails, nothing else
            log.exception("%s: request %r failed", self.name, frame.kind)
            self.send(Answer(frame.id, False,
                             error=f"the engine failed to answer: {type(exc).__name__}"))
            return
        self.send(Answer(frame.id, True, body))


class EngineServer:
    """Serves one engine on ``path`` (see the module docstring)."""

    def __init__(self, engine: Engine, path: Path, *, max_backlog: int = MAX_BACKLOG,
                 fps: int | None = None) -> None:
        self.engine, self.path = engine, path
        self.max_backlog = max_backlog
        self.fps = fps or engine.settings.ui.fps
        self.sessions: set[Session] = set()
        self.started_ms = int(time.time() * 1000)
        self._server: asyncio.AbstractServer | None = None
        self._pump: asyncio.Task[None] | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._count = 0
        self._views_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen (the caller holds the journal's engine lock, so a socket left by a killed
        engine of this journal is stale and replaced)."""
        ensure_private_dir(self.path.parent)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._accept, path=str(self.path))
        os.chmod(self.path, 0o600)
        self.engine.add_listener(self._broadcast)
        self._pump = asyncio.create_task(self._pump_views(), name="service:views")
        log.info("engine socket: %s", self.path)

    async def close(self) -> None:
        for session in list(self.sessions):
            session.close("the engine is stopping")
        if self._pump is not None:
            self._pump.cancel()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        for task in list(self._handlers):
            task.cancel()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._count += 1
        session = Session(self, reader, writer, self._count)
        self.sessions.add(session)
        task = asyncio.create_task(session.serve(), name=f"service:client:{self._count}")
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    def forget(self, session: Session) -> None:
        if session in self.sessions:
            self.sessions.discard(session)
            self.views_changed()

    def _broadcast(self, event: Event) -> None:
        """Every engine event, to every attached client (encoded once)."""
        ready = [s for s in self.sessions if s.view is not None and not s.closed]
        if not ready:
            return
        frame = pack(ENCODER.encode(event_frame(event)))
        for session in ready:
            session.write(frame)

    async def _pump_views(self) -> None:
        period = 1 / self.fps
        while True:
            await asyncio.sleep(period)
            snap = self.engine.snapshot()
            now = time.monotonic()
            for session in list(self.sessions):
                self.push(session, snap, now)

    def push(self, session: Session, snap: EngineSnapshot | None = None,
             now: float | None = None) -> None:
        """Send ``session`` what changed of its view. Also right after a subscription: waiting
        for the pump's next tick (1 / fps) was most of a symbol switch's round trip
        (benchmarks/service.py)."""
        if session.view is None or session.closed:
            return
        try:
            view = next_view(session.view, snap or self.engine.snapshot(), self.engine.market,
                             time.monotonic() if now is None else now)
        except Exception:
            log.exception("%s: view update failed", session.name)
            session.drop("view update failed")
            return
        if view is not None:
            session.send(view)

    def views_changed(self) -> None:
        """The set of (symbol, timeframe) clients look at changed: the engine's feed follows."""
        keys = {(s.view.symbol, s.view.timeframe) for s in self.sessions
                if s.view is not None and not s.closed}
        previous = self._views_task

        async def sync() -> None:
            if previous is not None:
                with contextlib.suppress(Exception):
                    await previous
            await self.engine.watch_views(keys)

        self._views_task = asyncio.create_task(sync(), name="service:watch-views")
