"""Discrete events the engine publishes upward (to the UI, logs, later the journal).

High-rate state (book, candles, trades) is never sent as events: readers sample
``Engine.snapshot()`` instead. Events are for things that happen once and deserve attention.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradeterm.core.models import Candle, FeedStatus, Signal
from tradeterm.core.trading import ClosedTrade, Fill, Order, OrderRequest


@dataclass(frozen=True, slots=True)
class Event:
    timestamp: int  # ms since the epoch, engine clock


@dataclass(frozen=True, slots=True)
class FeedStatusChanged(Event):
    stream: str
    symbol: str
    status: FeedStatus
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class FeedMessageSkipped(Event):
    """A message from the exchange could not be used and was skipped; the stream continues."""

    stream: str
    symbol: str
    reason: str


@dataclass(frozen=True, slots=True)
class BookResynced(Event):
    """A sequence gap was detected: the local book was dropped and rebuilt from a snapshot."""

    symbol: str
    reason: str


@dataclass(frozen=True, slots=True)
class ExchangeUnreachable(Event):
    """The exchange could not be reached (markets could not be loaded); published on each try."""

    exchange: str
    reason: str


@dataclass(frozen=True, slots=True)
class VenueRefused(Event):
    """The exchange answered, but its markets cannot be traded safely (e.g. a precision mode the
    trading core does not read); nothing is traded there and it is not retried."""

    exchange: str
    reason: str


@dataclass(frozen=True, slots=True)
class EngineReady(Event):
    """Markets are loaded and streams are starting."""

    exchange: str
    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CommandIgnored(Event):
    """A command could not be carried out (unknown symbol or timeframe, ...); nothing changed."""

    command: str
    reason: str


@dataclass(frozen=True, slots=True)
class WatchlistChanged(Event):
    """``symbol`` joined the watchlist (now ``symbols``); ``saved``: the config file that
    records it, else ``problem`` says why it holds for this session only."""

    symbol: str
    symbols: tuple[str, ...]
    saved: str | None = None
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class SymbolsUnavailable(Event):
    """Watchlist symbols the exchange does not list; they are left out, the rest run."""

    exchange: str
    symbols: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SignalEmitted(Event):
    """A strategy produced a signal at a bar close (towards risk, the broker and the UI)."""

    signal: Signal


@dataclass(frozen=True, slots=True)
class StrategyFailed(Event):
    """A strategy was disabled: it raised, could not load, or looks into the future."""

    strategy: str
    reason: str


@dataclass(frozen=True, slots=True)
class OrderUpdated(Event):
    """An order changed state (accepted, triggered, partially filled, cancelled, expired)."""

    order: Order


@dataclass(frozen=True, slots=True)
class OrderFilled(Event):
    """An execution, already committed to the journal when this is published."""

    fill: Fill
    order: Order


@dataclass(frozen=True, slots=True)
class OrderDenied(Event):
    """Risk (or the exchange filters) refused an order; ``reason`` says which rule and value."""

    request: OrderRequest
    reason: str
    rule: str  # e.g. "daily_loss_limit", "min_notional", "LOT_SIZE"


@dataclass(frozen=True, slots=True)
class PositionClosed(Event):
    trade: ClosedTrade


@dataclass(frozen=True, slots=True)
class TradingStateChanged(Event):
    """ACTIVE / REDUCING / HALTED, with why (the kill switch, the daily loss limit, a full disk)."""

    state: str
    reason: str


@dataclass(frozen=True, slots=True)
class ReplayFinished(Event):
    """A bar replay (``--replay FILE``) reached the end of its file; the market stays paused."""

    file: str



@dataclass(frozen=True, slots=True)
class BacktestReport:
    """What the backtest screen shows of a finished run, as display-ready values (not an
    event: the payload of :class:`BacktestFinished`). Small on purpose, since every attached
    client receives it: the trades table is its first page, the equity and drawdown curves are
    sampled, the chart's candles capped (``tradeterm backtest`` writes the full result)."""

    title: str  # "ema_cross on BTC/USDT 1m"
    bars: int
    metrics: tuple[tuple[str, str], ...]  # (label, value shown), the CLI report's rows
    trades: tuple[tuple[str, ...], ...]  # display cells, the CLI report's columns
    trade_signs: tuple[int, ...]  # each row's PnL sign (-1, 0, 1): the exact value's
    trades_total: int
    equity: tuple[float, ...]  # sampled per bar: a picture, never used as money
    drawdown_pct: tuple[float, ...]
    candles: tuple[Candle, ...]  # the newest of the run, for the chart
    fills: tuple[Fill, ...]  # the trades' entries and exits within those candles


