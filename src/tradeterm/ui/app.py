"""The Textual application: the first screen of the workstation.

How it talks to the engine (attributes down, messages up):

* a timer at ``settings.ui.fps`` samples ``engine.snapshot()``; an unchanged ``seq`` means no
  redraw at all, otherwise each widget gets its slice and repaints only if that slice changed.
  Nothing is ever redrawn per exchange message;
* discrete engine events arrive through ``add_listener`` and become notifications;
* keys become commands (``engine.submit``); the app never mutates engine state.

The engine (and with it ccxt) is imported and started only after the first frame is on screen,
as a Textual worker whose failure is shown, never swallowed (``on_worker_state_changed``).

Small terminals (under 100 columns or 32 rows, e.g. 80x24) fold the panels: the chart stays, a
one-line tab bar picks the one panel shown beside or below it (``tab`` / ``shift+tab``, a click,
or "Panel: ..." in the palette). The panels are the same widgets, shown and hidden by the
screen classes ``-compact`` and ``-panel-<name>`` (see ``app.tcss`` and ``docs/layout.md``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import re
import threading
import time
from decimal import Decimal
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.notifications import Notification, Notify, SeverityLevel
from textual.screen import Screen
from textual.widgets import Static, Tab, Tabs
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from tradeterm.config import Settings
from tradeterm.core.commands import (
    CancelOrder,
    ClosePosition,
    Command,
    FlattenAll,
    KillSwitch,
    PlaceOrder,
    ReplayControl,
    ResumeTrading,
    Shutdown,
    SwitchSymbol,
    SwitchTimeframe,
    SwitchToDemo,
)
from tradeterm.core.display import MarketFormat, quote_of
from tradeterm.core.events import (
    BacktestFinished,
    BacktestProgressed,
    BookResynced,
    CommandIgnored,
    EngineReady,
    Event,
    ExchangeUnreachable,
    FeedMessageSkipped,
    FeedStatusChanged,
    OptimizeFinished,
    OptimizeProgressed,
    ModelRetrained,
    ModelRetrainStarted,
    OrderDenied,
    OrderFilled,
    OrderUpdated,
    PositionClosed,
    ReplayFinished,
    SignalEmitted,
    StrategyFailed,
    SymbolsUnavailable,
    TradingStateChanged,
    VenueRefused,
    WatchlistChanged,
)
from tradeterm.core.models import (
    EnginePhase,
    EngineSnapshot,
    FeedStatus,
    Side,
    timeframe_ms,
)
from tradeterm.core.notices import describe_closed, describe_denial, describe_fill, describe_signal
from tradeterm.core.preview import OrderPreview, TicketDraft
from tradeterm.core.trading import Order, OrderRequest, OrderType
from tradeterm.ui.fmt import market_format
from tradeterm.ui.footer import FittedFooter
from tradeterm.ui.keys import KEYS
from tradeterm.ui.notices import KINDS, Coalescer, Notice, NoticeLog
from tradeterm.ui.keys import TIMEFRAME_KEYS as TIMEFRAME_KEYS  # re-exported: keys 1-6
from tradeterm.ui.palette import PANELS, TradetermCommands
from tradeterm.ui.panes import PaneCommand, PaneController
from tradeterm.ui.screens.backtest import BacktestScreen
from tradeterm.ui.screens.bracket_leg import BracketLegScreen, LegChoice
from tradeterm.ui.screens.confirm import ConfirmScreen
from tradeterm.ui.screens.help import HelpScreen, binding_rows, screen_bindings
from tradeterm.ui.screens.history import HistoryScreen
from tradeterm.ui.screens.notices import NotificationLogScreen
from tradeterm.ui.screens.scanner import ScannerScreen
from tradeterm.ui.screens.strategies import StrategiesScreen
from tradeterm.ui.screens.ticket import OrderTicket
from tradeterm.ui.compositor_crop import install as install_compositor_crop
from tradeterm.ui.strip_cycles import install as install_strip_cycle_fix
from tradeterm.ui.themes import DEFAULT_THEME, load_themes, trading_colors
from tradeterm.ui.widgets.account import AccountPanel
from tradeterm.ui.widgets.book import OrderBookLadder
from tradeterm.ui.widgets.chart import CandleChart
from tradeterm.ui.widgets.indicator_pane import IndicatorPane
from tradeterm.ui.widgets.orders import OrdersTable
from tradeterm.ui.widgets.positions import PositionsTable
from tradeterm.ui.widgets.signals import SignalsPanel
from tradeterm.ui.widgets.status import StatusBar
from tradeterm.ui.widgets.tape import TradesTape
from tradeterm.ui.widgets.watchlist import Watchlist

if TYPE_CHECKING:
    from textual.theme import Theme

log = logging.getLogger(__name__)
install_strip_cycle_fix()  # drawn lines freed by refcount, not left to the cycle collector
install_compositor_crop()  # a partial update draws only the widgets and rows it updates

SHUTDOWN_WAIT_S = 3.0  # how long "quit" waits for the engine to close its connections
# STOPPED is not "lost": streams stop on purpose when the symbol or timeframe changes.
_LOST = (FeedStatus.RECONNECTING, FeedStatus.STALE)
_SKIP_NOTICE_EVERY_MS = 10_000  # one "message skipped" notice per stream and reason at most
# The footer shows each group as one hint: "123456 Timeframe", "[] Symbol".
_GROUPS = {name: Binding.Group(name, compact=True) for name in ("Timeframe", "Symbol")}
# Below either size the panels fold into tabs (the breakpoints of app.tcss).
COMPACT_BELOW = (100, 32)
BIG_FROM = 200  # columns from which the layout grows (screen class -big, app.tcss)
# When the start-up heap (Textual, ccxt, polars, the first snapshot) is moved out of the
# garbage collector's reach: after the first snapshot, after the indicator imports
# (warm_indicators) and again once the late imports (strategies) are in.
# A full collection then scans only what the session made since, not the ~10^6 start-up
# objects (a 100+ ms pause in a frame otherwise: benchmarks/render.py).
HEAP_FREEZE_AGAIN_S = 15.0
# Allocations between two young-generation collections once the session runs (Python's default
# is 700). A frame's lines live until the next frame replaces them and are then freed by
# reference counting (tradeterm.ui.strip_cycles); collected every 700 allocations they were
# scanned and promoted mid-frame instead (a young collection in 1 frame of 3, older ones after):
# at 5000, 5 frames in 700 of benchmarks/render.py at 240x70 meet a collection instead of ~180,
# and the collections of a run take a quarter of the time.
YOUNG_GC_THRESHOLD = 5000
DEFAULT_PANEL = "book"  # the tab shown first on a small terminal: chart and order book
SUMMARY_EVERY_S = 0.25  # a burst's summary toast is rebuilt at most this often


class EngineLike(Protocol):
    """What the UI needs of :class:`tradeterm.engine.Engine` (tests pass a fake)."""

    async def run(self) -> None: ...
    def snapshot(self) -> EngineSnapshot: ...
    def submit(self, command: Command) -> None: ...
    def add_listener(self, callback: Callable[[Event], None]) -> None: ...
    def preview(self, draft: TicketDraft) -> OrderPreview: ...
    async def ask(self, kind: str, args: dict[str, Any] | None = None) -> Any:
        """A request the engine answers (``tradeterm.service.requests``: the journal's pages,
        the backtests); a plain answer, or ``RequestFailed`` with the engine's reason."""


