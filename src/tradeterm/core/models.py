"""Immutable market-data models.

Market data (candles, book levels, trades) are observations: they are kept as floats, exactly as
ccxt delivers them, and are never summed into money. Orders, fills, balances and PnL (a later
layer) use ``decimal.Decimal``; see ``docs/architecture.md``.

Everything here is frozen so a snapshot handed to the UI can never be mutated under it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from tradeterm.core.display import DEFAULT_POLICY, DisplayPolicy, MarketFormat, quote_of

if TYPE_CHECKING:
    from tradeterm.core.trading import AccountSnapshot, Fill

# Binance's standard intervals, in the order the UI offers them, with their length in ms.
TIMEFRAME_MS: dict[str, int] = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
}


def timeframe_ms(timeframe: str) -> int:
    """Length of one candle of ``timeframe`` in milliseconds; ValueError names the bad value."""
    try:
        return TIMEFRAME_MS[timeframe]
    except KeyError:
        raise ValueError(
            f"unknown timeframe {timeframe!r}; expected one of {', '.join(TIMEFRAME_MS)}"
        ) from None


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV bar. ``open_time`` is the bar's open in ms since the epoch (UTC)."""

    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float


Side = Literal["buy", "sell"]


@dataclass(frozen=True, slots=True)
class Trade:
    """One public trade. ``side`` is the aggressor's side (a ``sell`` hit the bid)."""

    id: str
    timestamp: int
    price: float
    amount: float
    side: Side


@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """Top of an L2 order book: bids descending, asks ascending, ``(price, size)`` pairs.

    ``nonce`` is the exchange's last applied update id (Binance ``lastUpdateId``/``u``) when the
    exchange has one.
    """

    symbol: str
    bids: tuple[tuple[float, float], ...] = ()
    asks: tuple[tuple[float, float], ...] = ()
    nonce: int | None = None
    timestamp: int | None = None

    @property
    def best_bid(self) -> float | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> float | None:
        return self.asks[0][0] if self.asks else None

    @property
    def mid(self) -> float | None:
        if self.bids and self.asks:
            return (self.bids[0][0] + self.asks[0][0]) / 2
        return None

    @property
    def spread(self) -> float | None:
        if self.bids and self.asks:
            return self.asks[0][0] - self.bids[0][0]
        return None


@dataclass(frozen=True, slots=True)
class Ticker:
    """24 h statistics for one symbol."""

    symbol: str
    last: float | None = None
    open_24h: float | None = None
    high_24h: float | None = None
    low_24h: float | None = None
    volume_quote_24h: float | None = None

    @property
    def change_pct(self) -> float | None:
        if self.last is None or not self.open_24h:
            return None
        return (self.last / self.open_24h - 1.0) * 100.0


