"""The journal screen (``j``): closed trades, fills, signals, orders and the statistics, asked
of the engine (requests ``journal.page`` and ``journal.stats``, ``service/journal_requests.py``),
in-process or attached alike: the screen never opens the journal file, and the engine reads it
in a thread (neither waits on the disk).

The tables are the ``tradeterm journal`` views (the same columns and money display as the CLI),
their newest :data:`ROWS_SHOWN` rows read newest first by index and counted by SQLite, so
opening the screen costs the same on a million trades as on ten. The statistics, which read
every trade (streamed, constant memory), are asked once the first page is shown. ``r`` asks
again; escape returns to the main screen.

Above the tables, the equity curve and the daily PnL (``journal.curve``, drawn by plotext in
``journal_charts.py``). ``f`` opens the filter (symbol, strategy, from, to): it travels as
every request's arguments, so the tables, the statistics and the charts all follow it; ``x``
clears it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from tradeterm.ui.footer import FittedFooter
from tradeterm.ui.screens.journal_charts import (
    CurveData, curve_of, daily_chart, describe, equity_chart, filter_text, parse_filter,
)
from tradeterm.ui.screens.journal_trades import TITLES, compact_trades
from tradeterm.ui.themes import TradingColors

if TYPE_CHECKING:
    from tradeterm.ui.app import EngineLike

ROWS_SHOWN = 500
"""Rows per table (the newest, read newest first by index): never the whole table."""

TABS = ("trades", "fills", "signals", "orders", "stats")
_MONEY_COLUMNS = {"pnl", "net pnl", "R", "exp. R", "expectancy"}
"""Columns coloured by sign (profit / loss colours of the theme)."""

Rows = list[list[str]]


@dataclass(frozen=True, slots=True)
class Table:
    """One tab as the engine answered it: headers, rows shown (newest first), the total (None:
    not counted yet) and the left-aligned (text) columns."""

    headers: list[str]
    rows: Rows
    total: int | None
    text: frozenset[str]


@dataclass(frozen=True, slots=True)
class JournalTables:
    """What the screen shows: the tables by tab."""

    tables: dict[str, Table]
    journal: str = ""  # the engine's journal file


FIRST = ("trades",)
"""The tab the screen opens on: its page is asked first; the other tabs follow."""


def _table(body: dict[str, Any]) -> Table:
    return Table([str(h) for h in body["headers"]], [[str(c) for c in r] for r in body["rows"]],
                 body.get("total"), frozenset(body.get("text", ())))


async def ask_pages(engine: EngineLike, tabs: tuple[str, ...] = FIRST, limit: int = ROWS_SHOWN,
                    counted: bool = False, flt: dict[str, str] | None = None,
                    ) -> JournalTables | str:
    """The first page of the ``tabs`` tables (the newest ``limit`` rows; with ``counted``, how
    many there are) that ``flt`` keeps, or a message saying why there is none."""
    body = await engine.ask("journal.page", {"tabs": list(tabs), "limit": limit,
                                             "counted": counted, **(flt or {})})
    if "message" in body:
        return str(body["message"])
    return JournalTables({name: _table(t) for name, t in body["tables"].items()},
                         str(body.get("journal", "")))


async def ask_stats(engine: EngineLike, flt: dict[str, str] | None = None) -> Table | str:
    """The statistics tab (overall, by strategy, by UTC day), or why there are none."""
    body = await engine.ask("journal.stats", dict(flt or {}))
    if "message" in body:
        return str(body["message"])
    return _table({**body, "total": len(body["rows"])})


async def ask_curve(engine: EngineLike, width: int,
                    flt: dict[str, str] | None = None) -> CurveData | str:
    """The equity curve (at most ``width`` points) and daily PnL that ``flt`` keeps."""
    body = await engine.ask("journal.curve", {"width": width, **(flt or {})})
    if "message" in body:
        return str(body["message"])
    return curve_of(body)


CHARTS_MIN_ROWS = 30
"""Screen rows below which the chart region (two charts side by side, above the tables, a
third of the height) is hidden: the tables need the rows more."""


def _signed(value: str) -> Decimal | None:
    try:
        return Decimal(value) if value not in ("", "inf") else None
    except InvalidOperation:
        return None


GAP = " "
"""What separates two columns: the tables have no cell padding (two spaces between columns,
a seventh of 120 columns on the trades tab) and every cell and header starts with one space,
as the main screen's panels do."""


