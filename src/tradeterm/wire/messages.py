"""The typed frames of the engine protocol (msgspec structs, tagged by ``t``).

A client opens with :class:`Hello`; the engine answers :class:`Welcome` or :class:`Refused`
(and closes). Then the client sends :class:`Subscribe` (what it shows), :class:`Cmd` (a core
command), :class:`Ask` (a request answered by :class:`Answer` with the same id) and
:class:`Bye`; the engine sends :class:`View` (only the parts of the client's view that changed),
:class:`Ev` (every engine event), :class:`Answer`, :class:`Rejected` (a frame it could not take,
the session goes on) and :class:`Bye` (it drops the client, with the reason).

Money inside them is ``Decimal`` and travels as its decimal string (msgspec's default), so a
price of ``0.00100000`` arrives as exactly that; market data stay floats as everywhere else.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import msgspec
from msgspec import UNSET, Struct, UnsetType

from tradeterm.core.display import DisplayPolicy
from tradeterm.core.models import (
    BookSnapshot,
    Candle,
    EnginePhase,
    MarketPrecision,
    ReplayStatus,
    Signal,
    StrategyHealth,
    StreamHealth,
    Ticker,
    Trade,
)
from tradeterm.core.trading import AccountSnapshot, Fill

PROTOCOL = 1
"""Bumped whenever a frame changes incompatibly; both sides refuse any other."""

Role = Literal["trader", "read-only"]
"""What a client may do: a read-only client watches and asks; only a trader acts."""


class Hello(Struct, tag="hello", tag_field="t"):
    protocol: int
    version: str  # the client's tradeterm version, for the engine's log and refusals
    role: Role = "trader"
    client: str = ""  # what the client is ("screen", "serve", a script): for the log


class Welcome(Struct, tag="welcome", tag_field="t"):
    protocol: int
    version: str  # the engine's tradeterm version
    pid: int
    role: Role
    journal: str
    symbol: str  # the engine's default view (the first watchlist symbol) and timeframe
    timeframe: str
    book_fps: int  # at most this many book updates a second
    fps: int  # view updates a second


class Refused(Struct, tag="refused", tag_field="t"):
    reason: str


class Subscribe(Struct, tag="subscribe", tag_field="t"):
    symbol: str
    timeframe: str
    book_depth: int = 20  # levels per side
    trades: int = 60  # newest trades of the tape


class Cmd(Struct, tag="cmd", tag_field="t"):
    name: str  # a class of tradeterm.core.commands
    args: dict[str, Any] = {}


class Ask(Struct, tag="ask", tag_field="t"):
    id: int
    kind: str  # see tradeterm.service.requests
    args: dict[str, Any] = {}


class Answer(Struct, tag="answer", tag_field="t"):
    id: int
    ok: bool
    body: Any = None
    error: str | None = None


class Ev(Struct, tag="event", tag_field="t"):
    name: str  # a class of tradeterm.core.events
    body: dict[str, Any] = {}


class Rejected(Struct, tag="rejected", tag_field="t"):
    reason: str


class Bye(Struct, tag="bye", tag_field="t"):
    reason: str = ""


class View(Struct, tag="view", tag_field="t", omit_defaults=True):
    """What changed in one client's view since its last update; an unset field is unchanged.

    The first update after a subscription carries everything. Candles come whole
    (``candles``) or as a tail (``candles_tail``: replaces the client's candles from its first
    open time on; ``candles_kept`` then trims the oldest); trades whole (``trades``) or only
    the new ones (``trades_new``).
    """

    phase: EnginePhase | UnsetType = UNSET
    error: str | None | UnsetType = UNSET
    exchange: str | UnsetType = UNSET
    mode: str | UnsetType = UNSET
    demo: bool | UnsetType = UNSET
    symbols: tuple[str, ...] | UnsetType = UNSET
    streams: tuple[StreamHealth, ...] | UnsetType = UNSET
    tickers: tuple[Ticker, ...] | UnsetType = UNSET
    sparklines: tuple[tuple[str, tuple[float, ...]], ...] | UnsetType = UNSET
    signals: tuple[Signal, ...] | UnsetType = UNSET
    strategies: tuple[StrategyHealth, ...] | UnsetType = UNSET
    account: AccountSnapshot | None | UnsetType = UNSET
    trading_state: str | UnsetType = UNSET
    trading_reason: str | None | UnsetType = UNSET
    daily_loss_limit: Decimal | None | UnsetType = UNSET
    fills: tuple[Fill, ...] | UnsetType = UNSET
    replay: ReplayStatus | None | UnsetType = UNSET
    markets: dict[str, MarketPrecision] | UnsetType = UNSET
    display: DisplayPolicy | UnsetType = UNSET
    # the client's own market: what it subscribed to
    symbol: str | UnsetType = UNSET
    timeframe: str | UnsetType = UNSET
    candles: tuple[Candle, ...] | UnsetType = UNSET
    candles_tail: tuple[Candle, ...] | UnsetType = UNSET
    candles_kept: int | UnsetType = UNSET
    book: BookSnapshot | None | UnsetType = UNSET
    trades: tuple[Trade, ...] | UnsetType = UNSET
    trades_new: tuple[Trade, ...] | UnsetType = UNSET
    ticker: Ticker | None | UnsetType = UNSET


SHARED_FIELDS = (
    "phase", "error", "exchange", "mode", "demo", "symbols", "streams", "tickers", "sparklines",
    "signals", "strategies", "account", "trading_state", "trading_reason", "daily_loss_limit",
    "fills", "replay", "markets", "display",
)
"""The :class:`View` fields that are ``EngineSnapshot`` fields of the same name, the same for
every client (the rest is the client's own market)."""

ClientFrame = Hello | Subscribe | Cmd | Ask | Bye
ServerFrame = Welcome | Refused | View | Ev | Answer | Rejected | Bye


def enc_hook(obj: Any) -> Any:
    """Read-only mappings (the display policy's, the markets') travel as plain maps."""
    from collections.abc import Mapping

    if isinstance(obj, Mapping):
        return dict(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


ENCODER = msgspec.msgpack.Encoder(enc_hook=enc_hook)
CLIENT_DECODER = msgspec.msgpack.Decoder(ClientFrame)
SERVER_DECODER = msgspec.msgpack.Decoder(ServerFrame)
