"""The screen's side of the engine protocol: an engine link over the socket.

:class:`RemoteEngine` has the surface the workstation expects of an engine (``run``,
``snapshot``, ``submit``, ``add_listener``, ``preview``: ``EngineLike`` in ``ui/app.py``), so
the same screens draw an in-process engine or an attached one. It mirrors what it subscribed
to from the engine's view updates and rebuilds an :class:`EngineSnapshot` from them.

What the screen looks at is its own: ``SwitchSymbol`` and ``SwitchTimeframe`` change this
client's subscription, not the engine. ``Shutdown`` (the screen quitting) detaches: the engine
goes on. The order ticket's preview is a request; :meth:`preview` answers from the newest
answer for the same draft and asks again when that is older than :data:`PREVIEW_FRESH_S`, so
the ticket (which refreshes its preview twice a second) never waits on the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import msgspec

from tradeterm import __version__
from tradeterm.core.commands import Command, Shutdown, SwitchSymbol, SwitchTimeframe
from tradeterm.core.display import DEFAULT_POLICY
from tradeterm.core.events import CommandIgnored, Event
from tradeterm.core.models import (
    NO_MARKETS,
    BookSnapshot,
    Candle,
    EnginePhase,
    EngineSnapshot,
    MarketSnapshot,
    Ticker,
    Trade,
)
from tradeterm.core.preview import OrderPreview, TicketDraft
from tradeterm.wire.codec import CodecError, command_frame, convert, event_of, to_plain
from tradeterm.wire.frames import MAX_SERVER_FRAME, FrameTooLarge, pack, read_frame
from tradeterm.wire.messages import (
    ENCODER,
    PROTOCOL,
    SERVER_DECODER,
    SHARED_FIELDS,
    Answer,
    Ask,
    Bye,
    Ev,
    Hello,
    Refused,
    Rejected,
    Role,
    Subscribe,
    View,
    Welcome,
)

log = logging.getLogger(__name__)

PREVIEW_FRESH_S = 0.4
CONNECT_TIMEOUT_S = 5.0


class AttachError(Exception):
    """Attaching failed: no engine listens there, or it refused this client (the message
    says which, in one line)."""


class RemoteEngine:
    """See the module docstring. ``path``: the engine's socket."""

    def __init__(self, path: Path, *, role: Role = "trader", client: str = "screen",
                 symbol: str = "", timeframe: str = "1m", book_depth: int = 50,
                 trades: int = 200) -> None:
        """``symbol`` and ``timeframe``: what this screen opens on (default: the engine's)."""
        self.path, self.role, self.client = path, role, client
        self.book_depth, self.trades_kept = book_depth, trades
        self.welcome: Welcome | None = None
        self.closed_reason: str | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._listeners: list[Callable[[Event], None]] = []
        self._asks: dict[int, asyncio.Future[Answer]] = {}
        self._ask_id = 0
        self._previews: dict[TicketDraft, tuple[OrderPreview, float]] = {}
        self._previewing: set[TicketDraft] = set()
        # the mirror
        self._shared: dict[str, Any] = {
            "phase": EnginePhase.STARTING, "error": None, "exchange": "", "mode": "paper",
            "demo": False, "symbols": (), "display": DEFAULT_POLICY,
        }
        self._markets: Mapping[str, Any] = NO_MARKETS
        self._symbol = symbol
        self._timeframe = timeframe
        self._candles: tuple[Candle, ...] = ()
        self._trades: tuple[Trade, ...] = ()
        self._book: BookSnapshot | None = None
        self._ticker: Ticker | None = None
        self._market_ok = False  # the view updates are for the current subscription
        self._seq = 0
        self._snap: EngineSnapshot | None = None

    # -- connecting ------------------------------------------------------------------------------

    async def connect(self) -> Welcome:
        """Open the socket and say hello; :class:`AttachError` with the reason otherwise."""
        try:
            reader, self._writer = await asyncio.wait_for(
                asyncio.open_unix_connection(str(self.path)), CONNECT_TIMEOUT_S)
        except FileNotFoundError:
            raise AttachError(f"no engine socket at {self.path}") from None
        except (OSError, TimeoutError) as exc:
            why = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or exc
            raise AttachError(f"cannot connect to the engine at {self.path}: {why}") from None
        self._send(Hello(PROTOCOL, __version__, self.role, self.client))
        try:
            payload = await asyncio.wait_for(read_frame(reader, MAX_SERVER_FRAME),
                                             CONNECT_TIMEOUT_S)
            frame = SERVER_DECODER.decode(payload) if payload is not None else None
        except (TimeoutError, asyncio.IncompleteReadError, FrameTooLarge, ConnectionError,
                msgspec.DecodeError) as exc:
            await self.aclose()
            raise AttachError(f"the engine at {self.path} did not answer the handshake: "
                              f"{type(exc).__name__}") from None
        if isinstance(frame, Refused):
            await self.aclose()
            raise AttachError(f"the engine refused: {frame.reason}")
        if not isinstance(frame, Welcome):
            await self.aclose()
            raise AttachError(f"the engine at {self.path} closed the connection at the handshake")
        self.welcome, self._reader = frame, reader
        if not self._symbol:
            self._symbol = frame.symbol
        self._subscribe()
        return frame

    async def aclose(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _send(self, message: Any) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(pack(ENCODER.encode(message)))

    def _subscribe(self) -> None:
        self._send(Subscribe(self._symbol, self._timeframe, self.book_depth, self.trades_kept))

    # -- the engine surface ----------------------------------------------------------------------

    async def run(self) -> None:
        """Connect (unless connected), then apply frames until the engine or the screen ends
        the session. Never raises for what the engine does: a lost engine is the STOPPED
        phase with the reason."""
        if self._reader is None:
            try:
                await self.connect()
            except AttachError as exc:
                self._lost(str(exc))
                return
        reader = self._reader
        assert reader is not None
        reason = "the engine closed the connection"
        try:
            while True:
                payload = await read_frame(reader, MAX_SERVER_FRAME)
                if payload is None:
                    break
                try:
                    frame = SERVER_DECODER.decode(payload)
                except msgspec.DecodeError as exc:
                    log.warning("engine frame skipped: %s", exc)
                    continue
                if isinstance(frame, Bye):
                    reason = f"the engine ended the session: {frame.reason}"
                    break
                self._apply(frame)
        except (asyncio.IncompleteReadError, ConnectionError, FrameTooLarge) as exc:
            reason = f"lost the engine: {type(exc).__name__}"
        finally:
            detached = self._writer is None
            await self.aclose()
            for future in self._asks.values():
                if not future.done():
                    future.set_exception(AttachError(reason))
            if not detached:
                self._lost(reason)

    def _lost(self, reason: str) -> None:
        self.closed_reason = reason
        self._shared["phase"], self._shared["error"] = EnginePhase.STOPPED, reason
        self._changed()

    def snapshot(self) -> EngineSnapshot:
        snap = self._snap
        if snap is not None and snap.seq == self._seq:
            return snap
        s = self._shared
        self._snap = EngineSnapshot(
            seq=self._seq, phase=s["phase"], exchange=s["exchange"], mode=s["mode"],
            demo=s["demo"], symbols=s["symbols"], symbol=self._symbol, timeframe=self._timeframe,
            market=MarketSnapshot(self._symbol, self._timeframe, self._candles, self._book,
                                  self._trades, self._ticker),
            streams=s.get("streams", ()), tickers=s.get("tickers", ()), error=s["error"],
            signals=s.get("signals", ()), strategies=s.get("strategies", ()),
            account=s.get("account"), trading_state=s.get("trading_state", "active"),
            trading_reason=s.get("trading_reason"), fills=s.get("fills", ()),
            sparklines=s.get("sparklines", ()), replay=s.get("replay"),
            daily_loss_limit=s.get("daily_loss_limit"), markets=self._markets,
            display=s["display"], attached=self.role,
        )
        return self._snap

    def submit(self, command: Command) -> None:
        if isinstance(command, Shutdown):  # the screen quits: detach, the engine goes on
            self._send(Bye("detach"))
            writer, self._writer = self._writer, None
            if writer is not None:
                writer.close()
            return
        if isinstance(command, SwitchSymbol):
            self._symbol = command.symbol
            self._reset_market()
            self._subscribe()
        elif isinstance(command, SwitchTimeframe):
            self._timeframe = command.timeframe
            self._reset_market()
            self._subscribe()
        else:
            self._send(command_frame(command))

    def submit_detach(self) -> None:
        """Detach (what the screen's ``q`` does): the engine goes on."""
        self.submit(Shutdown())

    def add_listener(self, callback: Callable[[Event], None]) -> None:
        self._listeners.append(callback)

    def preview(self, draft: TicketDraft) -> OrderPreview:
        cached = self._previews.get(draft)
        now = time.monotonic()
        if (cached is None or now - cached[1] > PREVIEW_FRESH_S) and draft not in self._previewing:
            self._previewing.add(draft)
            asyncio.get_running_loop().create_task(self._ask_preview(draft))
        if cached is not None:
            return cached[0]
        return OrderPreview(None, False, "asking the engine…")

    async def _ask_preview(self, draft: TicketDraft) -> None:
        try:
            body = await self.ask("preview", {"draft": to_plain(draft)})
            preview = convert(body, OrderPreview, "order preview")
        except (AttachError, CodecError, RequestFailed) as exc:
            preview = OrderPreview(None, False, f"no preview: {exc}")
        finally:
            self._previewing.discard(draft)
        if len(self._previews) > 64:
            self._previews.clear()
        self._previews[draft] = (preview, time.monotonic())

    async def ask(self, kind: str, args: dict[str, Any] | None = None,
                  timeout: float = 10.0) -> Any:
        """A request to the engine; its answer's body, or :class:`RequestFailed`."""
        if self._writer is None:
            raise AttachError(self.closed_reason or "not attached")
        self._ask_id += 1
        ask_id = self._ask_id  # this ask's: others may be asked while it waits
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._asks[ask_id] = future
        self._send(Ask(ask_id, kind, args or {}))
        try:
            answer = await asyncio.wait_for(future, timeout)
        finally:
            self._asks.pop(ask_id, None)
        if not answer.ok:
            raise RequestFailed(answer.error or "refused")
        return answer.body

    # -- the mirror ------------------------------------------------------------------------------

    def _changed(self) -> None:
        self._seq += 1

    def _reset_market(self) -> None:
        self._candles, self._trades, self._book, self._ticker = (), (), None, None
        self._market_ok = False
        self._changed()

    def _apply(self, frame: Any) -> None:
        match frame:
            case View():
                self._apply_view(frame)
            case Ev():
                try:
                    event = event_of(frame)
                except CodecError as exc:
                    log.warning("engine event skipped: %s", exc)
                    return
                self._notify(event)
            case Answer():
                future = self._asks.get(frame.id)
                if future is not None and not future.done():
                    future.set_result(frame)
            case Rejected():
                log.warning("the engine rejected a frame: %s", frame.reason)
                self._notify(CommandIgnored(int(time.time() * 1000), command="",
                                            reason=frame.reason))

    def _notify(self, event: Event) -> None:
        for callback in list(self._listeners):
            try:
                callback(event)
            except Exception:
                log.exception("event listener failed on %r", event)

    def _apply_view(self, view: View) -> None:
        for name in SHARED_FIELDS:
            value = getattr(view, name)
            if value is not msgspec.UNSET:
                self._shared[name] = value
        if view.markets is not msgspec.UNSET:  # read-only, as the engine's
            self._markets = MappingProxyType(dict(view.markets))
        if view.symbol is not msgspec.UNSET:  # the first update of a subscription
            self._market_ok = (view.symbol, view.timeframe) == (self._symbol, self._timeframe)
        if not self._market_ok:  # still for the previous subscription, overtaken by a switch
            self._changed()
            return
        if view.candles is not msgspec.UNSET:
            self._candles = view.candles
        if view.candles_tail is not msgspec.UNSET and view.candles_tail:
            first = view.candles_tail[0].open_time
            kept = tuple(c for c in self._candles if c.open_time < first) + view.candles_tail
            keep = view.candles_kept if view.candles_kept is not msgspec.UNSET else len(kept)
            self._candles = kept[-keep:] if keep else ()
        if view.trades is not msgspec.UNSET:
            self._trades = view.trades
        if view.trades_new is not msgspec.UNSET:
            self._trades = (self._trades + view.trades_new)[-self.trades_kept:]
        if view.book is not msgspec.UNSET:
            self._book = view.book
        if view.ticker is not msgspec.UNSET:
            self._ticker = view.ticker
        self._changed()


class RequestFailed(Exception):
    """The engine answered a request with a refusal (the message is its reason)."""


