"""The journal screen (``j``): closed trades, fills, signals, orders and the statistics, read
from the journal file in a worker thread (the UI never waits on the disk).

The tables are the ``tradeterm journal`` views (``journal/views.py``: the same columns and money
display as the CLI), their newest :data:`ROWS_SHOWN` rows read newest first by index and counted
by SQLite, so opening the screen costs the same on a million trades as on ten. The statistics,
which read every trade (streamed, constant memory), follow in the same worker once the first
page is shown. ``r`` reads the file again; escape returns to the main screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from tradeterm.journal.views import TEXT_COLUMNS
from tradeterm.ui.themes import TradingColors

ROWS_SHOWN = 500
"""Rows per table (the newest, read newest first by index): never the whole table."""

TABS = ("trades", "fills", "signals", "orders", "stats")
_MONEY_COLUMNS = {"pnl", "net pnl", "R", "exp. R", "expectancy"}
"""Columns coloured by sign (profit / loss colours of the theme)."""

Rows = list[list[str]]


@dataclass(frozen=True, slots=True)
class JournalTables:
    """What the screen shows: per tab, headers, the rows shown (newest first) and the total."""

    tables: dict[str, tuple[list[str], Rows, int | None]]


FIRST = ("trades",)
"""The tab the screen opens on: its page is read first; the other tabs follow."""


def read_journal(
    path: Path, limit: int = ROWS_SHOWN, *, tabs: tuple[str, ...] = FIRST,
    counted: bool = False,
) -> JournalTables | str:
    """The first page of the ``tabs`` tables (the newest ``limit`` rows; with ``counted``, how
    many there are: counting walks an index, a tenth of a second on millions of rows), or a
    message saying why there is none. The statistics come separately (:func:`read_stats`).
    Blocking (SQLite): call it in a thread."""
    from tradeterm.journal.files import JournalError
    from tradeterm.journal.markets import MarketDisplay
    from tradeterm.journal.reader import JournalReader
    from tradeterm.journal.views import PAGED

    if not path.is_file():
        return f"No journal at {path} yet: it is created when tradeterm first trades."
    tables: dict[str, tuple[list[str], Rows, int | None]] = {}
    try:
        with JournalReader(path) as reader:
            markets = MarketDisplay(reader)
            for name in tabs:
                view = PAGED[name]
                rows = reader.rows(view.table, newest_first=True, limit=limit)
                shown = [view.cells(row, markets)[1] for row in rows]
                total = reader.count(view.table) if counted or len(shown) < limit else None
                tables[name] = (view.headers, shown, total)
    except JournalError as exc:
        return str(exc)
    return JournalTables(tables)


def read_stats(path: Path) -> tuple[list[str], Rows] | str:
    """The statistics tab (overall, by strategy, by UTC day), streamed over every trade."""
    from tradeterm.journal.files import JournalError
    from tradeterm.journal.reader import JournalReader
    from tradeterm.journal.views import STATS_HEADERS, grouped_stats_cells

    try:
        with JournalReader(path) as reader:
            cells = grouped_stats_cells(reader.stats(), reader.account_quote())
    except JournalError as exc:
        return str(exc)
    return STATS_HEADERS, [shown for _, shown in cells]


def _signed(value: str) -> Decimal | None:
    try:
        return Decimal(value) if value not in ("", "inf") else None
    except InvalidOperation:
        return None


def cell(header: str, value: str, colors: TradingColors) -> Text:
    """A table cell: numbers right-aligned, money and R coloured by their sign."""
    if header in TEXT_COLUMNS:
        return Text(value)
    style = ""
    number = _signed(value)
    if header in _MONEY_COLUMNS and number is not None and number != 0:
        style = colors.profit if number > 0 else colors.loss
    return Text(value, style=style, justify="right")


class HistoryScreen(Screen[None]):
    """See the module docstring."""

    DEFAULT_CSS = """
    HistoryScreen #history-title { height: 1; text-style: bold; color: $accent; padding: 0 1; }
    HistoryScreen #history-message { height: auto; padding: 1 2; color: $text-muted; }
    HistoryScreen TabbedContent { height: 1fr; }
    HistoryScreen DataTable { height: 1fr; }
    HistoryScreen .tab-note { height: 1; color: $text-muted; padding: 0 1; }
    """

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("r", "reload", "Refresh"),
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
        """The worker streamed the statistics (after the first page was shown)."""

        def __init__(self, result: tuple[list[str], Rows] | str) -> None:
            super().__init__()
            self.result = result

    def __init__(self, journal_path: Path) -> None:
        super().__init__()
        self.journal_path = journal_path

    def compose(self) -> ComposeResult:
        yield Static(f"Journal · {self.journal_path}", id="history-title")
        yield Static("reading the journal…", id="history-message")
        with TabbedContent(id="history-tabs"):
            for name in TABS:
                with TabPane(name.capitalize(), id=f"tab-{name}"):
                    yield Static("", id=f"note-{name}", classes="tab-note")
                    yield DataTable(id=f"table-{name}", zebra_stripes=True, cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(TabbedContent).display = False
        self.action_reload()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        """Read the journal again (in a thread)."""
        self.query_one("#history-message", Static).update("reading the journal…")
        self._read()

    @work(thread=True, exclusive=True, exit_on_error=False, group="journal")
    def _read(self) -> None:
        first = read_journal(self.journal_path)  # the tab shown: at once
        self.post_message(self.Loaded(first))
        if isinstance(first, str):
            return
        others = tuple(name for name in TABS[:-1] if name not in FIRST)
        self.post_message(self.Loaded(read_journal(self.journal_path, tabs=others,
                                                   counted=True)))
        if any(total is None for _, _, total in first.tables.values()):
            counted = read_journal(self.journal_path, tabs=FIRST, limit=0, counted=True)
            if not isinstance(counted, str):
                self.post_message(self.Counted({
                    name: (len(first.tables[name][1]), total)
                    for name, (_, _, total) in counted.tables.items()}))
        self.post_message(self.StatsLoaded(read_stats(self.journal_path)))

    def on_history_screen_loaded(self, message: Loaded) -> None:
        result = message.result
        message_box = self.query_one("#history-message", Static)
        tabs = self.query_one(TabbedContent)
        if isinstance(result, str):
            message_box.update(result)
            message_box.display, tabs.display = True, False
            return
        message_box.display, tabs.display = False, True
        colors = getattr(self.app, "market_colors", TradingColors())
        for name, (headers, rows, total) in result.tables.items():
            self._fill(name, headers, rows, colors)
            self._note(name, len(rows), total)
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
        self.query_one(f"#note-{name}", Static).update(note)

    def on_history_screen_stats_loaded(self, message: StatsLoaded) -> None:
        note = self.query_one("#note-stats", Static)
        if isinstance(message.result, str):
            note.update(message.result)
            return
        headers, rows = message.result
        self._fill("stats", headers, rows, getattr(self.app, "market_colors", TradingColors()))
        note.update("overall, by strategy, by UTC day" if len(rows) > 1 else "no trades yet")

    def _fill(self, name: str, headers: list[str], rows: Rows, colors: TradingColors) -> None:
        table = self.query_one(f"#table-{name}", DataTable)
        table.clear(columns=True)
        table.add_columns(*headers)
        table.add_rows([cell(h, v, colors) for h, v in zip(headers, row, strict=True)]
                       for row in rows)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug while reading is shown here too (the app's handler also notifies it)."""
        if event.worker.group == "journal" and event.state is WorkerState.ERROR:
            error = event.worker.error
            box = self.query_one("#history-message", Static)
            box.update(f"cannot read the journal: {type(error).__name__}: {error}")
            box.display = True