@dataclass(frozen=True, slots=True)
class BacktestProgressed(Event):
    """A backtest job the engine runs reached a stage (``step`` of ``steps``); sent to every
    attached client, so each backtest screen shows the run whoever started it."""

    job: int
    strategy: str
    symbol: str
    timeframe: str
    stage: str
    step: int
    steps: int


@dataclass(frozen=True, slots=True)
class BacktestFinished(Event):
    """A backtest job ended: its ``report``, or ``error`` (a one-line reason)."""

    job: int
    strategy: str
    symbol: str
    timeframe: str
    report: BacktestReport | None = None
    error: str | None = None


OPTIMIZE_OBJECTIVES: tuple[str, ...] = ("sharpe", "sortino", "calmar", "profit_factor",
                                       "expectancy_r", "total_return", "max_drawdown")
"""What a search can rank by (the backtester's ``METRICS``; the optimisation view offers them)."""
OPTIMIZE_METHODS: tuple[str, ...] = ("tpe", "grid", "random")
"""The optimisation view's searches (NSGA-II needs two objectives: the CLI's)."""


@dataclass(frozen=True, slots=True)
class OptimizeTrial:
    """One trial of an optimisation as the backtest screen's table shows it."""

    number: int  # the candidate's (grid, random) or the Optuna trial's number
    params: tuple[tuple[str, str], ...]  # (name, value shown), every searched parameter
    objective: float | None  # the in-sample objective; None when undefined (no trade)
    in_sample: tuple[str, ...]  # display cells: trades, PF, return %, DD %, Sharpe
    out_of_sample: tuple[str, ...] | None = None  # the same, for the best few only
    net_pnl: str = ""  # in-sample, exact decimal text


@dataclass(frozen=True, slots=True)
class OptimizeHeatmap:
    """The best objective per cell over two parameters (rows ``y``, columns ``x``); a cell
    no trial landed in is None. Many distinct values (a TPE search) are binned per axis."""

    x: str
    y: str
    x_values: tuple[str, ...]  # column labels
    y_values: tuple[str, ...]  # row labels
    cells: tuple[tuple[float | None, ...], ...]  # [row][column]
    lower_is_better: bool = False


@dataclass(frozen=True, slots=True)
class EquityCurve:
    """A trial's equity over the whole range (in- and out-of-sample), sampled (a picture)."""

    trial: int
    label: str  # "#3 fast=9 slow=21"
    equity: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class OptimizeReport:
    """What the optimisation view shows of a finished search (the payload of
    :class:`OptimizeFinished`): display-ready and small, like :class:`BacktestReport`."""

    title: str  # "ema_cross on BTC/USDT 1h: grid (3 steps), sharpe"
    method: str
    objective: str
    bars: int
    in_sample_bars: int
    trials: tuple[OptimizeTrial, ...]  # ranked, best first
    refused: int  # refused by the strategy's constraints, never run
    failed: int
    heatmap: OptimizeHeatmap
    curves: tuple[EquityCurve, ...]  # the best few, best first


@dataclass(frozen=True, slots=True)
class OptimizeProgressed(Event):
    """An optimisation the engine runs advanced: ``done`` of ``total`` in ``phase``
    ("trials", "out-of-sample", "equity curves"), and the best objective so far (shown)."""

    job: int
    strategy: str
    symbol: str
    timeframe: str
    phase: str
    done: int
    total: int
    best: str | None = None


@dataclass(frozen=True, slots=True)
class OptimizeFinished(Event):
    """An optimisation ended: its ``report``, or ``error`` (a one-line reason)."""

    job: int
    strategy: str
    symbol: str
    timeframe: str
    report: OptimizeReport | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ModelRetrainStarted(Event):
    """A scheduled retrain of a saved model began (``[ml] retrain_every_hours``): ``bars``
    closed candles fetched, now training in a child process; the engine trades on."""

    model: str
    bars: int
    version: str  # the version in use meanwhile


@dataclass(frozen=True, slots=True)
class ModelRetrained(Event):
    """A scheduled retrain ended. ``ok``: version ``version`` replaced ``previous`` and strategies
    use it from their next evaluation; else ``detail`` says why and the old version stays."""

    model: str
    ok: bool
    version: str = ""
    previous: str = ""
    detail: str = ""
