"""The Textual application: the first screen of the workstation.

How it talks to the engine (attributes down, messages up):

* a timer at ``settings.ui.fps`` samples ``engine.snapshot()``; an unchanged ``seq`` means no
  redraw at all, otherwise each widget gets its slice and repaints only if that slice changed.
  Nothing is ever redrawn per exchange message;
* discrete engine events arrive through ``add_listener`` and become notifications;
* keys become commands (``engine.submit``); the app never mutates engine state.

The engine (and with it ccxt) is imported and started only after the first frame is on screen,
as a Textual worker whose failure is shown, never swallowed (``on_worker_state_changed``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from tradeterm.config import Settings
from tradeterm.core.commands import (
    Command,
    Shutdown,
    SwitchSymbol,
    SwitchTimeframe,
    SwitchToDemo,
)
from tradeterm.core.events import (
    BookResynced,
    CommandIgnored,
    EngineReady,
    Event,
    ExchangeUnreachable,
    FeedMessageSkipped,
    FeedStatusChanged,
    OrderDenied,
    OrderFilled,
    OrderUpdated,
    PositionClosed,
    SignalEmitted,
    StrategyFailed,
    SymbolsUnavailable,
    TradingStateChanged,
)
from tradeterm.core.models import EnginePhase, EngineSnapshot, FeedStatus, Signal, timeframe_ms
from tradeterm.ui.fmt import fmt_price
from tradeterm.ui.screens.help import HelpScreen, binding_rows, screen_bindings
from tradeterm.ui.themes import DEFAULT_THEME, load_themes, trading_colors
from tradeterm.ui.widgets.book import OrderBookLadder
from tradeterm.ui.widgets.chart import CandleChart
from tradeterm.ui.widgets.status import StatusBar
from tradeterm.ui.widgets.tape import TradesTape

if TYPE_CHECKING:
    from textual.theme import Theme

# Keys 1-6 pick these timeframes, in this order.
TIMEFRAME_KEYS = ("1m", "5m", "15m", "1h", "4h", "1d")
SHUTDOWN_WAIT_S = 3.0  # how long "quit" waits for the engine to close its connections
# STOPPED is not "lost": streams stop on purpose when the symbol or timeframe changes.
_LOST = (FeedStatus.RECONNECTING, FeedStatus.STALE)
_SKIP_NOTICE_EVERY_MS = 10_000  # one "message skipped" notice per stream and reason at most
# The footer shows each group as one hint: "123456 Timeframe", "[] Symbol".
_TIMEFRAME_GROUP = Binding.Group("Timeframe", compact=True)
_SYMBOL_GROUP = Binding.Group("Symbol", compact=True)


class EngineLike(Protocol):
    """What the UI needs of :class:`tradeterm.engine.Engine` (tests pass a fake)."""

    async def run(self) -> None: ...
    def snapshot(self) -> EngineSnapshot: ...
    def submit(self, command: Command) -> None: ...
    def add_listener(self, callback: Callable[[Event], None]) -> None: ...


class EngineEventReceived(Message):
    """An engine event, carried onto the app's message queue."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class TradetermApp(App[None]):
    """Status bar, candle chart, order book, trades tape and key hints."""

    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    TITLE = "tradeterm"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    BINDINGS = [
        *(
            Binding(str(i), f"timeframe('{tf}')", f"{tf} chart", id=f"timeframe.{tf}",
                    group=_TIMEFRAME_GROUP)
            for i, tf in enumerate(TIMEFRAME_KEYS, start=1)
        ),
        Binding("left_square_bracket", "cycle_symbol(-1)", "Previous symbol",
                key_display="[", id="symbol.previous", group=_SYMBOL_GROUP),
        Binding("right_square_bracket", "cycle_symbol(1)", "Next symbol",
                key_display="]", id="symbol.next", group=_SYMBOL_GROUP),
        Binding("d", "use_demo", "Use the demo market", id="demo"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, settings: Settings, engine: EngineLike | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.engine: EngineLike | None = engine
        self.market_colors = trading_colors(load_themes()[0][DEFAULT_THEME])
        self._engine_worker: Worker[None] | None = None
        self._engine_error: str | None = None
        self._quitting = False
        self._seq: int | None = None
        self._phase: EnginePhase | None = None
        self._feed_status: dict[tuple[str, str], FeedStatus] = {}
        self._skip_noticed: dict[tuple[str, str], int] = {}

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield CandleChart(id="chart")
                yield Static(id="unreachable")
            with Vertical(id="side"):
                yield OrderBookLadder(id="book")
                yield TradesTape(id="tape")
        yield Footer()

    def on_mount(self) -> None:
        # Held here: once a modal screen is pushed, query_one() searches that screen instead.
        self._status = self.query_one(StatusBar)
        self._chart = self.query_one(CandleChart)
        self._unreachable = self.query_one("#unreachable", Static)
        self._book = self.query_one(OrderBookLadder)
        self._tape = self.query_one(TradesTape)
        self._apply_themes()
        self._unreachable.display = False
        self.set_interval(1 / self.settings.ui.fps, self._redraw, name="redraw")
        self._redraw()
        # After the first frame: the engine import (ccxt) must not delay it.
        self.call_after_refresh(self._start_engine)

    def _apply_themes(self) -> None:
        themes, errors = load_themes()
        for theme in themes.values():
            self.register_theme(theme)
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

    # -- engine -----------------------------------------------------------------------------

    def _start_engine(self) -> None:
        if self.engine is None:
            try:
                from tradeterm.engine import Engine  # lazily: pulls in the feed machinery

                self.engine = Engine(self.settings)
            except Exception as exc:  # shown to the user, never a traceback
                self._fail(f"engine could not start: {type(exc).__name__}: {exc}")
                return
        self.engine.add_listener(self._on_engine_event)
        self._engine_worker = self.run_worker(
            self.engine.run(), name="engine", group="engine", exit_on_error=False
        )

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
            self._fail("engine stopped")

    def _on_engine_event(self, event: Event) -> None:
        """Listener called by the engine on the asyncio loop: hand over to the message queue."""
        self.post_message(EngineEventReceived(event))

    @on(EngineEventReceived)
    def _show_engine_event(self, message: EngineEventReceived) -> None:
        event = message.event
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
            case EngineReady(exchange=exchange):
                self._engine_error = None
                demo = self.engine is not None and self.engine.snapshot().demo
                where = "the demo market (simulator on 127.0.0.1)" if demo else exchange
                self.notify(f"Connected to {where}", timeout=3)
            case SignalEmitted(signal=signal):
                self.notify(describe_signal(signal), title=signal.strategy, timeout=6)
            case StrategyFailed(strategy=name, reason=reason):
                self.notify(f"{name} disabled: {reason}", severity="error", timeout=10)
            case CommandIgnored(reason=reason):
                self.notify(reason, severity="warning", timeout=4)
            case SymbolsUnavailable(exchange=exchange, symbols=symbols):
                self.notify(f"{exchange} does not list {', '.join(symbols)}: left out",
                            severity="warning", timeout=8)
            case OrderFilled(fill=fill):
                who = f" ({fill.strategy})" if fill.strategy else ""
                verb = "BOUGHT" if fill.side == "buy" else "SOLD"
                self.notify(f"{verb} {fill.quantity} {fill.symbol} @ {fill.price}{who}", timeout=5)
            case OrderDenied(reason=reason, request=request):
                self.notify(f"{request.side} {request.quantity} {request.symbol} denied: {reason}",
                            severity="warning", timeout=8)
            case TradingStateChanged(state=state, reason=reason):
                severity = "error" if state == "halted" else "warning"
                if state == "active":
                    severity = "information"
                self.notify(f"Trading {state.upper()}: {reason}", severity=severity, timeout=10)
            case PositionClosed(trade=trade):
                r = f", {trade.r_multiple:.2f} R" if trade.r_multiple is not None else ""
                self.notify(f"Closed {trade.side} {trade.quantity} {trade.symbol}: "
                            f"PnL {trade.pnl:+.2f}{r}", timeout=8)
            case OrderUpdated():
                return  # order life cycle: the orders panel shows it; fills are noticed above
            case _:  # events this screen has no special display for yet
                self.notify(describe_event(event), severity="warning")

    # -- redraw -----------------------------------------------------------------------------

    def _redraw(self) -> None:
        """Sample the engine; push each widget its part, only when the snapshot moved."""
        snap = self.engine.snapshot() if self.engine is not None else None
        now_ms = int(time.time() * 1000)
        self._status.update_data(
            snap, now_ms, error=self._engine_error, colors=self.market_colors
        )
        if snap is None or snap.seq == self._seq:
            return
        self._seq = snap.seq
        unreachable = snap.phase is EnginePhase.UNREACHABLE
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
        )
        self._book.update_data(market.book, self.market_colors)
        self._tape.update_data(market.trades, self.market_colors)

    # -- actions ----------------------------------------------------------------------------

    def _submit(self, command: Command) -> None:
        if self.engine is not None:
            self.engine.submit(command)

    def action_timeframe(self, timeframe: str) -> None:
        """Switch the chart to ``timeframe``."""
        self._submit(SwitchTimeframe(timeframe))

    def action_cycle_symbol(self, step: int) -> None:
        """Move ``step`` places along the watchlist (``settings.symbols``), wrapping around."""
        symbols = self.settings.symbols
        current = self.engine.snapshot().symbol if self.engine is not None else symbols[0]
        index = symbols.index(current) if current in symbols else -step
        self._submit(SwitchSymbol(symbols[(index + step) % len(symbols)]))

    def action_use_demo(self) -> None:
        """Give up on the configured exchange and use the simulated market."""
        self._submit(SwitchToDemo())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "use_demo":  # offered (and shown in the footer) only when it makes sense
            snap = self.engine.snapshot() if self.engine is not None else None
            return snap is not None and snap.phase is EnginePhase.UNREACHABLE
        return True

    def action_help(self) -> None:
        """Show every key binding (taken from the bindings themselves, so always current)."""
        if isinstance(self.screen, HelpScreen):
            return
        rows = binding_rows(screen_bindings(self.screen), self.get_key_display)
        self.push_screen(HelpScreen(rows))

    async def action_quit(self) -> None:
        """Ask the engine to shut down, give it a moment to close its sockets, then exit."""
        self._quitting = True
        self._submit(Shutdown())
        worker = self._engine_worker
        if worker is not None and worker.is_running:
            try:
                await asyncio.wait_for(worker.wait(), timeout=SHUTDOWN_WAIT_S)
            except (TimeoutError, WorkerFailed, WorkerCancelled):
                pass  # a failure was already shown; quitting goes on regardless
        self.exit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every binding is also a command palette entry."""
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            if not isinstance(binding, Binding) or binding.action == "quit":
                continue  # Textual's own palette already offers Quit (it calls action_quit)
            yield SystemCommand(
                binding.description,
                f"key {self.get_key_display(binding)}",
                partial(self.run_action, binding.action),
            )


def describe_signal(signal: Signal) -> str:
    """``BUY BTC/USDT 1m @ 64980.10 stop 64900.00 targets 65100.00 / 65200.00 · 62%: reasons``."""
    action = signal.side.upper() if signal.kind == "entry" else f"EXIT ({signal.side})"
    text = f"{action} {signal.symbol} {signal.timeframe}"
    if signal.entry is not None:
        text += f" @ {fmt_price(signal.entry)}"
    if signal.stop is not None:
        text += f" stop {fmt_price(signal.stop)}"
    if signal.targets:
        text += " targets " + " / ".join(fmt_price(t) for t in signal.targets)
    text += f" · {signal.confidence:.0%}"
    if signal.reasons:
        text += ": " + ", ".join(signal.reasons)
    return text


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


def unreachable_text(snap: EngineSnapshot) -> Text:
    """The plain message shown in the main area when the exchange cannot be reached."""
    text = Text(justify="center")
    text.append(cannot_reach(snap.exchange, snap.error) + "\n\n", style="bold")
    text.append("press d to use the demo market")
    return text


def run_app(settings: Settings) -> None:
    """Run the workstation until the user quits."""
    TradetermApp(settings).run()


if __name__ == "__main__":
    from tradeterm.config import load_settings

    run_app(load_settings(demo=True))
