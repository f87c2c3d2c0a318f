"""The journal screen (``j``): closed trades, fills, signals, orders and the statistics, read
from the journal file in a worker thread (the UI never waits on the disk).

The tables are the ``tradeterm journal`` views (``journal/cli.py``: the same columns as the CLI
and its CSV), newest first and cut to :data:`ROWS_SHOWN`; fills, which the CLI has no view for,
get one here. ``r`` reads the file again; escape returns to the main screen.
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

from tradeterm.ui.fmt import fmt_decimal
from tradeterm.ui.themes import TradingColors

ROWS_SHOWN = 500
"""Rows per table (the newest): a DataTable of a year of fills would cost seconds to build."""

TABS = ("trades", "fills", "signals", "orders", "stats")
_MONEY_COLUMNS = {"pnl", "net pnl", "R", "exp. R", "expectancy"}
_ROUNDED = _MONEY_COLUMNS | {"fees", "fee"}  # shown to the cent (or two significant digits)
"""Columns coloured by sign (profit / loss colours of the theme)."""
_TEXT_COLUMNS = {"closed (UTC)", "time (UTC)", "updated (UTC)", "id", "order", "symbol", "side",
                 "type", "status", "strategy", "reason", "tf", "kind", "group", "name",
                 "liquidity"}

Table = tuple[list[str], list[list[str]]]


@dataclass(frozen=True, slots=True)
class JournalTables:
    """What the screen shows: per tab, headers, the rows shown (newest first) and the total."""

    tables: dict[str, tuple[list[str], list[list[str]], int]]


def fills_view(reader: object, since: int | None, strategy: str | None) -> Table:
    """Executions, in the shape of the CLI's views."""
    from tradeterm.journal.cli import _when

    headers = ["time (UTC)", "symbol", "side", "qty", "price", "fee", "liquidity", "strategy",
               "order"]
    rows = [[_when(f.timestamp), f.symbol, f.side, str(f.quantity), str(f.price), str(f.fee),
             f.liquidity.value, f.strategy or "manual", f.order_id]
            for f in reader.fills(since, strategy)]  # type: ignore[attr-defined]
    return headers, rows


def read_journal(path: Path, limit: int = ROWS_SHOWN) -> JournalTables | str:
    """Every tab's table from the journal at ``path``, or a message saying why there is none.
    Blocking (SQLite): call it in a worker thread."""
    from tradeterm.journal.cli import orders_view, signals_view, stats_view, trades_view
    from tradeterm.journal.files import JournalError
    from tradeterm.journal.reader import JournalReader

    if not path.is_file():
        return f"No journal at {path} yet: it is created when tradeterm first trades."
    views = {"trades": trades_view, "fills": fills_view, "signals": signals_view,
             "orders": orders_view, "stats": stats_view}
    tables: dict[str, tuple[list[str], list[list[str]], int]] = {}
    try:
        with JournalReader(path) as reader:
            for name, view in views.items():
                headers, rows = view(reader, None, None)
                shown = rows if name == "stats" else rows[::-1][:limit]
                tables[name] = (headers, shown, len(rows))
    except JournalError as exc:
        return str(exc)
    return JournalTables(tables)


def _signed(value: str) -> Decimal | None:
    try:
        return Decimal(value) if value not in ("", "inf") else None
    except InvalidOperation:
        return None


def cell(header: str, value: str, colors: TradingColors) -> Text:
    """A table cell: numbers right-aligned, money and R coloured by their sign."""
    if header in _TEXT_COLUMNS:
        return Text(value)
    style = ""
    number = _signed(value)
    if header in _MONEY_COLUMNS and number is not None and number != 0:
        style = colors.profit if number > 0 else colors.loss
    if header in _ROUNDED and number is not None:  # exact in the file and in `journal --csv`
        value = fmt_decimal(number)
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
        self.post_message(self.Loaded(read_journal(self.journal_path)))

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
            table = self.query_one(f"#table-{name}", DataTable)
            table.clear(columns=True)
            table.add_columns(*headers)
            table.add_rows([cell(h, v, colors) for h, v in zip(headers, row, strict=True)]
                           for row in rows)
            note = f"{total} {name}" if name != "stats" else "overall, by strategy, by UTC day"
            if total > len(rows) and name != "stats":
                note = f"newest {len(rows)} of {total} {name}"
            elif not total:
                note = f"no {name} yet"
            self.query_one(f"#note-{name}", Static).update(note)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug while reading is shown here too (the app's handler also notifies it)."""
        if event.worker.group == "journal" and event.state is WorkerState.ERROR:
            error = event.worker.error
            box = self.query_one("#history-message", Static)
            box.update(f"cannot read the journal: {type(error).__name__}: {error}")
            box.display = True
