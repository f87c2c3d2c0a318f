"""The backtest screen (``t``): choose strategy, symbol, timeframe, range and parameters; the
ENGINE runs the job on the candles ``tradeterm download`` stored; see the metrics, the equity
curve, the trades and the trades drawn on a candle chart.

Everything comes from the engine through requests (``service/backtests.py``):
``backtest.strategies`` (the form's choices), ``backtest.data`` (what the store holds),
``backtest.start`` and ``backtest.state``. The job's stages and its report arrive as the
events ``BacktestProgressed`` and ``BacktestFinished``, which the engine sends to every attached
client: a run started from one screen shows on all of them, and leaving the screen does not stop
it. The screen imports no strategy, polars or backtester code and reads no file; the report is
display-ready (``backtest/job.py``: the CLI report's rows), so screen and terminal report agree.
Errors the user can fix (no data, a parameter out of range, a bad date) are shown in the screen,
never as a traceback.

The "Optimise" tab (``ctrl+o``) is the optimisation view (``optimize_view.py``): the same form's
strategy, market, range and parameter values, searched over two of the parameters by the engine
(``backtest.optimize``, sharing the backtest's job slot), with a progress bar, then a heatmap,
the best equity curves and the trial table.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Button,
    DataTable,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, WorkerState

from tradeterm.ui.footer import FittedFooter
from tradeterm.core.events import (
    BacktestFinished,
    BacktestProgressed,
    BacktestReport,
    OptimizeFinished,
    OptimizeProgressed,
)
from tradeterm.core.models import TIMEFRAME_MS, timeframe_ms
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.screens.optimize_view import OptimizeView
from tradeterm.ui.widgets.chart import CandleChart
from tradeterm.wire.codec import CodecError, convert
from tradeterm.wire.remote import AttachError, RequestFailed

if TYPE_CHECKING:
    from tradeterm.ui.app import EngineLike

TRADE_HEADERS = ("side", "entry (UTC)", "price", "exit (UTC)", "price", "why", "qty", "PnL", "R")
PNL_COLUMN = 7
DATA_CHECK_DELAY_S = 0.3
"""Typing a symbol asks the engine once it pauses this long (not per key)."""
_FAILED = (RequestFailed, AttachError, TimeoutError, CodecError)


def _why(exc: Exception) -> str:
    """A request's failure in one line (a timeout has no message of its own)."""
    if isinstance(exc, TimeoutError):
        return "the engine did not answer in time"
    return str(exc) or type(exc).__name__


def equity_chart(equity: tuple[float, ...], drawdown: tuple[float, ...], width: int,
                 height: int) -> str:
    """Equity and drawdown (%) as text (plotext), like ``tradeterm backtest --chart``."""
    import plotext as plt

    fig = plt.figure
    fig.clear()
    fig.subplots(2, 1)
    for row, (values, title) in enumerate(((equity, "Equity"), (drawdown, "Drawdown %")),
                                          start=1):
        sub = fig.subplot(row, 1)
        sub.draw(sub.signal(list(values)).lines())  # plotext 6: a signal is drawn explicitly
        sub.title(title)
    fig.plot_size(width, height)
    fig.theme("clear")
    return str(fig.build().string())