class EngineEventReceived(Message):
    """An engine event, carried onto the app's message queue."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class PanelTabs(Tabs, can_focus=False):
    """The tab bar of small terminals: ``tab``/``shift+tab`` and clicks pick the panel shown;
    it never takes the focus away from the panel's own keys."""


class TradetermApp(App[None]):
    """Status bar, candle chart, order book, trades tape and key hints."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "tradeterm"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    BINDINGS = [
        Binding(k.key, k.action, k.description, show=k.show, key_display=k.key_display,
                priority=k.priority, id=k.id, group=_GROUPS.get(k.group or ""))
        for k in KEYS
    ]
    COMMANDS = App.COMMANDS | {TradetermCommands}

    def __init__(
        self,
        settings: Settings,
        engine: EngineLike | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``clock`` gives wall time in seconds, for the status bar and order ages (snapshot
        tests freeze it)."""
        super().__init__()
        self.settings = settings
        self.engine: EngineLike | None = engine
        self.clock = clock
        self.compact = False  # panels folded into tabs (small terminal)
        self.panel = DEFAULT_PANEL
        self._clashes_noticed: set[frozenset[str]] = set()
        self._theme_names: list[str] = []  # ours (themes/), set at mount
        self.market_colors = trading_colors(load_themes()[0][DEFAULT_THEME])
        self._engine_worker: Worker[None] | None = None
        self._engine_error: str | None = None
        self._quitting = False
        self.crashed = False  # an exception reached Textual: exit status 1 whatever follows
        self._seq: int | None = None
        self._snap: EngineSnapshot | None = None  # the last one drawn
        self._gc_threshold: tuple[int, ...] | None = None  # the collector's, before the session
        self._depth_pending = False  # the book and tape have not been given it yet
        self._depth_due = 0.0  # monotonic time from which they may redraw
        self._phase: EnginePhase | None = None
        self._feed_status: dict[tuple[str, str], FeedStatus] = {}
        self._skip_noticed: dict[tuple[str, str], int] = {}
        self.notices = NoticeLog()  # every notice, for the log screen (N)
        self._coalescer = Coalescer()
        self._burst_toasts: dict[str, Notification] = {}  # kind -> its toast on screen
        self._summary_due: set[str] = set()  # kinds whose summary toast is being rebuilt

    # -- a crash: shown, logged with its traceback, exit status 1 ------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """Any exception the UI does not handle ends the app (Textual's rule, kept: a screen in
        an unknown state must not go on trading) with exit status 1. The traceback goes to the
        log file; the terminal gets one line saying what failed and where the traceback is
        (Textual's own traceback would print local variables, settings included)."""
        log.critical("the screen failed", exc_info=error)
        self.crashed = True
        super()._handle_exception(error)  # return code 1, stop the app
        where = crash_log_path()
        self._exit_renderables[:] = [Text(
            f"tradeterm: the screen failed: {type(error).__name__}: {error}"
            + (f" (traceback in {where})" if where else ""), style="bold red")]

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield PanelTabs(*(Tab(name.capitalize(), id=f"tab-{name}") for name in PANELS),
                        active=f"tab-{DEFAULT_PANEL}", id="tabs")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield CandleChart(id="chart")
                yield IndicatorPane(id="indicator")
                yield IndicatorPane(id="indicator2", mode="macd")
                yield Static(id="unreachable")
                with Horizontal(id="lower"), Vertical(id="trading"):
                    yield PositionsTable(id="positions", clock=self.clock_ms)
                    yield OrdersTable(id="orders", clock=self.clock_ms)
            with Vertical(id="side"):
                yield Watchlist(id="watchlist")
                yield OrderBookLadder(id="book")
                yield TradesTape(id="tape")
                # In the side column, so positions and orders get the main column's full width
                # for all their columns (docs/layout.md).
                with Vertical(id="info"):
                    yield AccountPanel(id="account")
                    yield SignalsPanel(id="signals")
        yield FittedFooter()  # the hints that fit, each whole (ui/footer.py)

    def on_mount(self) -> None:
        # Held here: once a modal screen is pushed, query_one() searches that screen instead.
        self._status = self.query_one(StatusBar)
        self._chart = self.query_one(CandleChart)
        self._unreachable = self.query_one("#unreachable", Static)
        self._book = self.query_one(OrderBookLadder)
        self._tape = self.query_one(TradesTape)
        self._indicator = self.query_one("#indicator", IndicatorPane)
        self._panes = PaneController(
            self, self._indicator, self.query_one("#indicator2", IndicatorPane),
            self.settings.data_dir, lambda on: self.main_screen.set_class(on, "-pane2"))
        if self._panes.problem:
            self.notify(self._panes.problem, title="Indicator panes", severity="warning",
                        timeout=10)
        self._watchlist = self.query_one(Watchlist)
        self._positions = self.query_one(PositionsTable)
        self._orders = self.query_one(OrdersTable)
        self._account = self.query_one(AccountPanel)
        self._signals = self.query_one(SignalsPanel)
        self._tabs = self.query_one(PanelTabs)
        self.set_keymap(self.settings.keymap)
        self._check_keymap()
        self._apply_themes()
        self._set_compact(self.size.width, self.size.height)
        self.show_panel(self.panel)
        self._unreachable.display = False
        self.set_interval(1 / self.settings.ui.fps, self._redraw, name="redraw")
        # The book and tape on their own ticks, half a period after the others': a frame then
        # draws the chart or the depth panels, rarely both (docs/layout.md, render budget).
        self.set_timer(0.5 / self.settings.ui.fps, self._start_depth_ticks)
        self._redraw()
        self.set_timer(HEAP_FREEZE_AGAIN_S, gc.freeze)
        # After the first frame: the engine import (ccxt) must not delay it.
        self.call_after_refresh(self._start_engine)

    def on_unmount(self) -> None:
        gc.unfreeze()  # what the session froze may be collected again (tests run many apps)
        if self._gc_threshold is not None:
            gc.set_threshold(*self._gc_threshold)

    def _apply_themes(self) -> None:
        themes, errors = load_themes()
        for theme in themes.values():
            self.register_theme(theme)
        self._theme_names = sorted(themes)
        for error in errors:
            self.notify(error, title="Theme file skipped", severity="warning", timeout=10)
        name = self.settings.theme
        if name not in themes:
            self.notify(
                f"theme {name!r} not found; using {DEFAULT_THEME}",
                title="Theme",
                severity="warning",
                timeout=10,
            )
            name = DEFAULT_THEME
        self.theme = name

    def watch_theme(self, theme_name: str) -> None:
        theme: Theme | None = self.get_theme(theme_name)
        if theme is not None:
            self.market_colors = trading_colors(theme)
            self._seq = None  # repaint everything with the new colours

    def clock_ms(self) -> int:
        """Wall time in ms from the injected clock (status bar, order ages)."""
        return int(self.clock() * 1000)

    def theme_names(self) -> list[str]:
        """The themes from ``themes/`` (and the built-in default), not Textual's own."""
        return list(self._theme_names)

    def set_theme(self, name: str) -> None:
        """Switch to theme ``name`` now (palette "Theme: NAME", ``T``)."""
        self.theme = name
        self.notify(f"Theme {name}", timeout=2)

    # -- small terminals: panels as tabs ----------------------------------------------------

    @property
    def main_screen(self) -> Screen:
        """The workstation screen (modal screens stack on top of it)."""
        return self.screen_stack[0]

    def on_resize(self, event: events.Resize) -> None:
        self._set_compact(event.size.width, event.size.height)

    def _set_compact(self, width: int, height: int) -> None:
        compact = width < COMPACT_BELOW[0] or height < COMPACT_BELOW[1]
        if compact != self.compact:
            self.compact = compact
            self.main_screen.set_class(compact, "-compact")
        # A big screen grows the layout (positions and orders side by side, more book levels).
        self.main_screen.set_class(not compact and width >= BIG_FROM, "-big")

    def show_panel(self, name: str) -> None:
        """Make panel ``name`` the one shown on a small terminal, and focus it if it takes keys
        (so ``x`` and ``c`` act on the orders and positions it lists)."""
        self.panel = name
        for other in PANELS:
            self.main_screen.set_class(other == name, f"-panel-{other}")
        if self._tabs.active != f"tab-{name}":
            self._tabs.active = f"tab-{name}"
        widget = self.main_screen.query_one(f"#{name}")
        if widget.can_focus:
            self.call_after_refresh(widget.focus)

    @on(Tabs.TabActivated, "#tabs")
    def _tab_clicked(self, event: Tabs.TabActivated) -> None:
        if event.tab.id != self._tabs.active:
            # Stale: show_panel set the tab bar again since (quick tabs). Taken for a click,
            # it brought its panel back, whose own stale message then did the same: the
            # panels, the focus and the footer flipped between two tabs forever.
            return
        name = (event.tab.id or "").removeprefix("tab-")
        if name in PANELS and name != self.panel:
            self.show_panel(name)

    def action_next_panel(self, step: int) -> None:
        """Small terminals: show the next (or previous) panel of the tab bar."""
        index = PANELS.index(self.panel) if self.panel in PANELS else 0
        self.show_panel(PANELS[(index + step) % len(PANELS)])

    # -- engine -----------------------------------------------------------------------------

    def _start_engine(self) -> None:
        if self.engine is None:
            try:
                # lazily: pulls in the feed machinery. Served: other screens may attach.
                from tradeterm.service.hosted import served_engine

                self.engine = served_engine(self.settings)
            except Exception as exc:  # shown to the user, never a traceback
                self._fail(f"engine could not start: {type(exc).__name__}: {exc}")
                return
        self.engine.add_listener(self._on_engine_event)
        self._engine_worker = self.run_worker(
            self.engine.run(), name="engine", group="engine", exit_on_error=False
        )
        # The chart's overlays and the indicator pane import polars and TA-Lib with their first
        # candles (~0.5 s). An attached screen has candles milliseconds after connecting, so
        # that import would stand between attaching and the first frame with data: it starts
        # now, in a thread, while the connection is made.
        threading.Thread(target=warm_indicators, name="warm-indicators", daemon=True).start()

    def _fail(self, message: str) -> None:
        self._engine_error = message
        self.notify(message, title="Engine", severity="error", timeout=30)
        self._redraw()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures surface: notification plus the status bar."""
        worker = event.worker
        if event.state is WorkerState.ERROR:
            error = worker.error
            self._fail(f"{worker.name} failed: {type(error).__name__}: {error}")
        elif event.state is WorkerState.SUCCESS and worker.group == "engine" and not self._quitting:
            self._fail(getattr(self.engine, "closed_reason", None) or "engine stopped")

    def _on_engine_event(self, event: Event) -> None:
        """Listener called by the engine on the asyncio loop: hand over to the message queue."""
        self.post_message(EngineEventReceived(event))

    @on(EngineEventReceived)
    def _show_engine_event(self, message: EngineEventReceived) -> None:
        event = message.event
        if isinstance(event, BacktestProgressed | BacktestFinished | OptimizeProgressed
                      | OptimizeFinished):  # whoever started it
            for screen in self.screen_stack:
                if isinstance(screen, BacktestScreen):
                    screen.engine_event(event)
            return
        match event:
            case FeedStatusChanged(stream=stream, symbol=symbol, status=status, reason=reason):
                key = (stream, symbol)
                if status is FeedStatus.STOPPED:
                    self._feed_status.pop(key, None)
                    return
                before = self._feed_status.get(key)
                self._feed_status[key] = status
                why = f": {reason}" if reason else ""
                if status in _LOST and before not in _LOST:
                    self.notify(f"{symbol} {stream} feed lost{why}", severity="warning")
                elif status is FeedStatus.CONNECTED and before in _LOST:
                    self.notify(f"{symbol} {stream} feed restored")
            case BookResynced(symbol=symbol, reason=reason):
                self.notify(f"{symbol} order book resynced: {reason}", severity="warning")
            case FeedMessageSkipped(stream=stream, symbol=symbol, reason=reason):
                key = (f"{stream} {symbol}", reason)
                if event.timestamp - self._skip_noticed.get(key, -_SKIP_NOTICE_EVERY_MS) >= (
                    _SKIP_NOTICE_EVERY_MS
                ):
                    self._skip_noticed[key] = event.timestamp
                    self.notify(f"{symbol} {stream}: skipped a message: {reason}",
                                severity="warning")
            case ExchangeUnreachable(exchange=exchange, reason=reason):
                self.notify(cannot_reach(exchange, reason), severity="error", timeout=10)
            case VenueRefused(reason=reason):
                self.notify(reason, severity="error", timeout=10)
            case EngineReady(exchange=exchange):
                self._engine_error = None
                demo = self.engine is not None and self.engine.snapshot().demo
                where = "the demo market (simulator on 127.0.0.1)" if demo else exchange
                self.notify(f"Connected to {where}", timeout=3)
            case SignalEmitted(signal=signal):
                self.notify(describe_signal(signal, self._market_format(signal.symbol)),
                            title=signal.strategy, timeout=6, kind="signal", symbol=signal.symbol)
            case StrategyFailed(strategy=name, reason=reason):
                self.notify(f"{name} disabled: {reason}", severity="error", timeout=10)
            case CommandIgnored(reason=reason):
                self.notify(reason, severity="warning", timeout=4)
            case SymbolsUnavailable(exchange=exchange, symbols=symbols):
                self.notify(f"{exchange} does not list {', '.join(symbols)}: left out",
                            severity="warning", timeout=8)
            case OrderFilled(fill=fill):
                self.notify(describe_fill(fill, self._market_format(fill.symbol)), timeout=5,
                            kind="fill", symbol=fill.symbol)
            case OrderDenied(reason=reason, request=request):
                self.notify(describe_denial(request, reason, self._market_format(request.symbol)),
                            severity="warning", timeout=8, kind="denial", symbol=request.symbol)
            case TradingStateChanged(state=state, reason=reason):
                severity: SeverityLevel = "error" if state == "halted" else "warning"
                if state == "active":
                    severity = "information"
                self.notify(f"Trading {state.upper()}: {reason}", severity=severity, timeout=10)
            case PositionClosed(trade=trade):
                self.notify(describe_closed(trade, self._market_format(trade.symbol)), timeout=8)
            case OrderUpdated():
                return  # order life cycle: the orders panel shows it; fills are noticed above
            case WatchlistChanged(symbol=symbol, saved=saved, problem=problem):
                if problem is None:
                    self.notify(f"{symbol} added to the watchlist (saved to {saved})", timeout=5)
                else:
                    self.notify(f"{symbol} added to the watchlist; {problem}",
                                severity="warning", timeout=10)
            case ReplayFinished(file=file):
                self.notify(f"Replay of {file} finished: the market stays paused", timeout=10)
            case ModelRetrainStarted(model=model, bars=bars):
                self.notify(f"Retraining model {model} on {bars} bars (in the background)",
                            timeout=4)
            case ModelRetrained(model=model, ok=True, version=version, previous=previous):
                self.notify(f"Model {model} retrained: version {version} (was {previous}); "
                            f"{event.detail}", timeout=8)
            case ModelRetrained(model=model, detail=detail):
                self.notify(f"Model {model} not retrained: {detail}", severity="warning",
                            timeout=10)
            case _:  # events this screen has no special display for yet
                self.notify(describe_event(event), severity="warning")

    # -- notifications: all logged, bursts folded (ui/notices.py) ------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
        kind: str | None = None,
        symbol: str = "",
    ) -> None:
        """Every notice goes to the log (``N``). One of a ``kind`` (fill, denial, signal) that
        arrives in a burst of its kind folds into one summary toast ("12 fills: BTC/USDT"):
        fast replay never covers the screen with toasts."""
        self.notices.add(Notice(self.clock(), severity, title, message))
        if kind is None:
            super().notify(message, title=title, severity=severity, timeout=timeout,
                           markup=markup)
            return
        timeout = self.NOTIFICATION_TIMEOUT if timeout is None else timeout
        burst = self._coalescer.offer(kind, symbol, message, severity, timeout, time.monotonic())
        if burst.count == 1:  # the first of a burst: shown as it is, at once
            self._show_burst(kind, Notification(message, title, severity, timeout,
                                                markup=markup))
        elif kind not in self._summary_due:  # the rest: one summary, rebuilt now and then
            self._summary_due.add(kind)
            self.set_timer(SUMMARY_EVERY_S, partial(self._summarise, kind))

    def _summarise(self, kind: str) -> None:
        self._summary_due.discard(kind)
        burst = self._coalescer.bursts.get(kind)
        if burst is not None and burst.count > 1:
            self._show_burst(kind, Notification(
                burst.summary(), KINDS.get(kind, kind).capitalize(),
                cast(SeverityLevel, burst.severity), burst.timeout, markup=False))

    def _show_burst(self, kind: str, note: Notification) -> None:
        """Show ``note`` in place of the toast this kind's burst showed so far."""
        old = self._burst_toasts.get(kind)
        if old is not None and old in self._notifications:
            self._unnotify(old, refresh=False)  # the Notify below refreshes
        self._burst_toasts[kind] = note
        self.post_message(Notify(note))

    def action_notices(self) -> None:
        """The notification log: every notice, newest first."""
        if not isinstance(self.screen, NotificationLogScreen):
            self.push_screen(NotificationLogScreen(self.notices.newest_first()))

    def _market_format(self, symbol: str) -> MarketFormat:
        """How ``symbol``'s numbers are shown (the engine's tick, step, quote and policy)."""
        snap = self.engine.snapshot() if self.engine is not None else None
        return market_format(snap, symbol) if snap is not None else MarketFormat(
            quote=quote_of(symbol))

    @on(Watchlist.Selected)
    def _watchlist_selected(self, message: Watchlist.Selected) -> None:
        """Enter on a watchlist row: that symbol on the chart."""
        self.submit(SwitchSymbol(message.symbol))

    # -- redraw -----------------------------------------------------------------------------

    def _redraw(self) -> None:
        """Sample the engine; push each widget its part, only when the snapshot moved."""
        snap = self.engine.snapshot() if self.engine is not None else None
        now_ms = self.clock_ms()
        self._status.update_data(
            snap, now_ms, error=self._engine_error, colors=self.market_colors
        )
        if snap is None or snap.seq == self._seq:
            return
        if self._snap is None:
            gc.freeze()  # the first snapshot: start-up is done (see HEAP_FREEZE_AGAIN_S)
            if self._gc_threshold is None:  # and frames begin (see YOUNG_GC_THRESHOLD)
                self._gc_threshold = gc.get_threshold()
                gc.set_threshold(YOUNG_GC_THRESHOLD, *self._gc_threshold[1:])
        self._seq = snap.seq
        self._snap = snap
        unreachable = snap.phase in _NOT_TRADABLE
        if snap.phase is not self._phase:  # `d` is offered only while unreachable
            self._phase = snap.phase
            self.refresh_bindings()
        chart, panel = self._chart, self._unreachable
        chart.display = not unreachable
        panel.display = unreachable
        if unreachable:
            panel.update(unreachable_text(snap))
        market = snap.market
        chart.update_data(
            market.candles,
            symbol=market.symbol,
            timeframe=market.timeframe,
            timeframe_ms=timeframe_ms(market.timeframe),
            message=waiting_message(snap),
            colors=self.market_colors,
            tick=precision.tick if (precision := snap.precision(market.symbol)) else None,
            step=precision.step if precision else None,
        )
        account = snap.account
        chart.update_marks(
            signals=snap.signals,
            fills=snap.fills,
            positions=account.positions if account is not None else (),
            orders=account.orders if account is not None else (),
        )
        colors = self.market_colors
        self._depth_pending = True  # drawn on the depth ticks (_redraw_depth)
        for pane in (self._panes, self._watchlist, self._positions, self._orders,
                     self._account, self._signals):
            pane.update_data(snap, colors)

    def _start_depth_ticks(self) -> None:
        self.set_interval(1 / self.settings.ui.fps, self._redraw_depth, name="redraw-depth")
        self._redraw_depth()

    def _redraw_depth(self) -> None:
        """Book and tape at most ``ui.book_fps`` times a second: they change with nearly every
        message and rewrite most of their rows each time (most of the bytes on the wire)."""
        now = time.monotonic()
        if not self._depth_pending or now < self._depth_due or self._snap is None:
            return
        self._depth_pending = False
        self._depth_due = now + 1 / min(self.settings.ui.book_fps, self.settings.ui.fps)
        market = self._snap.market
        precision = self._snap.precision(market.symbol)
        self._book.update_data(market.book, self.market_colors, precision)
        self._tape.update_data(market.trades, self.market_colors, precision)

    # -- actions ----------------------------------------------------------------------------

    def submit(self, command: Command) -> None:
        """Send ``command`` to the engine (nothing happens before the engine exists)."""
        if self.engine is not None:
            self.engine.submit(command)

    def action_timeframe(self, timeframe: str) -> None:
        """Switch the chart to ``timeframe``."""
        self.submit(SwitchTimeframe(timeframe))

    def action_cycle_symbol(self, step: int) -> None:
        """Move ``step`` places along the engine's watchlist (the snapshot's ``symbols``; the
        settings' only until the engine says), wrapping around."""
        snap = self.engine.snapshot() if self.engine is not None else None
        symbols = list(snap.symbols) if snap is not None and snap.symbols else self.settings.symbols
        current = snap.symbol if snap is not None else symbols[0]
        index = symbols.index(current) if current in symbols else -step
        self.submit(SwitchSymbol(symbols[(index + step) % len(symbols)]))

    def action_ticket(self, side: Side) -> None:
        """Open the order ticket for the chart's symbol; Enter places what it previewed."""
        if self.engine is None or any(isinstance(s, OrderTicket) for s in self.screen_stack):
            return  # one ticket at a time (also while it asks "without a stop?")
        snap = self.engine.snapshot()
        last = snap.market.candles[-1].close if snap.market.candles else None
        ticket = OrderTicket(
            side, snap.symbol, self.engine.preview,
            last_price=Decimal(repr(last)) if last is not None else None,
            confirm_without_stop=self.settings.ui.confirm_order_without_stop,
        )
        ticket.market = market_format(snap, snap.symbol)

        def placed(request: OrderRequest | None) -> None:
            if request is not None:
                self.submit(PlaceOrder(request))

        self.push_screen(ticket, placed)

    def action_cancel_order(self) -> None:
        """Cancel the highlighted working order. One leg of a bracket asks first: both legs,
        or this one only (the other keeps protecting the position), or nothing."""
        order_id = self._orders.selected_order_id()
        if order_id is None:
            self.notify("No working order to cancel", severity="warning", timeout=3)
            return
        snap = self.engine.snapshot() if self.engine is not None else None
        orders = snap.account.orders if snap is not None and snap.account is not None else ()
        order = next((o for o in orders if o.id == order_id), None)
        other = next((o for o in orders if order is not None and order.oco_group is not None
                      and o.oco_group == order.oco_group and o.id != order.id), None)
        if order is None or other is None:
            self.submit(CancelOrder(order_id))
            return

        fmt = self._market_format(order.request.symbol)
        this_leg, other_leg = leg_name(order, fmt), leg_name(other, fmt)

        def answered(choice: LegChoice | None) -> None:
            if choice is not None:
                self.submit(CancelOrder(order_id, keep_other_leg=choice == "this"))
                if choice == "this":
                    self.notify(f"Cancelling the {this_leg}; the {other_leg} stays", timeout=4)

        self.push_screen(BracketLegScreen(this_leg, other_leg, order.request.symbol), answered)

    def action_close_position(self) -> None:
        """Close the highlighted position with a reduce-only market order."""
        symbol = self._positions.selected_symbol()
        if symbol is None:
            self.notify("No open position to close", severity="warning", timeout=3)
            return
        self.submit(ClosePosition(symbol))

    def _confirm(self, title: str, body: str, command: Command, *, danger: bool = False) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.submit(command)

        self.push_screen(ConfirmScreen(title, body, danger=danger), answered)

    def action_flatten(self) -> None:
        """Close every open position (asks first)."""
        snap = self.engine.snapshot() if self.engine is not None else None
        count = len(snap.account.positions) if snap is not None and snap.account else 0
        self._confirm("Flatten all", f"Close all {count} open position(s) at market?",
                      FlattenAll(), danger=True)

    def action_stop_engine(self) -> None:
        """Stop the engine itself (palette only; asks first, saying what stays unwatched). An
        attached screen asks the engine to stop; the in-process engine stops with the screen."""
        snap = self.engine.snapshot() if self.engine is not None else None
        account = snap.account if snap is not None else None
        positions = len(account.positions) if account is not None else 0
        orders = len(account.orders) if account is not None else 0
        ask = getattr(self.engine, "ask", None)
        where = "the engine service" if ask is not None else "the engine (and this screen)"
        body = (f"Stop {where}? {positions} open position(s) and {orders} working order(s): "
                "while it is stopped nothing watches their stops and targets; the journal keeps "
                "them for its next start.")

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            if ask is None:
                self.run_worker(self.action_quit(), group="quit")
            else:
                self.run_worker(self._ask_stop(ask), group="stop-engine", exit_on_error=False)

        self.push_screen(ConfirmScreen("Stop the engine", body, danger=True), answered)

    async def _ask_stop(self, ask: Callable[..., Any]) -> None:
        try:
            status = await ask("stop")
        except Exception as exc:  # refused (read-only) or the engine went away
            self.notify(f"The engine was not stopped: {exc}", severity="error", timeout=8)
            return
        self.notify(f"Engine pid {status.get('pid')} is stopping; q closes this screen",
                    severity="warning", timeout=10)

    def action_kill(self) -> None:
        """Kill switch: halt trading, cancel every order, flatten every position (asks first)."""
        self._confirm(
            "Kill switch",
            "HALT trading, cancel every working order and close every position at market?",
            KillSwitch("kill switch (K)"),
            danger=True,
        )

    def action_resume(self) -> None:
        """Lift a halt (asks first)."""
        self._confirm("Resume trading", "Lift the halt and allow new orders again?",
                      ResumeTrading())

    def action_overlay(self, name: str) -> None:
        """Show or hide a chart overlay."""
        shown = self._chart.toggle_overlay(name)
        self.notify(f"{name.upper()} {'on' if shown else 'off'}", timeout=2)

    def action_indicator(self, pane: int = 1) -> None:
        """Show the next indicator in pane 1 or 2 (RSI, MACD, ATR, volume, relative volume,
        the strategies' columns); pane 2 comes on if it was off."""
        self.notify(f"Pane {pane}: {self._panes.cycle(pane)}", timeout=2)

    def action_second_pane(self) -> None:
        """Switch the second indicator pane on or off."""
        on = self._panes.toggle_second()
        self.notify("Pane 2 on" if on else "Pane 2 off", timeout=2)

    def pane_commands(self) -> list[PaneCommand]:
        """The palette's ``Pane 1: ATR``-style entries."""
        return self._panes.commands()

    def action_scroll_chart(self, bars: int) -> None:
        """Scroll the chart through history."""
        self._chart.scroll_bars(bars)

    def action_zoom(self, step: int) -> None:
        """Change how many candles each column shows."""
        self._chart.zoom(step)

    def action_go_live(self) -> None:
        """Back to the newest candle."""
        self._chart.go_live()

    def action_log_scale(self) -> None:
        """Switch the chart's price scale between linear and logarithmic."""
        log = self._chart.toggle_log_scale()
        self.notify(f"Log scale {'on' if log else 'off'}", timeout=2)

    def action_group(self, step: int) -> None:
        """Group the order book's prices coarser or finer."""
        size = self._book.group(step)
        if size:
            self.notify(f"Book grouped by {size}", timeout=2)

    def action_journal(self) -> None:
        """The journal: trades, fills, signals and statistics."""
        if not isinstance(self.screen, HistoryScreen):
            self.push_screen(HistoryScreen(self.engine))

    def action_backtest(self) -> None:
        """Backtest a strategy on stored history."""
        if not isinstance(self.screen, BacktestScreen):
            self.push_screen(BacktestScreen(self.engine))

    def action_scanner(self) -> None:
        """The market scanner: the venue's markets by change, volume or volatility."""
        if not isinstance(self.screen, ScannerScreen):
            self.push_screen(ScannerScreen(self.engine))

    def action_strategies(self) -> None:
        """Start or stop strategies."""
        if self.engine is None or isinstance(self.screen, StrategiesScreen):
            return

        def chosen(command: Command | None) -> None:
            if command is not None:
                self.submit(command)

        self.push_screen(StrategiesScreen(self.engine.snapshot().strategies), chosen)

    def action_next_theme(self) -> None:
        """Switch to the next theme from themes/."""
        names = self.theme_names()
        if names:
            index = names.index(self.theme) if self.theme in names else -1
            self.set_theme(names[(index + 1) % len(names)])

    def show_main(self) -> None:
        """Close every screen above the main one (palette "Screen: Main")."""
        while len(self.screen_stack) > 1 and self.screen is not self.main_screen:
            self.pop_screen()

    def action_replay(self, action: str) -> None:
        """Pause/resume the bar replay, or step one bar while paused."""
        snap = self.engine.snapshot() if self.engine is not None else None
        if snap is None or snap.replay is None:
            return
        if action == "pause":
            action = "resume" if snap.replay.paused else "pause"
        self.submit(ReplayControl(action))

    def action_replay_speed(self, factor: float) -> None:
        """Replay slower or faster."""
        self.submit(ReplayControl("speed", factor))

    def action_use_demo(self) -> None:
        """Give up on the configured exchange and use the simulated market."""
        self.submit(SwitchToDemo())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self._quitting and action != "quit":
            # Keys typed while the engine shuts down (up to SHUTDOWN_WAIT_S) would open screens
            # on an app that is about to exit.
            return False
        snap = self.engine.snapshot() if self.engine is not None else None
        if action == "use_demo":  # offered (and shown in the footer) only when it makes sense
            return snap is not None and snap.phase in _NOT_TRADABLE
        if action in ("replay", "replay_speed"):  # only while replaying recorded candles
            return snap is not None and snap.replay is not None
        if action == "next_panel":  # otherwise tab moves the focus, as everywhere in Textual
            return self.compact and self.screen is self.main_screen
        if action == "ticket":  # a priority key: never taken from a field of another screen
            return self.screen is self.main_screen
        return True

    def get_key_display(self, binding: Binding) -> str:
        """The key as remapped by ``[keymap]`` (a class binding still holds its default)."""
        remapped = self._keymap.get(binding.id) if binding.id else None
        if remapped and binding.key not in remapped.split(","):
            binding = binding.with_key(remapped.split(",")[0], key_display=None)
        return super().get_key_display(binding)

    def _check_keymap(self) -> None:
        """Warn about a key that ``[keymap]`` leaves on two bindings: Textual would silently
        keep only one of them (it reports clashes only for bindings without an id)."""
        owners: dict[str, set[str]] = {}
        for binding in self.BINDINGS:
            if isinstance(binding, Binding) and binding.id:
                keys = self._keymap.get(binding.id, binding.key)
                for key in self._normalize_keymap({"k": keys})["k"].split(","):
                    owners.setdefault(key.strip(), set()).add(binding.id)
        for ids in owners.values():
            if len(ids) > 1:
                self._warn_clash(ids)

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: object) -> None:
        """A ``[keymap]`` key clashes with one of Textual's own bindings."""
        self._warn_clash({b.id or b.action for b in clashed_bindings})

    def _warn_clash(self, ids: set[str]) -> None:
        if frozenset(ids) not in self._clashes_noticed:  # once, not at every key press
            self._clashes_noticed.add(frozenset(ids))
            self.notify(f"[keymap] gives one key to several bindings: {', '.join(sorted(ids))}",
                        title="Keymap", severity="warning", timeout=10)

    def action_help(self) -> None:
        """Show every key binding (taken from the bindings themselves, so always current)."""
        if isinstance(self.screen, HelpScreen):
            return
        rows = binding_rows(screen_bindings(self.screen), self.get_key_display)
        self.push_screen(HelpScreen(rows))

    async def action_quit(self) -> None:
        """Ask the engine to shut down, give it a moment to close its sockets, then exit."""
        self._quitting = True
        self.submit(Shutdown())
        worker = self._engine_worker
        if worker is not None and worker.is_running:
            try:
                await asyncio.wait_for(worker.wait(), timeout=SHUTDOWN_WAIT_S)
            except (TimeoutError, WorkerFailed, WorkerCancelled):
                pass  # a failure was already shown; quitting goes on regardless
        self.exit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every binding is also a command palette entry; stopping the engine is only here."""
        yield from super().get_system_commands(screen)
        yield SystemCommand("Stop the engine", "stop the engine itself (asks first)",
                            self.action_stop_engine)
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding) or binding.action == "quit":
                continue  # Textual's own palette already offers Quit (it calls action_quit)
            yield SystemCommand(
                binding.description,
                f"key {self.get_key_display(binding)}",
                partial(self.run_action, binding.action),
            )


def leg_name(order: Order, fmt: MarketFormat | None = None) -> str:
    """``stop 95.00`` / ``target 105.00``: one leg of a bracket as the leg question names it."""
    fmt = fmt or MarketFormat()
    request = order.request
    if request.type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP):
        trigger = order.stop_price or request.stop_price
        return f"stop {fmt.price(trigger)}" if trigger is not None else "stop"
    return f"target {fmt.price(request.price)}" if request.price is not None else "target"



def describe_event(event: Event) -> str:
    """``CommandIgnored(reason='x', ...)`` -> ``command ignored: ...; x`` (fields but the time)."""
    name = re.sub(r"(?<!^)(?=[A-Z])", " ", type(event).__name__).lower()
    parts = []
    for item in dataclasses.fields(event):
        if item.name == "timestamp":
            continue
        value = getattr(event, item.name)
        parts.append(", ".join(map(str, value)) if isinstance(value, tuple) else str(value))
    return f"{name}: {'; '.join(parts)}" if parts else name


def waiting_message(snap: EngineSnapshot) -> str:
    """What the chart says while it has no candles."""
    if snap.phase in (EnginePhase.STARTING, EnginePhase.CONNECTING):
        return f"connecting to {snap.exchange}…"
    if snap.phase is EnginePhase.STOPPED:
        return "engine stopped"
    return f"loading {snap.symbol} {snap.timeframe} candles…"


def cannot_reach(exchange: str, reason: str | None) -> str:
    """``Cannot reach <exchange>: <reason>``, once, even if the engine's reason already says it."""
    reason = reason or "no answer"
    prefix = f"cannot reach {exchange}:"
    if reason.lower().startswith(prefix):
        reason = reason[len(prefix) :].strip()
    return f"Cannot reach {exchange}: {reason}"


