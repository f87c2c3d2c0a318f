"""The backtest screen (``t``): choose strategy, symbol, timeframe, range and parameters; run on
the candles ``tradeterm download`` stored; see the metrics, the equity curve, the trades and
the trades drawn on a candle chart.

Everything slow happens in thread workers (loading the strategies imports polars and TA-Lib;
reading candles and running are disk and CPU): the screen only posts the form and shows what
comes back. The run itself is :func:`backtest_job.run_job`, the CLI's path; the tables are
``backtest/report.py``'s, so screen and terminal report agree. Errors the user can fix (no
data, a parameter out of range, a bad date) are shown in the screen, never as a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

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
    Footer,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, WorkerState, get_current_worker

from tradeterm.config import Settings
from tradeterm.core.models import TIMEFRAME_MS, timeframe_ms
from tradeterm.ui.screens.backtest_job import (
    BacktestOutcome,
    BacktestRequest,
    JobError,
    data_source,
    pnl_sign,
    run_isolated,
)
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.chart import CandleChart

if TYPE_CHECKING:
    from tradeterm.strategy.api import ParamSpec
    from tradeterm.strategy.loader import LoadedStrategy

STAGES = 4  # starting the process, loading candles, running, metrics (run_isolated, run_job)
TRADE_COLUMNS = ("side", "entry_time", "entry_price", "exit_time", "exit_price", "exit_reason",
                 "quantity", "pnl", "r_multiple")
TRADE_HEADERS = ("side", "entry (UTC)", "price", "exit (UTC)", "price", "why", "qty", "PnL", "R")


def _bounds(spec: ParamSpec) -> str:
    low = spec.ge if spec.ge is not None else spec.gt
    high = spec.le if spec.le is not None else spec.lt
    if low is None and high is None:
        return ""
    return f" ({'' if low is None else low}..{'' if high is None else high})"


def _input_type(spec: ParamSpec) -> Literal["integer", "number", "text"]:
    kinds: dict[type, Literal["integer", "number"]] = {int: "integer", float: "number"}
    return kinds.get(spec.type, "text")


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
    ]

    class StrategiesLoaded(Message):
        def __init__(self, strategies: dict[str, LoadedStrategy], errors: list[str]) -> None:
            super().__init__()
            self.strategies, self.errors = strategies, errors

    class DataChecked(Message):
        def __init__(self, stored: bool, text: str) -> None:
            super().__init__()
            self.stored, self.text = stored, text

    class Progressed(Message):
        def __init__(self, stage: str) -> None:
            super().__init__()
            self.stage = stage

    class Finished(Message):
        """A run ended: its outcome, or the message saying why it could not run."""

        def __init__(self, outcome: BacktestOutcome | str) -> None:
            super().__init__()
            self.outcome = outcome

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.strategies: dict[str, LoadedStrategy] = {}
        self.outcome: BacktestOutcome | None = None

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("Backtest · the paper broker's fill rules on stored candles", id="bt-title")
        with Horizontal():
            with VerticalScroll(id="bt-form"):
                yield Label("Strategy")
                yield Select([], prompt="loading strategies…", id="bt-strategy")
                yield Label("Symbol")
                yield Input(self.settings.symbols[0], id="bt-symbol")
                yield Label("Timeframe")
                yield Select([(tf, tf) for tf in TIMEFRAME_MS], value=self.settings.timeframe,
                             allow_blank=False, id="bt-timeframe")
                yield Label("From (YYYY-MM-DD, UTC; empty: all)")
                yield Input(placeholder="first day", id="bt-from")
                yield Label("To (included)")
                yield Input(placeholder="last day", id="bt-to")
                yield Static("", id="bt-data")
                yield Vertical(id="bt-params")
                yield Button("Run  (ctrl+r)", id="bt-run", variant="primary")
            with Vertical(id="bt-results"):
                yield Static("choose a strategy and press Run", id="bt-status")
                yield ProgressBar(total=STAGES, show_eta=False, id="bt-progress")
                with TabbedContent(id="bt-tabs"):
                    with TabPane("Metrics", id="tab-metrics"):
                        yield VerticalScroll(Static("", id="bt-metrics"))
                    with TabPane("Equity", id="tab-equity"):
                        yield Static("", id="bt-equity")
                    with TabPane("Trades", id="tab-trades"):
                        yield DataTable(id="bt-trades", zebra_stripes=True, cursor_type="row")
                    with TabPane("Chart", id="tab-chart"):
                        yield CandleChart(id="bt-chart")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#bt-progress").display = False
        self._load_strategies()
        self._source_changed()

    # -- workers --------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="bt-strategies")
    def _load_strategies(self) -> None:
        from tradeterm.strategy.loader import load_directory

        loaded = load_directory(self.settings.strategies.dir)
        self.post_message(self.StrategiesLoaded(loaded.strategies,
                                                [str(e) for e in loaded.errors]))

    @work(thread=True, exclusive=True, exit_on_error=False, group="bt-data")
    def _check_data(self, symbol: str, timeframe: str) -> None:
        self.post_message(self.DataChecked(*data_source(self.settings, symbol, timeframe)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="bt-run")
    def _run(self, loaded: LoadedStrategy, request: BacktestRequest) -> None:
        worker = get_current_worker()
        try:
            outcome: BacktestOutcome | str = run_isolated(
                self.settings, loaded, request,
                lambda stage: self.post_message(self.Progressed(stage)),
                lambda: worker.is_cancelled,
            )
        except JobError as exc:
            if worker.is_cancelled:  # a newer run (or leaving the screen) replaced this one
                return
            outcome = str(exc)
        self.post_message(self.Finished(outcome))

    # -- the form -------------------------------------------------------------------------------

    def _symbol(self) -> str:
        return self.query_one("#bt-symbol", Input).value.strip().upper()

    def _timeframe(self) -> str:
        return str(self.query_one("#bt-timeframe", Select).value)

    def on_backtest_screen_strategies_loaded(self, message: StrategiesLoaded) -> None:
        self.strategies = message.strategies
        select = self.query_one("#bt-strategy", Select)
        select.set_options([(name, name) for name in sorted(self.strategies)])
        select.prompt = "choose a strategy" if self.strategies else "no strategies found"
        if message.errors:
            self._status("; ".join(message.errors), error=True)
        if self.strategies:
            first = "ema_cross" if "ema_cross" in self.strategies else min(self.strategies)
            select.value = first

    @on(Select.Changed, "#bt-strategy")
    async def _strategy_chosen(self, event: Select.Changed) -> None:
        loaded = self.strategies.get(str(event.value))
        if loaded is None:
            return
        self.query_one("#bt-timeframe", Select).value = loaded.cls.timeframe
        box = self.query_one("#bt-params", Vertical)
        await box.remove_children()
        widgets: list[Any] = [Label("Parameters")] if loaded.cls.param_space() else []
        for name, spec in loaded.cls.param_space().items():
            widgets.append(Label(f"{name}{_bounds(spec)}"))
            widgets.append(Input(str(spec.default), type=_input_type(spec), id=f"param-{name}",
                                 tooltip=spec.description, classes="bt-param"))
        await box.mount_all(widgets)

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
    def _submit(self) -> None:
        self.action_run()

    def _request(self) -> tuple[LoadedStrategy, BacktestRequest] | str:
        name = self.query_one("#bt-strategy", Select).value
        loaded = self.strategies.get(str(name))
        if loaded is None:
            return "choose a strategy first"
        symbol = self._symbol()
        if not symbol:
            return "enter a symbol, e.g. BTC/USDT"
        params = tuple(
            (str(i.id).removeprefix("param-"), i.value.strip())
            for i in self.query(".bt-param").results(Input) if i.value.strip()
        )
        return loaded, BacktestRequest(
            loaded.name, symbol, self._timeframe(),
            self.query_one("#bt-from", Input).value.strip() or None,
            self.query_one("#bt-to", Input).value.strip() or None,
            params,
        )

    def action_run(self) -> None:
        """Run the chosen backtest in a thread."""
        if any(w.group == "bt-run" and w.is_running for w in self.workers):
            return
        request = self._request()
        if isinstance(request, str):
            self._status(request, error=True)
            return
        progress = self.query_one("#bt-progress", ProgressBar)
        progress.update(progress=0)
        progress.display = True
        self._status(f"running {request[1].strategy}…")
        self._run(*request)

    def action_close(self) -> None:
        self.dismiss(None)

    # -- results --------------------------------------------------------------------------------

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#bt-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    def on_backtest_screen_progressed(self, message: Progressed) -> None:
        self.query_one("#bt-progress", ProgressBar).advance(1)
        self._status(f"{message.stage}…")

    def on_backtest_screen_finished(self, message: Finished) -> None:
        self.query_one("#bt-progress", ProgressBar).display = False
        if isinstance(message.outcome, str):
            self._status(message.outcome, error=True)
            return
        self.outcome = outcome = message.outcome
        result = outcome.result
        self._status(f"{result.strategy} on {result.symbol} {result.timeframe}: "
                     f"{len(result.trades)} trades over {outcome.metrics.bars:,} bars")
        self._show_metrics(outcome)
        self._show_equity(outcome)
        self._show_trades(outcome)
        self._show_chart(outcome)

    def _show_metrics(self, outcome: BacktestOutcome) -> None:
        from tradeterm.backtest.report import summary_table

        self.query_one("#bt-metrics", Static).update(summary_table(outcome.result,
                                                                   outcome.metrics))

    def _show_equity(self, outcome: BacktestOutcome) -> None:
        from tradeterm.backtest.report import chart

        box = self.query_one("#bt-equity", Static)
        equity = outcome.result.equity
        if equity.size < 2:
            box.update("not enough bars for an equity curve")
            return
        width = max(40, self.query_one("#bt-results").size.width - 4)
        height = max(12, self.query_one("#bt-results").size.height - 6)
        # plain: plotext's own colours (a white background) would fight the theme's
        box.update(Text(Text.from_ansi(chart(equity, width=width, height=height)).plain))

    def _show_trades(self, outcome: BacktestOutcome) -> None:
        from tradeterm.backtest.report import display_row, market_format, trade_rows

        colors = getattr(self.app, "market_colors", TradingColors())
        table = self.query_one("#bt-trades", DataTable)
        table.clear(columns=True)
        table.add_columns(*TRADE_HEADERS)
        fmt = market_format(outcome.result)
        for row in trade_rows(outcome.result):
            shown = display_row(row, fmt)  # the policy's decimals; exact values stay in CSV/JSON
            cells = [Text(shown[c]) for c in TRADE_COLUMNS]
            sign = pnl_sign(row["pnl"])
            if sign:
                cells[TRADE_COLUMNS.index("pnl")].stylize(colors.profit if sign > 0
                                                          else colors.loss)
            table.add_row(*cells)

    def _show_chart(self, outcome: BacktestOutcome) -> None:
        result = outcome.result
        chart = self.query_one("#bt-chart", CandleChart)
        chart.update_data(
            outcome.candles, symbol=result.symbol, timeframe=result.timeframe,
            timeframe_ms=timeframe_ms(result.timeframe),
            colors=getattr(self.app, "market_colors", None),
        )
        chart.update_marks(signals=(), fills=outcome.fills, positions=(), orders=())

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug in a worker (not a user error: those come back as messages) is shown here too;
        the app's handler also notifies it."""
        if event.state is WorkerState.ERROR and str(event.worker.group).startswith("bt-"):
            self.query_one("#bt-progress", ProgressBar).display = False
            error = event.worker.error
            self._status(f"{event.worker.group[3:]} failed: {type(error).__name__}: {error}",
                         error=True)