class BacktestScreen(Screen[None]):
    """See the module docstring."""

    DEFAULT_CSS = """
    BacktestScreen #bt-title { height: 1; text-style: bold; color: $accent; padding: 0 1; }
    BacktestScreen #bt-form { width: 38; border-right: vkey $panel; padding: 0 1; }
    BacktestScreen #bt-form Label { margin-top: 1; color: $text-muted; }
    BacktestScreen #bt-form Input, BacktestScreen #bt-form Select { width: 100%; }
    BacktestScreen #bt-data { height: auto; margin-top: 1; color: $text-muted; }
    BacktestScreen #bt-data.-missing { color: $warning; }
    BacktestScreen #bt-run { margin-top: 1; width: 100%; }
    BacktestScreen #bt-params { height: auto; }
    BacktestScreen #bt-results { width: 1fr; padding: 0 1; }
    BacktestScreen #bt-status { height: auto; }
    BacktestScreen #bt-status.-error { color: $error; }
    BacktestScreen #bt-progress { height: 1; }
    BacktestScreen TabbedContent { height: 1fr; }
    BacktestScreen DataTable, BacktestScreen CandleChart { height: 1fr; }
    """

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("ctrl+r", "run", "Run backtest"),
        Binding("ctrl+o", "optimize", "Optimise"),
        Binding("ctrl+g", "optimize_views", "Heatmap/curves/trials"),
    ]

    class StrategiesLoaded(Message):
        def __init__(self, strategies: dict[str, dict[str, Any]], errors: list[str]) -> None:
            super().__init__()
            self.strategies, self.errors = strategies, errors

    class DataChecked(Message):
        def __init__(self, stored: bool, text: str) -> None:
            super().__init__()
            self.stored, self.text = stored, text

    class Failed(Message):
        """A request the screen made was refused or not answered: the reason."""

        def __init__(self, reason: str) -> None:
            super().__init__()
            self.reason = reason

    def __init__(self, engine: EngineLike | None) -> None:
        super().__init__()
        self.engine = engine
        self.strategies: dict[str, dict[str, Any]] = {}  # name -> backtest.job.StrategyChoice
        self.finished: BacktestFinished | None = None  # the last run shown
        self.report: BacktestReport | None = None

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        snap = self.engine.snapshot() if self.engine is not None else None
        yield Static("Backtest · the paper broker's fill rules on stored candles, run by the "
                     "engine", id="bt-title")
        with Horizontal():
            with VerticalScroll(id="bt-form"):
                yield Label("Strategy")
                yield Select([], prompt="loading strategies…", id="bt-strategy")
                yield Label("Symbol")
                yield Input(snap.symbol if snap is not None else "", id="bt-symbol")
                yield Label("Timeframe")
                yield Select([(tf, tf) for tf in TIMEFRAME_MS],
                             value=snap.timeframe if snap is not None else "1m",
                             allow_blank=False, id="bt-timeframe")
                yield Label("From (YYYY-MM-DD UTC; empty: all)")
                yield Input(placeholder="first day", id="bt-from")
                yield Label("To (included)")
                yield Input(placeholder="last day", id="bt-to")
                yield Static("", id="bt-data")
                yield Vertical(id="bt-params")
                yield Button("Run  (ctrl+r)", id="bt-run", variant="primary")
            with Vertical(id="bt-results"):
                yield Static("choose a strategy and press Run", id="bt-status")
                yield ProgressBar(total=4, show_eta=False, id="bt-progress")
                with TabbedContent(id="bt-tabs"):
                    with TabPane("Metrics", id="tab-metrics"):
                        yield VerticalScroll(Static("", id="bt-metrics"))
                    with TabPane("Equity", id="tab-equity"):
                        yield Static("", id="bt-equity")
                    with TabPane("Trades", id="tab-trades"):
                        yield DataTable(id="bt-trades", zebra_stripes=True, cursor_type="row")
                    with TabPane("Chart", id="tab-chart"):
                        yield CandleChart(id="bt-chart")
                    with TabPane("Optimise", id="tab-optimize"):
                        yield OptimizeView(id="bt-optimize")
        yield FittedFooter()  # its own keys first, each whole

    def on_mount(self) -> None:
        self.query_one("#bt-progress").display = False
        self._load_strategies()
        self._source_changed()
        self._load_state()

    # -- asking the engine ----------------------------------------------------------------------

    async def _ask(self, kind: str, args: dict[str, Any]) -> Any:
        if self.engine is None:
            raise RequestFailed("the engine has not started yet")
        return await self.engine.ask(kind, args)

    @work(exclusive=True, exit_on_error=False, group="bt-strategies")
    async def _load_strategies(self) -> None:
        try:
            body = await self._ask("backtest.strategies", {})
        except _FAILED as exc:
            self.post_message(self.Failed(f"no strategies: {_why(exc)}"))
            return
        self.post_message(self.StrategiesLoaded(
            {str(c["name"]): c for c in body["strategies"]}, [str(e) for e in body["errors"]]))

    @work(exclusive=True, exit_on_error=False, group="bt-data")
    async def _check_data(self, symbol: str, timeframe: str) -> None:
        await asyncio.sleep(DATA_CHECK_DELAY_S)  # exclusive: a newer key press cancels this
        if not symbol:
            self.post_message(self.DataChecked(False, "enter a symbol"))
            return
        try:
            body = await self._ask("backtest.data", {"symbol": symbol, "timeframe": timeframe})
        except _FAILED as exc:
            self.post_message(self.DataChecked(False, f"cannot check: {_why(exc)}"))
            return
        self.post_message(self.DataChecked(bool(body["stored"]), str(body["text"])))

    @work(exclusive=True, exit_on_error=False, group="bt-state")
    async def _load_state(self) -> None:
        """A job running (or ended) before the screen opened: shown as if followed."""
        try:
            body = await self._ask("backtest.state", {})
            running = body.get("running")
            last = body.get("last")
            if last is not None and self.finished is None:
                self.engine_event(convert(last, BacktestFinished, "backtest report"))
            if running is not None:
                self.engine_event(convert(running, BacktestProgressed, "backtest progress"))
            optimized, optimizing = body.get("last_optimize"), body.get("optimizing")
            if optimized is not None and self.query_one(OptimizeView).report is None:
                self.engine_event(convert(optimized, OptimizeFinished, "optimisation report"))
            if optimizing is not None:
                self.engine_event(convert(optimizing, OptimizeProgressed,
                                          "optimisation progress"))
        except _FAILED:
            return  # the form still works; the events will come

    @work(exclusive=True, exit_on_error=False, group="bt-run")
    async def _start(self, args: dict[str, Any]) -> None:
        try:
            await self._ask("backtest.start", args)
        except _FAILED as exc:
            self.post_message(self.Failed(_why(exc)))

    @work(exclusive=True, exit_on_error=False, group="bt-optimize")
    async def _start_optimize(self, args: dict[str, Any]) -> None:
        try:
            await self._ask("backtest.optimize", args)
        except _FAILED as exc:
            self.query_one(OptimizeView).failed(_why(exc))

    # -- the form -------------------------------------------------------------------------------

    def _symbol(self) -> str:
        return self.query_one("#bt-symbol", Input).value.strip().upper()

    def _timeframe(self) -> str:
        return str(self.query_one("#bt-timeframe", Select).value)

    def on_backtest_screen_strategies_loaded(self, message: StrategiesLoaded) -> None:
        self.strategies = message.strategies
        symbol = self.query_one("#bt-symbol", Input)
        if not symbol.value and self.engine is not None:  # opened before the engine answered
            symbol.value = self.engine.snapshot().symbol
        select = self.query_one("#bt-strategy", Select)
        select.set_options([(name, name) for name in sorted(self.strategies)])
        select.prompt = "choose a strategy" if self.strategies else "no strategies found"
        if message.errors:
            self._status("; ".join(message.errors), error=True)
        if self.strategies:
            first = "ema_cross" if "ema_cross" in self.strategies else min(self.strategies)
            select.value = first

    def on_backtest_screen_failed(self, message: Failed) -> None:
        self.query_one("#bt-progress", ProgressBar).display = False
        self._status(message.reason, error=True)

    @on(Select.Changed, "#bt-strategy")
    async def _strategy_chosen(self, event: Select.Changed) -> None:
        choice = self.strategies.get(str(event.value))
        if choice is None:
            return
        self.query_one("#bt-timeframe", Select).value = str(choice["timeframe"])
        box = self.query_one("#bt-params", Vertical)
        await box.remove_children()
        params = choice["params"]
        widgets: list[Any] = [Label("Parameters")] if params else []
        for (name, kind, default, bounds), note in zip(params, choice["descriptions"],
                                                       strict=True):
            widgets.append(Label(f"{name} ({bounds})" if bounds else name))
            widgets.append(Input(default, type=kind, id=f"param-{name}",
                                 tooltip=note or None, classes="bt-param"))
        await box.mount_all(widgets)
        self.query_one(OptimizeView).set_params(list(params))

    @on(Select.Changed, "#bt-timeframe")
    @on(Input.Changed, "#bt-symbol")
    def _source_changed(self) -> None:
        self._check_data(self._symbol(), self._timeframe())

    def on_backtest_screen_data_checked(self, message: DataChecked) -> None:
        data = self.query_one("#bt-data", Static)
        data.update(f"data: {message.text}")
        data.set_class(not message.stored, "-missing")

    @on(Input.Submitted)
    @on(Button.Pressed, "#bt-run")
    def _submit(self, event: Input.Submitted | Button.Pressed) -> None:
        if isinstance(event, Input.Submitted) and event.input.id == "opt-trials":
            self.action_optimize()  # enter in the optimisation view's own field
            return
        self.action_run()

    def _request(self) -> dict[str, Any] | str:
        name = self.query_one("#bt-strategy", Select).value
        if str(name) not in self.strategies:
            return "choose a strategy first"
        symbol = self._symbol()
        if not symbol:
            return "enter a symbol, e.g. BTC/USDT"
        params = {str(i.id).removeprefix("param-"): i.value.strip()
                  for i in self.query(".bt-param").results(Input) if i.value.strip()}
        return {"strategy": str(name), "symbol": symbol, "timeframe": self._timeframe(),
                "first_day": self.query_one("#bt-from", Input).value.strip() or None,
                "last_day": self.query_one("#bt-to", Input).value.strip() or None,
                "params": params}

    def action_run(self) -> None:
        """Ask the engine to run the chosen backtest; its progress comes as events."""
        request = self._request()
        if isinstance(request, str):
            self._status(request, error=True)
            return
        self._status(f"asking the engine to run {request['strategy']}…")
        self._start(request)

    def action_optimize(self) -> None:
        """From another tab, show the optimisation view (its form first: a search is a long job,
        never started by the key that opened the form); there, ask the engine to search."""
        tabs = self.query_one("#bt-tabs", TabbedContent)
        view = self.query_one(OptimizeView)
        if tabs.active != "tab-optimize":
            tabs.active = "tab-optimize"
            view.status("choose the search, then ctrl+o runs it")
            return
        request = self._request()
        choices = view.choices()
        if isinstance(request, str) or isinstance(choices, str):
            view.status(request if isinstance(request, str) else str(choices), error=True)
            return
        view.status(f"asking the engine to optimise {request['strategy']}…")
        self._start_optimize({**request, **choices})

    def action_optimize_views(self) -> None:
        """Show the optimisation view, and its next result: heatmap, best curves, trials."""
        tabs = self.query_one("#bt-tabs", TabbedContent)
        if tabs.active != "tab-optimize":
            tabs.active = "tab-optimize"
            return
        self.query_one(OptimizeView).next_result()

    @on(Button.Pressed, "#opt-run")
    def _optimize_pressed(self) -> None:
        self.action_optimize()

    def action_close(self) -> None:
        self.dismiss(None)

    # -- the engine's events (whoever started the job) ------------------------------------------

    def engine_event(self, event: BacktestProgressed | BacktestFinished | OptimizeProgressed
                     | OptimizeFinished) -> None:
        if isinstance(event, OptimizeProgressed | OptimizeFinished):
            self._optimize_event(event)
            return
        progress = self.query_one("#bt-progress", ProgressBar)
        what = f"{event.strategy} on {event.symbol} {event.timeframe}"
        if isinstance(event, BacktestProgressed):
            progress.update(total=event.steps, progress=event.step)
            progress.display = True
            self._status(f"{what}: {event.stage}…")
            return
        progress.display = False
        if event.report is None:
            self._status(f"{what}: {event.error or 'failed'}", error=True)
            return
        report = event.report
        self.finished, self.report = event, report
        self._status(f"{what}: {report.trades_total} trades over {report.bars:,} bars")
        self._show_metrics(report)
        self._show_equity(report)
        self._show_trades(report)
        self._show_chart(event, report)

    def _optimize_event(self, event: OptimizeProgressed | OptimizeFinished) -> None:
        view = self.query_one(OptimizeView)
        if isinstance(event, OptimizeProgressed):
            view.progressed(event)
        elif event.report is None:
            view.failed(f"{event.strategy} on {event.symbol} {event.timeframe}: "
                        f"{event.error or 'failed'}")
        else:
            results = self.query_one("#bt-results")
            view.finished(event.report, event.symbol, max(40, results.size.width - 4),
                          max(12, results.size.height - 14))

    # -- results --------------------------------------------------------------------------------

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#bt-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    def _show_metrics(self, report: BacktestReport) -> None:
        table = Table(title=report.title, show_header=False)
        table.add_column("metric", style="bold")
        table.add_column("value", justify="right")
        for name, value in report.metrics:
            table.add_row(name, value)
        self.query_one("#bt-metrics", Static).update(table)

    def _show_equity(self, report: BacktestReport) -> None:
        box = self.query_one("#bt-equity", Static)
        if len(report.equity) < 2:
            box.update("not enough bars for an equity curve")
            return
        width = max(40, self.query_one("#bt-results").size.width - 4)
        height = max(12, self.query_one("#bt-results").size.height - 6)
        text = equity_chart(report.equity, report.drawdown_pct, width, height)
        # plain: plotext's own colours (a white background) would fight the theme's
        box.update(Text(Text.from_ansi(text).plain))

    def _show_trades(self, report: BacktestReport) -> None:
        colors = getattr(self.app, "market_colors", TradingColors())
        table = self.query_one("#bt-trades", DataTable)
        table.clear(columns=True)
        table.add_columns(*TRADE_HEADERS)
        for row, sign in zip(report.trades, report.trade_signs, strict=True):
            cells = [Text(value) for value in row]
            if sign:
                cells[PNL_COLUMN].stylize(colors.profit if sign > 0 else colors.loss)
            table.add_row(*cells)

    def _show_chart(self, event: BacktestFinished, report: BacktestReport) -> None:
        chart = self.query_one("#bt-chart", CandleChart)
        chart.update_data(
            report.candles, symbol=event.symbol, timeframe=event.timeframe,
            timeframe_ms=timeframe_ms(event.timeframe),
            colors=getattr(self.app, "market_colors", None),
        )
        chart.update_marks(signals=(), fills=report.fills, positions=(), orders=())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug in a worker (not a user error: those come back as messages) is shown here too;
        the app's handler also notifies it."""
        if event.state is WorkerState.ERROR and str(event.worker.group).startswith("bt-"):
            self.query_one("#bt-progress", ProgressBar).display = False
            error = event.worker.error
            self._status(f"{event.worker.group[3:]} failed: {type(error).__name__}: {error}",
                         error=True)