_NOT_TRADABLE = (EnginePhase.UNREACHABLE, EnginePhase.REFUSED)
"""Phases where the main area explains why instead of a chart, and `d` offers the demo market."""


def unreachable_text(snap: EngineSnapshot) -> Text:
    """The plain message shown in the main area when the exchange cannot be reached."""
    text = Text(justify="center")
    if snap.phase is EnginePhase.REFUSED:  # reached, but refused (e.g. its precision mode)
        text.append(f"{snap.error or 'refused'}\n\n", style="bold")
    else:
        text.append(cannot_reach(snap.exchange, snap.error) + "\n\n", style="bold")
    text.append("press d to use the demo market")
    return text


def crash_log_path() -> str | None:
    """The log file the traceback of a crash went to (the CLI logs to a file), if any."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            return handler.baseFilename
    return None


def warm_indicators() -> None:
    """Import what the chart computes overlays with (see ``_start_engine``); a failure here
    is only a lost head start: the chart imports the same modules when it needs them."""
    import importlib

    for name in ("tradeterm.indicators.ta", "tradeterm.indicators.vwap",
                 "tradeterm.indicators.frame", "tradeterm.indicators.smc"):
        try:
            importlib.import_module(name)
        except Exception:
            log.debug("warming %s failed", name, exc_info=True)
            return
    gc.freeze()  # polars and TA-Lib's module objects: out of the collector's reach too


def run_app(settings: Settings, engine: EngineLike | None = None) -> int:
    """Run the workstation until the user quits; the exit status (1 after a crash). Without
    ``engine`` it starts its own (in-process, served so other screens can attach)."""
    app = TradetermApp(settings, engine)
    app.run()
    # A later App.exit() (e.g. while shutting down) resets return_code to 0: the flag holds.
    return 1 if app.crashed else app.return_code or 0


if __name__ == "__main__":
    from tradeterm.config import load_settings

    run_app(load_settings(demo=True))