def cell(header: str, value: str, colors: TradingColors, text: frozenset[str]) -> Text:
    """A table cell: numbers right-aligned, money and R coloured by their sign."""
    if header in text:
        return Text(GAP + value)
    style = ""
    number = _signed(value)
    if header in _MONEY_COLUMNS and number is not None and number != 0:
        style = colors.profit if number > 0 else colors.loss
    return Text(GAP + value, style=style, justify="right")


class HistoryScreen(Screen[None]):
    """See the module docstring."""

    DEFAULT_CSS = """
    HistoryScreen #history-title { height: 1; text-style: bold; color: $accent; padding: 0 1; }
    HistoryScreen #history-message { height: auto; padding: 1 2; color: $text-muted; }
    HistoryScreen TabbedContent { height: 1fr; }
    HistoryScreen DataTable { height: 1fr; scrollbar-size-vertical: 1; }
    HistoryScreen .tab-note { height: 1; color: $text-muted; padding: 0 1; }
    HistoryScreen #journal-filter { height: 1; color: $text-muted; padding: 0 1; }
    HistoryScreen #journal-filter.-active { color: $warning; }
    HistoryScreen #journal-filter-input { display: none; }
    HistoryScreen #journal-charts { height: 35%; min-height: 9; }
    HistoryScreen #journal-equity, HistoryScreen #journal-daily { width: 1fr; padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("r", "reload", "Refresh"),
        Binding("f", "filter", "Filter"),
        Binding("x", "clear_filter", "Clear filter"),
    ]

    class Loaded(Message):
        """The worker read the journal (or found why it cannot)."""

        def __init__(self, result: JournalTables | str) -> None:
            super().__init__()
            self.result = result

    class Counted(Message):
        """How many rows each table has (shown, total), after the first page."""

        def __init__(self, counts: dict[str, tuple[int, int | None]]) -> None:
            super().__init__()
            self.counts = counts

    class StatsLoaded(Message):
        """The engine streamed the statistics (after the first page was shown)."""

        def __init__(self, result: Table | str) -> None:
            super().__init__()
            self.result = result

    class CurveLoaded(Message):
        """The engine answered the charts' data (or why there is none)."""

        def __init__(self, result: CurveData | str) -> None:
            super().__init__()
            self.result = result

    def __init__(self, engine: EngineLike | None) -> None:
        super().__init__()
        self.engine = engine
        self.filter: dict[str, str] = {}
        """The request arguments of the filter in effect (``symbol``, ``strategy``, ``from``,
        ``to``: as typed; the engine reads them)."""
        self._curve: CurveData | None = None
        self._times_note = ""  # the trades tab's: its times are UTC (and in which year)

    def compose(self) -> ComposeResult:
        yield Static("Journal", id="history-title")
        yield Static(describe({}), id="journal-filter")
        yield Input(placeholder="symbol:BTC/USDT strategy:NAME from:2024-05-01 to:2024-05-31",
                    id="journal-filter-input", disabled=True)  # out of the focus chain: hidden
        with Horizontal(id="journal-charts"):
            yield Static("", id="journal-equity")
            yield Static("", id="journal-daily")
        yield Static("asking the engine for the journal…", id="history-message")
        with TabbedContent(id="history-tabs"):
            for name in TABS:
                with TabPane(name.capitalize(), id=f"tab-{name}"):
                    yield Static("", id=f"note-{name}", classes="tab-note")
                    yield DataTable(id=f"table-{name}", zebra_stripes=True, cursor_type="row",
                                    cell_padding=0)  # see GAP
        yield FittedFooter()  # its own keys first, each whole

    def on_mount(self) -> None:
        self.query_one(TabbedContent).display = False
        self._fit_charts()
        self.action_reload()

    def on_resize(self) -> None:
        self._fit_charts()
        self.call_after_refresh(self._draw_charts)  # at the charts' new size

    def _fit_charts(self) -> None:
        """The charts above the tables when the screen has the rows for both."""
        self.query_one("#journal-charts").display = self.size.height >= CHARTS_MIN_ROWS

    def action_close(self) -> None:
        box = self.query_one("#journal-filter-input", Input)
        if box.display:  # escape leaves the filter input first
            self._close_filter_input()
            return
        self.dismiss(None)

    def action_filter(self) -> None:
        """Open the filter input, prefilled with the filter in effect."""
        box = self.query_one("#journal-filter-input", Input)
        box.value = filter_text(self.filter)
        box.display, box.disabled = True, False
        box.focus()

    def action_clear_filter(self) -> None:
        if self.filter:
            self._apply({})

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "journal-filter-input":
            return
        event.stop()
        try:
            flt = parse_filter(event.value)
        except ValueError as exc:
            self.notify(str(exc), severity="warning")
            return
        self._close_filter_input()
        self._apply(flt)

    def _close_filter_input(self) -> None:
        box = self.query_one("#journal-filter-input", Input)
        box.display, box.disabled = False, True
        self.query_one("#table-trades", DataTable).focus()

    def _apply(self, flt: dict[str, str]) -> None:
        self.filter = flt
        line = self.query_one("#journal-filter", Static)
        line.update(describe(flt))
        line.set_class(bool(flt), "-active")
        self.action_reload()

    def action_reload(self) -> None:
        """Ask the engine again."""
        self.query_one("#history-message", Static).update("asking the engine for the journal…")
        self._curve = None  # never a chart of another filter meanwhile
        self.query_one("#journal-equity", Static).update("reading the equity curve…")
        self.query_one("#journal-daily", Static).update("")
        self._read()

    @work(exclusive=True, exit_on_error=False, group="journal")
    async def _read(self) -> None:
        from tradeterm.wire.remote import AttachError, RequestFailed

        engine = self.engine
        if engine is None:
            self.post_message(self.Loaded("the engine has not started yet; press r to retry"))
            return
        try:
            await self._ask_all(engine, dict(self.filter))
        except (RequestFailed, AttachError, TimeoutError) as exc:
            why = str(exc) or type(exc).__name__
            hint = " (x clears the filter)" if self.filter else ""
            self.post_message(self.Loaded(f"the engine could not answer: {why}{hint}"))

    def _chart_points(self) -> int:
        """Equity points worth asking for: one per column of the chart (a few hundred)."""
        width = self.query_one("#journal-equity").size.width or self.size.width // 2
        return max(20, min(1_000, width))

    async def _ask_all(self, engine: EngineLike, flt: dict[str, str]) -> None:
        first = await ask_pages(engine, flt=flt)  # the tab shown: at once
        self.post_message(self.Loaded(first))
        if isinstance(first, str):
            return
        others = tuple(name for name in TABS[:-1] if name not in FIRST)
        self.post_message(self.Loaded(await ask_pages(engine, others, counted=True, flt=flt)))
        if any(t.total is None for t in first.tables.values()):
            counted = await ask_pages(engine, FIRST, limit=0, counted=True, flt=flt)
            if not isinstance(counted, str):
                self.post_message(self.Counted({
                    name: (len(first.tables[name].rows), t.total)
                    for name, t in counted.tables.items()}))
        # the charts read every trade the filter keeps (streamed): after the indexed pages
        self.post_message(self.CurveLoaded(await ask_curve(engine, self._chart_points(), flt)))
        self.post_message(self.StatsLoaded(await ask_stats(engine, flt)))

    def on_history_screen_curve_loaded(self, message: CurveLoaded) -> None:
        if isinstance(message.result, str):
            self._curve = None
            self.query_one("#journal-equity", Static).update(message.result)
            self.query_one("#journal-daily", Static).update("")
            return
        self._curve = message.result
        self._draw_charts()

    def _draw_charts(self) -> None:
        curve = self._curve
        if curve is None or not self.query_one("#journal-charts").display:
            return
        for box_id, draw in (("#journal-equity", equity_chart), ("#journal-daily", daily_chart)):
            box = self.query_one(box_id, Static)
            width = max(30, (box.size.width or self.size.width // 2) - 2)
            rows = self.query_one("#journal-charts").size.height
            height = max(9, rows or self.size.height // 3)
            text = draw(curve, width, height)
            # plain: plotext's own colours (a white background) would fight the theme's
            box.update(Text(Text.from_ansi(text).plain))

    def on_history_screen_loaded(self, message: Loaded) -> None:
        result = message.result
        message_box = self.query_one("#history-message", Static)
        tabs = self.query_one(TabbedContent)
        if isinstance(result, str):
            message_box.update(result)
            message_box.display, tabs.display = True, False
            self._curve = None
            for box_id in ("#journal-equity", "#journal-daily"):
                self.query_one(box_id, Static).update("")
            return
        if result.journal:
            self.query_one("#history-title", Static).update(f"Journal · {result.journal}")
        message_box.display, tabs.display = False, True
        colors = getattr(self.app, "market_colors", TradingColors())
        for name, table in result.tables.items():
            self._fill(name, table, colors)
            self._note(name, len(table.rows), table.total)
        self.query_one("#note-stats", Static).update("computing the statistics…")

    def on_history_screen_counted(self, message: Counted) -> None:
        for name, (shown, total) in message.counts.items():
            self._note(name, shown, total)

    def _note(self, name: str, shown: int, total: int | None) -> None:
        note = f"{total} {name}"
        if total is None:
            note = f"newest {shown} {name} (counting…)"
        elif total > shown:
            note = f"newest {shown} of {total} {name}"
        elif not total:
            note = f"no {name} yet"
        if name == "trades" and total != 0:
            note += self._times_note
        self.query_one(f"#note-{name}", Static).update(note)

    def on_history_screen_stats_loaded(self, message: StatsLoaded) -> None:
        note = self.query_one("#note-stats", Static)
        if isinstance(message.result, str):
            note.update(message.result)
            return
        stats = message.result
        self._fill("stats", stats, getattr(self.app, "market_colors", TradingColors()))
        note.update("overall, by strategy, by UTC day" if len(stats.rows) > 1
                    else "no trades yet")

    def _fill(self, name: str, shown: Table, colors: TradingColors) -> None:
        table = self.query_one(f"#table-{name}", DataTable)
        if name == "trades":  # every column a trader reads per trade within 120 columns
            headers, rows, year = compact_trades(shown.headers, shown.rows)
            self._times_note = f" · times UTC{f', {year}' if year else ''}"
            shown = Table(headers, rows, shown.total, shown.text | set(TITLES.values()))
        table.clear(columns=True)
        for header in shown.headers:
            table.add_column(GAP + header)
        table.add_rows([cell(h, v, colors, shown.text)
                        for h, v in zip(shown.headers, row, strict=True)] for row in shown.rows)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug while reading is shown here too (the app's handler also notifies it)."""
        if event.worker.group == "journal" and event.state is WorkerState.ERROR:
            error = event.worker.error
            box = self.query_one("#history-message", Static)
            box.update(f"cannot read the journal: {type(error).__name__}: {error}")
            box.display = True
