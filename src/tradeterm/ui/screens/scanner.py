"""The market scanner (``m``, or "Screen: Scanner" in the palette): every market the venue
lists, sorted by 24 h change, quote volume or volatility (the day's range over the price).

The rows are the engine's answer to ``market.scan`` (``service/market_requests.py``: exact
decimal strings, sorted there), asked when the screen opens and every :data:`REFRESH_S` while it
stays open; the engine fetches the venue's tickers at most every 15 s and only while a screen
asks, so a closed scanner costs nothing. ``c`` / ``v`` / ``r`` sort, ``u`` switches between the
chart's quote currency and every market, ``enter`` opens the symbol on the chart, ``a`` adds it
to the watchlist (the engine's ``AddToWatchlist``: every screen's watchlist, and the config
file), escape returns.
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
from textual.widgets import DataTable, Static

from tradeterm.ui.footer import FittedFooter
from tradeterm.core.commands import AddToWatchlist, Command, SwitchSymbol
from tradeterm.core.display import fmt_compact, fmt_pct, fmt_price
from tradeterm.core.scan import quote_of

if TYPE_CHECKING:
    from tradeterm.ui.app import EngineLike

REFRESH_S = 15.0
"""Seconds between two scans while the screen is open (the engine's tickers are as old)."""
WATCH_EVERY_S = 0.25
"""How often the screen compares the engine's watchlist with its stars (a tuple compare)."""

SORTS = {"change": "24h change", "volume": "quote volume", "volatility": "volatility"}
COLUMNS = ("", "Symbol", "Last", "24h %", "Volume", "Range %")
_SORTED_COLUMN = {"change": "24h %", "volume": "Volume", "volatility": "Range %"}


@dataclass(frozen=True, slots=True)
class Row:
    """One market as the engine answered it (exact decimals, None where the venue gave none)."""

    symbol: str
    last: Decimal
    change_pct: Decimal | None
    quote_volume: Decimal | None
    volatility: Decimal | None


def _dec(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def rows_of(body: dict[str, Any]) -> list[Row]:
    """The answer's rows, in the engine's order."""
    out = []
    for raw in body.get("rows", ()):
        last = _dec(raw.get("last"))
        if last is None:
            continue
        out.append(Row(str(raw["symbol"]), last, _dec(raw.get("change_pct")),
                       _dec(raw.get("quote_volume")), _dec(raw.get("volatility"))))
    return out


class ScannerScreen(Screen[None]):
    """See the module docstring."""

    DEFAULT_CSS = """
    ScannerScreen #scanner-title { height: 1; text-style: bold; color: $accent; padding: 0 1; }
    ScannerScreen #scanner-status { height: 1; color: $text-muted; padding: 0 1; }
    ScannerScreen DataTable { height: 1fr; }
    """

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("c", "sort('change')", "By change"),
        Binding("v", "sort('volume')", "By volume"),
        Binding("r", "sort('volatility')", "By volatility"),
        Binding("u", "toggle_quote", "Quote / all"),
        Binding("enter", "open", "Open on chart", priority=True),
        Binding("a,w", "add", "Add to watchlist"),
    ]

    class Scanned(Message):
        """The engine answered a scan (rows), or could not (a message why)."""

        def __init__(self, result: list[Row] | str, markets: int = 0) -> None:
            super().__init__()
            self.result = result
            self.markets = markets

    def __init__(self, engine: EngineLike | None, sort: str = "change") -> None:
        super().__init__()
        self.engine = engine
        self.sort = sort
        self.rows: list[Row] = []
        snap = engine.snapshot() if engine is not None else None
        self.quote: str | None = quote_of(snap.symbol) if snap is not None else None
        self._watched: tuple[str, ...] = snap.symbols if snap is not None else ()

    def compose(self) -> ComposeResult:
        yield Static("Markets", id="scanner-title")
        yield Static("asking the engine for the venue's markets…", id="scanner-status")
        table: DataTable[str | Text] = DataTable(id="scanner-table", cursor_type="row",
                                                 zebra_stripes=True)
        yield table
        yield FittedFooter()  # its own keys first, each whole

    def on_mount(self) -> None:
        self._table.add_columns(*COLUMNS)
        self.scan()
        self.set_interval(REFRESH_S, self.scan, name="scanner-refresh")
        self.set_interval(WATCH_EVERY_S, self._follow_watchlist, name="scanner-watchlist")

    @property
    def _table(self) -> DataTable[str | Text]:
        return self.query_one("#scanner-table", DataTable)

    # -- asking ------------------------------------------------------------------------------

    def scan(self) -> None:
        """Ask the engine for the rows in the current sort and quote."""
        self._ask(self.sort, self.quote)

    @work(exclusive=True, exit_on_error=False, group="scanner")
    async def _ask(self, sort: str, quote: str | None) -> None:
        from tradeterm.wire.remote import AttachError, RequestFailed

        engine = self.engine
        if engine is None:
            self.post_message(self.Scanned("the engine has not started yet"))
            return
        args: dict[str, Any] = {"sort": sort}
        if quote:
            args["quote"] = quote
        try:
            body = await engine.ask("market.scan", args)
        except (RequestFailed, AttachError, TimeoutError) as exc:
            self.post_message(self.Scanned(f"the engine could not scan: {exc}"))
            return
        self.post_message(self.Scanned(rows_of(body), int(body.get("markets", 0))))

    def on_scanner_screen_scanned(self, message: Scanned) -> None:
        status = self.query_one("#scanner-status", Static)
        if isinstance(message.result, str):
            status.update(message.result)
            return
        self.rows = message.result
        self._fill()
        where = f"quoted in {self.quote}" if self.quote else "every quote"
        status.update(
            f"{len(self.rows)} of {message.markets} markets ({where}) by {SORTS[self.sort]} · "
            "c v r sort · u quote/all · enter chart · a watchlist · escape back")

    # -- the table ---------------------------------------------------------------------------

    def _fill(self) -> None:
        table = self._table
        keep = self.selected_symbol()
        snap = self.engine.snapshot() if self.engine is not None else None
        watched = set(snap.symbols) if snap is not None else set()
        colors = getattr(self.app, "market_colors", None)
        up = getattr(colors, "profit", "green")
        down = getattr(colors, "loss", "red")
        table.clear(columns=True)
        sorted_by = _SORTED_COLUMN[self.sort]
        table.add_columns(*(f"{c} ▼" if c == sorted_by else c for c in COLUMNS))
        for row in self.rows:
            precision = snap.precision(row.symbol) if snap is not None else None
            change = row.change_pct
            style = "" if change is None or change == 0 else up if change > 0 else down
            table.add_row(
                "★" if row.symbol in watched else "",
                row.symbol,
                Text(fmt_price(row.last, precision.tick if precision else None),
                     justify="right"),
                Text(f"{fmt_pct(change, signed=True)}%" if change is not None else "-",
                     style=style, justify="right"),
                Text(fmt_compact(row.quote_volume), justify="right"),
                Text(f"{fmt_pct(row.volatility * 100)}%" if row.volatility is not None else "-",
                     justify="right"),
                key=row.symbol,
            )
        if keep is not None and keep in {r.symbol for r in self.rows}:
            table.move_cursor(row=table.get_row_index(keep), animate=False)

    def selected_symbol(self) -> str | None:
        table = self._table
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None

    def _follow_watchlist(self) -> None:
        """The engine's watchlist changed (here or on any screen): the stars follow at once,
        without a new scan."""
        snap = self.engine.snapshot() if self.engine is not None else None
        watched = snap.symbols if snap is not None else ()
        if watched != self._watched:
            self._watched = watched
            if self.rows:
                self._fill()

    # -- actions -------------------------------------------------------------------------------

    def action_sort(self, sort: str) -> None:
        if sort in SORTS and sort != self.sort:
            self.sort = sort
            self.scan()

    def action_toggle_quote(self) -> None:
        snap = self.engine.snapshot() if self.engine is not None else None
        self.quote = None if self.quote else (quote_of(snap.symbol) if snap else None)
        self.scan()

    def _send(self, command: Command) -> None:
        if self.engine is not None:
            self.engine.submit(command)

    def action_open(self) -> None:
        """The highlighted symbol on the chart (the main screen)."""
        symbol = self.selected_symbol()
        if symbol is not None:
            self._send(SwitchSymbol(symbol))
            self.dismiss(None)

    def action_add(self) -> None:
        """Add the highlighted symbol to the watchlist (the engine's; saved to the config)."""
        symbol = self.selected_symbol()
        if symbol is None:
            return
        snap = self.engine.snapshot() if self.engine is not None else None
        if snap is not None and symbol in snap.symbols:
            self.app.notify(f"{symbol} is already in the watchlist", timeout=3)
            return
        self._send(AddToWatchlist(symbol))

    def action_close(self) -> None:
        self.dismiss(None)