class FeedStatus(str, Enum):
    """Health of one market-data stream, as the status bar shows it."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    STALE = "stale"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class StreamHealth:
    """Health of one supervised stream (``ohlcv``, ``book`` or ``trades`` for a symbol)."""

    stream: str
    symbol: str
    status: FeedStatus
    last_message_ms: int | None = None
    reconnects: int = 0
    last_error: str | None = None
    # Exchange event time to local receipt, of the last message (ms); None if unknown.
    latency_ms: float | None = None


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """What the UI needs to draw one symbol: candles of one timeframe, book, tape, ticker."""

    symbol: str
    timeframe: str
    candles: tuple[Candle, ...] = ()
    book: BookSnapshot | None = None
    trades: tuple[Trade, ...] = field(default=())  # newest last
    ticker: Ticker | None = None


@dataclass(frozen=True, slots=True)
class MarketPrecision:
    """How one market's numbers are shown: prices on ``tick``, quantities on ``step``, amounts
    in ``quote`` at its display decimals. ``None``: the exchange stated no grid (the display
    policy then picks decimals from the value)."""

    tick: Decimal | None
    step: Decimal | None
    base: str
    quote: str


NO_MARKETS: Mapping[str, MarketPrecision] = MappingProxyType({})


class EnginePhase(str, Enum):
    """Where the engine is in its life, for the status bar and the 'cannot connect' screen."""

    STARTING = "starting"  # nothing tried yet (first frame is drawn before ccxt is imported)
    CONNECTING = "connecting"  # loading markets
    RUNNING = "running"  # markets loaded, streams supervised
    UNREACHABLE = "unreachable"  # the exchange could not be reached; see EngineSnapshot.error
    REFUSED = "refused"  # reached, but its markets cannot be traded safely; see .error
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class EngineSnapshot:
    """Everything the UI reads, in one immutable value. ``seq`` grows whenever anything changed,
    so a reader that sees the same ``seq`` twice can skip its redraw."""

    seq: int
    phase: EnginePhase
    exchange: str
    mode: str  # "paper" or "live"
    demo: bool
    symbols: tuple[str, ...]
    symbol: str
    timeframe: str
    market: MarketSnapshot
    streams: tuple[StreamHealth, ...] = ()
    tickers: tuple[Ticker, ...] = ()
    error: str | None = None
    signals: tuple[Signal, ...] = ()  # recent strategy signals, oldest first (bounded)
    strategies: tuple[StrategyHealth, ...] = ()  # per-strategy health, by name
    account: AccountSnapshot | None = None  # the paper account (None until the journal opened)
    trading_state: str = "active"  # risk's ACTIVE / REDUCING / HALTED (value)
    trading_reason: str | None = None  # why it last changed (kill switch, loss limit, journal)
    fills: tuple[Fill, ...] = ()  # recent executions, oldest first (bounded): chart markers
    # Watchlist sparklines: (symbol, recent closes oldest first) for each watchlist symbol.
    sparklines: tuple[tuple[str, tuple[float, ...]], ...] = ()
    replay: ReplayStatus | None = None  # set when the market is a bar replay (--replay FILE)
    # The day's loss limit in quote as the risk engine enforces it (None: start equity unknown).
    daily_loss_limit: Decimal | None = None
    # Display precision per symbol, from the exchange's markets (empty until connected), and
    # the quote decimals of ``[display]``: every screen formats money through these.
    markets: Mapping[str, MarketPrecision] = field(default_factory=lambda: NO_MARKETS)
    display: DisplayPolicy = DEFAULT_POLICY
    # None: the engine runs in this process; else this screen is attached to an engine
    # service over its socket, with this role ("trader" or "read-only").
    attached: str | None = None

    def precision(self, symbol: str) -> MarketPrecision | None:
        """``symbol``'s tick, step and currencies; None before the markets are loaded."""
        return self.markets.get(symbol)

    def market_format(self, symbol: str) -> MarketFormat:
        """How ``symbol``'s numbers are shown: its tick, step and quote currency under the
        display policy (the quote from the symbol while the market is unknown)."""
        p = self.markets.get(symbol)
        if p is None:
            return MarketFormat(quote=quote_of(symbol), policy=self.display)
        return MarketFormat(p.tick, p.step, p.quote, self.display)


@dataclass(frozen=True, slots=True)
class ReplayStatus:
    """Where a bar replay is: the status bar shows it, the replay keys change it."""

    paused: bool
    speed: float  # 1.0 = real time
    position_ms: int | None = None  # simulated clock (open time of the bar being replayed)
    finished: bool = False


SignalKind = Literal["entry", "exit"]


@dataclass(frozen=True, slots=True)
class Signal:
    """What a strategy concluded at the close of one bar, on its way to risk and the broker.

    Prices are analysis outputs (floats); the broker turns them into exact exchange prices.
    ``side`` is the side of the order the signal asks for: an ``exit`` of a long is a ``sell``.
    """

    strategy: str
    symbol: str
    timeframe: str
    bar_time: int  # open time (ms) of the closed bar that produced it
    kind: SignalKind
    side: Side
    entry: float | None = None  # reference price (the bar's close unless the strategy says)
    stop: float | None = None
    targets: tuple[float, ...] = ()
    confidence: float = 0.0  # 0..1
    reasons: tuple[str, ...] = ()
    # the strategy's scale-out, one (target_i or None, share) per leg (``docs/strategies.md``);
    # empty: the whole position at the first target
    scale_out: tuple[tuple[float | None, float], ...] = ()


class StrategyState(str, Enum):
    ENABLED = "enabled"
    DISABLED = "disabled"  # by the user, or not listed in [strategies] enabled
    FAILED = "failed"  # raised, failed to load, or refused by the look-ahead guard


@dataclass(frozen=True, slots=True)
class StrategyHealth:
    """Per-strategy health, for the signals panel and the strategies screen (`S`)."""

    name: str
    state: StrategyState
    file: str | None = None
    last_run_ms: int | None = None
    last_duration_ms: float | None = None
    last_error: str | None = None
    signals: int = 0
    plots: tuple[str, ...] = ()  # columns it declares plottable (the indicator panes offer them)
    # the newest bar's ``status`` column (a strategy's own words at every close, signal or not;
    # ml_signal: its three probabilities), followed by the symbol
    note: str | None = None
