"""The engine: connects to the exchange (or the simulator), runs the feed, answers commands.

Plain asyncio, no Textual: it runs as a worker inside the app or headless, unchanged. ccxt is
imported in a thread when :meth:`Engine.run` starts, never at import time, because the event
loop is shared with the UI and ``import ccxt.pro`` takes a second or more.

Readers call :meth:`Engine.snapshot` (cheap, immutable, cached until something changed); the UI
talks back only through :meth:`Engine.submit`. Discrete events reach :meth:`add_listener`
callbacks, on the loop. Nothing the exchange does makes :meth:`run` raise: an unreachable
exchange is a phase (``UNREACHABLE``) with a one-line reason, retried every 30 s, from which a
``SwitchToDemo`` command moves to the built-in simulator.

Strategies (``tradeterm.strategy``) are imported in a thread once :meth:`Engine.run` starts
(they pull in polars and TA-Lib) and each runs in its own worker process; the feed then watches
the candles they need, and every bar close the market state detects is evaluated in the workers
(a stuck or runaway strategy is killed at its deadline or memory limit; shutdown kills them
all). Strategy files are polled for changes every ``STRATEGY_POLL_S`` seconds and reloaded.

Trading (``tradeterm.desk``): the journal opens and the paper account is restored before
anything else runs; strategy signals and the trading commands go to the :class:`Desk`, which
passes them through risk and the paper broker and journals every event before it is published.
The feed hands the desk the book and trades of every symbol it trades (see ``docs/trading.md``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from tradeterm.broker.rules import markets_precision
from tradeterm.config import Settings
from tradeterm.core.commands import (
    AddToWatchlist,
    CancelOrder,
    ClosePosition,
    Command,
    FlattenAll,
    KillSwitch,
    PlaceOrder,
    ReplayControl,
    ResumeTrading,
    Shutdown,
    StartStrategy,
    StopStrategy,
    SwitchSymbol,
    SwitchTimeframe,
    SwitchToDemo,
)
from tradeterm.core.config_symbols import ConfigEditError, add_symbol
from tradeterm.core.display import DEFAULT_POLICY
from tradeterm.core.events import (
    CommandIgnored,
    EngineReady,
    Event,
    ExchangeUnreachable,
    SignalEmitted,
    SymbolsUnavailable,
    VenueRefused,
    WatchlistChanged,
)
from tradeterm.core.models import (
    NO_MARKETS,
    TIMEFRAME_MS,
    Candle,
    EnginePhase,
    EngineSnapshot,
    MarketPrecision,
    MarketSnapshot,
)
from tradeterm.core.preview import OrderPreview, TicketDraft
from tradeterm.core.scan import VenueTicker
from tradeterm.desk import Desk
from tradeterm.exchange.client import create_exchange, import_ccxt_pro
from tradeterm.exchange.errors import one_line, with_cause
from tradeterm.exchange.feed import Feed
from tradeterm.exchange.health import FeedHealth
from tradeterm.exchange.markets import check_precision_mode
from tradeterm.exchange.sparklines import Sparklines
from tradeterm.exchange.venue_tickers import TickersUnavailable, VenueTickers
from tradeterm.market.state import MarketState
from tradeterm.replay_control import ReplayController, engine_gate
from tradeterm.wire.remote import RequestFailed

if TYPE_CHECKING:
    from tradeterm.ml.schedule import Retrainer
    from tradeterm.strategy.engine import StrategyEngine

log = logging.getLogger(__name__)

STRATEGY_POLL_S = 2.0
"""How often strategy files are checked for changes (mtime), to reload them."""

_TRADING = (PlaceOrder, CancelOrder, ClosePosition, FlattenAll, KillSwitch, ResumeTrading)

SIM_EXCHANGE = "binance"
"""The simulator speaks Binance spot; the demo always uses a ccxt binance client."""


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def _start_own_sim(settings: Settings) -> Any:
    """Start the simulator in its own thread (the import is heavy too: call in a thread)."""
    from tradeterm.sim import ThreadedSim

    return ThreadedSim.start(
        seed=settings.sim.seed, replay=settings.sim.replay, speed=settings.sim.speed
    )


class EngineService(Protocol):
    """Something that runs beside the engine for its whole life (see ``Engine.services``)."""

    async def start(self) -> None: ...
    async def close(self) -> None: ...


class Engine:
    """See the module docstring. One instance runs once: ``await engine.run()``."""

    def __init__(
        self,
        settings: Settings,
        *,
        sim_base_url: str | None = None,
        clock: Callable[[], int] = wall_clock_ms,
        connect_timeout_s: float = 15.0,
        retry_unreachable_s: float = 30.0,
        strategy_poll_s: float = STRATEGY_POLL_S,
    ) -> None:
        self.settings = settings
        self._sim_base_url = sim_base_url
        # --replay: a sandbox on the replay's own clock (its bars' time), see docs/replay.md
        self._replaying = settings.replaying and sim_base_url is None
        if self._replaying and clock is wall_clock_ms:
            clock = self._replay_clock
        self._clock = clock
        self._connect_timeout_s = connect_timeout_s
        self._retry_s = retry_unreachable_s
        self._inbox: asyncio.Queue[Command] = asyncio.Queue()
        self._listeners: list[Callable[[Event], None]] = []
        self.state = MarketState(
            candles_kept=max(1000, 2 * settings.feed.history_bars),
            trades_kept=settings.feed.trades_kept,
        )
        # A connection's health is wall time, also in a replay (whose clock stands still while
        # paused and runs a bar in milliseconds when fast): it is about sockets, not the market.
        wall = wall_clock_ms if self._replaying else clock
        self.health = FeedHealth(wall, self._publish)
        # --replay FILE: drives the own simulator's clock, mirrored as snapshot.replay
        self.replay = ReplayController(
            settings, lambda: self._sim, self.health, self._publish, wall, self._ignore
        )
        self.sparklines = Sparklines()  # watchlist lines: fetched on connect, every 5 min
        self.venue_tickers = VenueTickers()  # every market's, for the scanner, when asked
        self._watchlist = list(settings.symbols)  # the settings' and what was added since
        self._phase = EnginePhase.STARTING
        self._error: str | None = None
        self._demo = settings.demo
        self._own_sim_wanted = False  # set by SwitchToDemo: ignore sim_base_url, start our own
        self._sim: Any = None  # the ThreadedSim handle we started, if any
        self._exchange: Any = None
        self._feed: Feed | None = None
        self._symbols: tuple[str, ...] = tuple(settings.symbols)
        self._symbol = settings.symbols[0]
        self._timeframe = settings.timeframe
        self._version = 0
        # Display precision of every listed market (set on connect) and the [display] policy.
        self._markets: Mapping[str, MarketPrecision] = NO_MARKETS
        self._display = DEFAULT_POLICY.with_overrides(settings.display.quote_decimals)
        self._snap: EngineSnapshot | None = None
        self._snap_key: tuple[int, ...] | None = None
        self._shutdown = asyncio.Event()
        self._wake = asyncio.Event()  # leave the current session (SwitchToDemo)
        self.strategies: StrategyEngine | None = None  # set once loaded (see run)
        self._strategy_workers: StrategyEngine | None = None  # set at once: teardown stops it
        self._strategy_poll_s = strategy_poll_s
        self._evaluations: set[asyncio.Task[Any]] = set()
        self.state.add_bar_listener(self._on_bar_closed)
        self.desk = Desk(settings, self._publish, clock, on_symbols=self._markets_changed)
        self._market_sync: asyncio.Task[None] | None = None
        # What runs beside the engine once it holds its journal (the socket server clients
        # attach to, tradeterm.service): started after the journal opens, closed first.
        self.services: list[EngineService] = []
        # (symbol, timeframe) keys attached clients look at (tradeterm.service): watched too.
        self._view_keys: frozenset[tuple[str, str]] = frozenset()
        # Answers requests (Ask kinds) in-process with the socket server's handlers: set by
        # tradeterm.service.hosted, so an in-process screen asks exactly as an attached one.
        self.answerer: Callable[[str, dict[str, Any]], Awaitable[Any]] | None = None
        # [ml] retrain_every_hours: saved models retrained in a child process (ml/schedule.py)
        self.retrainer: Retrainer | None = None
        if settings.ml.retrain_every_hours > 0:
            from tradeterm.ml.schedule import Retrainer
            from tradeterm.ml.store import models_dir

            self.retrainer = Retrainer(
                settings.ml, models_dir(settings.data_dir), self._fetch_closed, self._publish,
                clock, ready=lambda: self._phase is EnginePhase.RUNNING
                and self.strategies is not None,
            )

    # -- the public surface ---------------------------------------------------------------------

    def add_listener(self, callback: Callable[[Event], None]) -> None:
        self._listeners.append(callback)

    def submit(self, command: Command) -> None:
        """Queue ``command`` (call from the loop's thread; never blocks)."""
        self._inbox.put_nowait(command)

    def snapshot(self) -> EngineSnapshot:
        """Everything the UI draws; the same object until something changed (then ``seq`` grew)."""
        strategies = self.strategies
        key = (
            self._version,
            self.state.version,
            self.health.version,
            strategies.version if strategies is not None else 0,
            self.desk.version,
            self.replay.version,
            self.sparklines.version,
        )
        if self._snap is not None and key == self._snap_key:
            return self._snap
        tickers = self.state.tickers(self._symbols)
        self._snap = EngineSnapshot(
            seq=sum(key),
            phase=self._phase,
            exchange=self._exchange_id,
            mode=self.settings.mode,
            demo=self._demo,
            symbols=self._symbols,
            symbol=self._symbol,
            timeframe=self._timeframe,
            market=self.state.snapshot(self._symbol, self._timeframe),
            streams=self.health.streams(),
            tickers=tickers,
            sparklines=self.sparklines.snapshot(self._symbols, tickers),
            error=self._error,
            signals=strategies.signals() if strategies is not None else (),
            strategies=strategies.health() if strategies is not None else (),
            account=self.desk.account(),
            trading_state=self.desk.trading_state,
            trading_reason=self.desk.trading_reason,
            daily_loss_limit=self.desk.daily_loss_limit,
            replay=self.replay.status,
            fills=self.desk.fills(),
            markets=self._markets,
            display=self._display,
        )
        self._snap_key = key
        return self._snap

    def market(self, symbol: str, timeframe: str) -> MarketSnapshot:
        """One symbol's candles, book, tape and ticker: an attached client's own view."""
        return self.state.snapshot(symbol, timeframe)

    async def watch_views(self, keys: set[tuple[str, str]]) -> None:
        """Watch exactly these (symbol, timeframe) keys for attached clients, besides the
        default view and what strategies and the desk need."""
        self._view_keys = frozenset(keys)
        if self._feed is not None:
            history = self.strategies.history_bars() if self.strategies is not None else 0
            await self._feed.watch_candles(self._candle_keys(), history_bars=history)
            await self._sync_markets()

    def publish(self, event: Event) -> None:
        """Tell every listener (the screens, the socket's clients) about ``event``."""
        self._publish(event)

    async def ask(self, kind: str, args: dict[str, Any] | None = None) -> Any:
        """A request (``tradeterm.service.requests``), answered in-process: the same plain
        answer an attached screen receives, or ``RequestFailed`` with the reason."""
        if self.answerer is None:
            raise RequestFailed("this engine answers no requests (it is not served)")
        return await self.answerer(kind, args or {})

    def listed_symbols(self) -> tuple[str, ...]:
        """Every symbol the venue lists (the watchlist's until its markets are loaded)."""
        exchange = self._exchange
        return tuple(sorted(exchange.markets)) if exchange is not None else self._symbols

    async def venue_ticker_rows(self) -> tuple[VenueTicker, ...]:
        """Every market's 24 h ticker (``exchange/venue_tickers.py``: fetched at most every
        15 s, only when asked); ``TickersUnavailable`` with the reason when not connected."""
        exchange = self._exchange
        if exchange is None or self._phase is not EnginePhase.RUNNING:
            raise TickersUnavailable(f"not connected to {self._exchange_id}")
        return await self.venue_tickers.get(exchange)

    def preview(self, draft: TicketDraft) -> OrderPreview:
        """What ``PlaceOrder`` would do with the order ticket's ``draft``; changes nothing."""
        if self._phase is not EnginePhase.RUNNING:
            why = self._error or self._phase.value
            return OrderPreview(None, False, f"not connected to {self._exchange_id}: {why}")
        return self.desk.preview(draft)

    async def run(self) -> None:
        """Run until a :class:`Shutdown` command (or cancellation); then clean up everything.
        The journal opens (and the account is restored) first (after a replay's market, whose
        clock stamps it)."""
        if self._replaying:
            await self._start_replay()
        await self.desk.start()
        for service in self.services:  # after the journal lock: this engine owns the journal
            try:
                await service.start()
            except Exception as exc:  # the engine trades on without it; the log says why
                log.error("%s did not start: %s", type(service).__name__, one_line(exc))
        commands = asyncio.create_task(self._process_commands(), name="engine:commands")
        sessions = asyncio.create_task(self._sessions(), name="engine:sessions")
        strategies = asyncio.create_task(self._run_strategies(), name="engine:strategies")
        replay = asyncio.create_task(self.replay.watch(), name="engine:replay")
        retrain = (asyncio.create_task(self.retrainer.run(), name="engine:retrain"),) \
            if self.retrainer is not None else ()
        try:
            await self._shutdown.wait()
        finally:
            sync = (self._market_sync,) if self._market_sync is not None else ()
            tasks = (commands, sessions, strategies, replay, *retrain, *self._evaluations, *sync)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for service in reversed(self.services):
                with contextlib.suppress(Exception):
                    await service.close()
            await asyncio.shield(self._teardown())
            self._set_phase(EnginePhase.STOPPED)

    # -- internals ------------------------------------------------------------------------------

    def _replay_clock(self) -> int:
        """The replay sandbox's clock (held at the print being replayed); 0 before it starts."""
        sim = self._sim
        return int(sim.now_ms()) if getattr(sim, "in_loop", False) else 0

    async def _start_replay(self) -> None:
        """The replay sandbox's market, on this loop, paced by this engine (docs/replay.md)."""
        try:
            module = await asyncio.to_thread(importlib.import_module, "tradeterm.sim.sandbox")
            self._sim = await module.ReplaySandbox.start(self.settings, engine_gate(self))
        except Exception as exc:  # the CLI checked the files; this is a bug or a lost file
            log.exception("the replay could not start")
            self._set_phase(EnginePhase.UNREACHABLE, f"replay: {one_line(exc)}")

    @property
    def _exchange_id(self) -> str:
        return SIM_EXCHANGE if self._demo else self.settings.exchange

    def _changed(self) -> None:
        self._version += 1

    def _set_markets(self, markets: Mapping[str, MarketPrecision]) -> None:
        """The markets' display precision; a new snapshot (the cache key moves) shows it."""
        self._markets = MappingProxyType(dict(markets))
        self._changed()

    def _set_phase(self, phase: EnginePhase, error: str | None = None) -> None:
        self._phase, self._error = phase, error
        self._changed()

    def _publish(self, event: Event) -> None:
        for callback in list(self._listeners):
            try:
                callback(event)
            except Exception:  # a broken listener must not break the engine
                log.exception("event listener %r failed on %r", callback, event)

    def _ignore(self, command: Command, reason: str) -> None:
        log.info("ignored %r: %s", command, reason)
        self._publish(CommandIgnored(self._clock(), command=repr(command), reason=reason))

    async def _fetch_closed(self, symbol: str, timeframe: str, bars: int) -> Any:
        """Up to ``bars`` of the newest closed candles over this engine's exchange connection
        (a retrain's training data: the market the strategies trade, the demo's included)."""
        exchange = self._exchange
        if exchange is None or self._phase is not EnginePhase.RUNNING:
            raise RuntimeError(f"not connected to {self._exchange_id}")
        from tradeterm.backtest.data.rest import fetch_closed_bars

        step = TIMEFRAME_MS[timeframe]
        newest = await exchange.fetch_ohlcv(symbol, timeframe, limit=1)
        forming = int(newest[-1][0]) if newest else self._clock() // step * step
        return await fetch_closed_bars(exchange, symbol, timeframe, forming - bars * step,
                                       forming, forming, step)

    # -- strategies -----------------------------------------------------------------------------

    async def _run_strategies(self) -> None:
        """Import and load the strategies (in a thread), then reload changed files forever."""
        try:
            module = await asyncio.to_thread(importlib.import_module, "tradeterm.strategy.engine")
            strategies = module.StrategyEngine(
                self.settings.strategies, self._strategy_event, self._clock
            )
            self._strategy_workers = strategies  # its worker processes die with the engine
            await strategies.load()
        except Exception:  # no strategies is a degraded engine, not a dead one
            log.exception("loading the strategies failed")
            return
        self.strategies = strategies
        await self._sync_strategy_streams()
        while True:
            await asyncio.sleep(self._strategy_poll_s)
            try:
                if await strategies.reload_changed():
                    await self._sync_strategy_streams()
            except Exception:
                log.exception("reloading the strategies failed")

    def _strategy_event(self, event: Event) -> None:
        """Strategy events reach the listeners; signals also go to the desk (to trade)."""
        self._publish(event)
        if isinstance(event, SignalEmitted):
            self.desk.on_signal(event)

    def _market_symbols(self) -> set[str]:
        """Symbols whose book and trades the paper broker needs: those with orders or
        positions and those enabled strategies trade (the chart's is always watched)."""
        markets = self._exchange.markets if self._exchange is not None else {}
        wanted = set(self.desk.symbols_in_use()) | {s for s, _ in self._candle_keys()}
        wanted |= {s for s, _ in self._view_keys}
        return {s for s in wanted if s in markets}

    async def _sync_markets(self) -> None:
        if self._feed is not None:
            await self._feed.watch_markets(self._market_symbols())

    def _markets_changed(self) -> None:
        """The desk opened or closed a position or order on a new symbol: follow its market."""
        if self._market_sync is None or self._market_sync.done():
            self._market_sync = asyncio.create_task(self._sync_markets(), name="engine:markets")
        else:  # one in flight: run again after it, with the newest set
            previous = self._market_sync

            async def again() -> None:
                with contextlib.suppress(Exception):
                    await previous
                await self._sync_markets()

            self._market_sync = asyncio.create_task(again(), name="engine:markets")

    def _candle_keys(self) -> set[tuple[str, str]]:
        """The (symbol, timeframe) candles enabled strategies and attached clients need, on
        symbols the exchange lists."""
        keys = set(self._view_keys)
        if self.strategies is not None:
            keys |= set(self.strategies.wanted_streams(self._symbol))
        markets = self._exchange.markets if self._exchange is not None else {}
        return {k for k in keys if k[0] in markets}

    async def _sync_strategy_streams(self) -> None:
        if self._feed is not None and self.strategies is not None:
            await self._feed.watch_candles(
                self._candle_keys(), history_bars=self.strategies.history_bars()
            )
            await self._sync_markets()

    def _on_bar_closed(self, symbol: str, timeframe: str, closed: tuple[Candle, ...]) -> None:
        """Market state saw a bar close: evaluate the strategies that want it, off the loop."""
        strategies = self.strategies
        if strategies is None or not strategies.targets(symbol, timeframe):
            return
        task = asyncio.create_task(
            strategies.on_bar_closed(symbol, timeframe, closed),
            name=f"engine:evaluate:{symbol}:{timeframe}",
        )
        self._evaluations.add(task)
        task.add_done_callback(self._evaluation_done)

    @property
    def evaluating(self) -> bool:
        """A bar close is being evaluated (its signals not yet handed to the desk): a lockstep
        replay waits for this to clear before the market moves on."""
        return bool(self._evaluations)

    def _evaluation_done(self, task: asyncio.Task[Any]) -> None:
        self._evaluations.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("strategy evaluation failed", exc_info=task.exception())

    async def _sessions(self) -> None:
        """Connect, run until told to switch, reconnect; retry an unreachable exchange."""
        while True:
            self._wake.clear()
            try:
                connected = await self._connect()
                if connected:
                    await self._wake.wait()
                    await self._disconnect()
            except Exception as exc:  # a bug here must not leave the engine silently dead
                log.exception("engine session failed")
                self._set_phase(EnginePhase.UNREACHABLE, f"internal error: {one_line(exc)}")
                connected = False
            if not connected:
                # A refused venue stays refused (its precision mode is fixed): wait for a switch.
                retry = None if self._phase is EnginePhase.REFUSED else self._retry_s
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), retry)

    async def _target_url(self) -> str | None:
        """Where to connect: our own simulator, the given ``sim_base_url``, or the real exchange."""
        if self._demo and (self._own_sim_wanted or self._sim_base_url is None):
            if self._sim is None and self._replaying:  # never a market without the sandbox
                raise RuntimeError("the replay could not start (see the log)")
            if self._sim is None:
                self._sim = await asyncio.to_thread(_start_own_sim, self.settings)
            return str(self._sim.base_url)
        return self._sim_base_url

    async def _connect(self) -> bool:
        self._set_phase(EnginePhase.CONNECTING)
        exchange_id = self._exchange_id
        exchange = None
        try:
            await asyncio.to_thread(import_ccxt_pro, exchange_id)
            exchange = create_exchange(exchange_id, sim_base_url=await self._target_url())
            await asyncio.wait_for(exchange.load_markets(), self._connect_timeout_s)
        except Exception as exc:
            if isinstance(exc, TimeoutError):
                reason = f"no answer within {self._connect_timeout_s:.0f} s"
            else:
                reason = with_cause(exc)
            reason = f"cannot reach {exchange_id}: {reason}"
            log.warning("%s", reason)
            if exchange is not None:
                with contextlib.suppress(Exception):
                    await exchange.close()
            self._set_phase(EnginePhase.UNREACHABLE, reason)
            self._publish(ExchangeUnreachable(self._clock(), exchange=exchange_id, reason=reason))
            return False
        if refusal := check_precision_mode(exchange_id, getattr(exchange, "precisionMode", None)):
            log.error("%s", refusal)  # never traded on a misread grid; not retried either
            with contextlib.suppress(Exception):
                await exchange.close()
            self._set_phase(EnginePhase.REFUSED, refusal)
            self._publish(VenueRefused(self._clock(), exchange=exchange_id, reason=refusal))
            return False
        self._exchange = exchange
        listed = tuple(s for s in self._watchlist if s in exchange.markets)
        missing = tuple(s for s in self._watchlist if s not in exchange.markets)
        error = None
        if missing:
            error = f"{exchange_id} does not list {', '.join(missing)} (left out)"
            log.warning("%s", error)
            self._publish(SymbolsUnavailable(self._clock(), exchange=exchange_id, symbols=missing))
        self._symbols = listed
        if self._symbol not in exchange.markets and listed:
            self._symbol = listed[0]
        self.desk.attach_markets(exchange.markets)
        self._set_markets(markets_precision(exchange.markets))
        self._feed = Feed(
            exchange, self.state, self.health, self.settings.feed, self._publish, self._clock,
            on_book=self.desk.on_book, on_trades=self.desk.on_trades,
        )
        self._set_phase(EnginePhase.RUNNING, error)
        self._publish(EngineReady(self._clock(), exchange=exchange_id, symbols=listed))
        if self._symbol in exchange.markets:
            await self._feed.watch_symbol(self._symbol, self._timeframe, self._candle_keys())
        else:
            await self._sync_strategy_streams()
        await self._sync_markets()
        self._feed.watch_tickers(list(listed))
        self.sparklines.start(exchange, listed)
        return True

    async def _disconnect(self) -> None:
        await self.sparklines.stop()
        feed, self._feed = self._feed, None
        exchange, self._exchange = self._exchange, None
        if feed is not None:
            await feed.close()  # cancels the streams, then closes the client
        elif exchange is not None:
            with contextlib.suppress(Exception):
                await exchange.close()

    async def _teardown(self) -> None:
        workers, self._strategy_workers = self._strategy_workers, None
        if workers is not None:  # first: a strategy stuck in a loop is killed, not waited for
            await workers.close()
        await self._disconnect()
        await self.desk.close()
        sim, self._sim = self._sim, None
        if getattr(sim, "in_loop", False):  # the replay sandbox
            await sim.aclose()
        elif sim is not None:
            await asyncio.to_thread(sim.stop)

    async def _process_commands(self) -> None:
        while True:
            command = await self._inbox.get()
            try:
                await self._handle(command)
            except Exception:  # a command must never take the engine down
                log.exception("command %r failed", command)

    async def _handle(self, command: Command) -> None:
        if isinstance(command, Shutdown):
            self._shutdown.set()
        elif isinstance(command, SwitchToDemo):
            if self._demo and self._phase is EnginePhase.RUNNING:
                self._ignore(command, "already on the simulated market")
                return
            self._demo = self._own_sim_wanted = True
            self._changed()
            self._wake.set()
        elif isinstance(command, SwitchSymbol):
            await self._switch_symbol(command)
        elif isinstance(command, SwitchTimeframe):
            await self._switch_timeframe(command)
        elif isinstance(command, StartStrategy | StopStrategy):
            await self._toggle_strategy(command)
        elif isinstance(command, AddToWatchlist):
            await self._add_to_watchlist(command)
        elif isinstance(command, ReplayControl):
            await self.replay.handle(command)
        elif isinstance(command, _TRADING):
            if (reason := self.desk.handle(command)) is not None:
                self._ignore(command, reason)
        else:
            self._ignore(command, f"unknown command {type(command).__name__}")

    async def _toggle_strategy(self, command: StartStrategy | StopStrategy) -> None:
        strategies = self.strategies
        if strategies is None:
            self._ignore(command, "strategies are not loaded yet")
            return
        if command.name not in {h.name for h in strategies.health()}:
            self._ignore(command, f"no strategy named {command.name!r}")
            return
        if isinstance(command, StartStrategy):
            await strategies.enable(command.name)  # a refusal publishes StrategyFailed
        else:
            strategies.disable(command.name)
        await self._sync_strategy_streams()

    async def _switch_symbol(self, command: SwitchSymbol) -> None:
        symbol = command.symbol
        known = self._exchange.markets if self._exchange is not None else self._symbols
        if symbol not in known:
            self._ignore(command, f"{self._exchange_id} does not list {symbol}")
            return
        if symbol == self._symbol:
            return
        self._symbol = symbol
        self._changed()  # the snapshot shows the new symbol (with what is cached) at once
        if self._feed is not None:
            await self._feed.watch_symbol(symbol, self._timeframe, self._candle_keys())
            await self._sync_markets()  # the old chart symbol keeps its market only if held

    async def _add_to_watchlist(self, command: AddToWatchlist) -> None:
        """A listed symbol joins the watchlist (tickers, sparklines, every screen's view), and
        the config file the engine started with records it (only its ``symbols`` key; the
        watchlist changes for the session even when the file cannot)."""
        symbol = command.symbol
        exchange = self._exchange
        if exchange is None or symbol not in exchange.markets:
            self._ignore(command, f"{self._exchange_id} does not list {symbol}")
            return
        if symbol in self._symbols:
            self._ignore(command, f"{symbol} is already in the watchlist")
            return
        self._watchlist.append(symbol)
        self._symbols = (*self._symbols, symbol)
        self._changed()
        if self._feed is not None:
            await self._feed.set_tickers(list(self._symbols))
        self.sparklines.start(exchange, self._symbols)
        path = self.settings.config_file
        saved, problem = None, None
        if path is None:
            problem = "no config file (defaults and environment only): for this session only"
        else:
            default = Settings.model_fields["symbols"].get_default(call_default_factory=True)
            try:
                await asyncio.to_thread(add_symbol, path, symbol, default)
                saved = str(path.absolute())  # ./config.toml: say which one
            except ConfigEditError as exc:
                problem = f"{exc}: for this session only"
        log.info("watchlist + %s (%s)", symbol, saved or problem)
        self._publish(WatchlistChanged(self._clock(), symbol=symbol, symbols=self._symbols,
                                       saved=saved, problem=problem))

    async def _switch_timeframe(self, command: SwitchTimeframe) -> None:
        timeframe = command.timeframe
        offered = getattr(self._exchange, "timeframes", None) or TIMEFRAME_MS
        if timeframe not in TIMEFRAME_MS or timeframe not in offered:
            self._ignore(command, f"unknown timeframe {timeframe}")
            return
        if timeframe == self._timeframe:
            return
        self._timeframe = timeframe
        self._changed()
        if self._feed is not None:
            await self._feed.watch_timeframe(timeframe, self._candle_keys())
