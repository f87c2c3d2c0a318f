"""The watchlist: symbol, last price, 24 h change and a 24 h sparkline for each symbol.

The chart's symbol is marked. Up/down move the cursor while the panel has focus; Enter posts
:class:`Watchlist.Selected`, which the app turns into a ``SwitchSymbol`` command (attributes
down, messages up: the panel never talks to the engine).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message

from tradeterm.core.models import EngineSnapshot
from tradeterm.ui.fmt import fmt_decimals, price_decimals
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.table import Column, CursorTable, fit_columns, signed_style, table_row

SPARK_CHARS = "▁▂▃▄▅▆▇█"

COLUMNS = (
    Column("Symbol", 9, "<"),
    Column("Last", 8),
    Column("24h", 6, priority=1),
    Column("24h line", 5, "<", priority=2, grow=True),
)


def sparkline(values: Sequence[float], cells: int) -> str:
    """``values`` as at most ``cells`` block characters, lowest ▁, highest █ (a flat line is
    drawn mid-height). More values than cells: evenly spaced ones, first and last included."""
    if cells <= 0 or not values:
        return ""
    if cells == 1:
        values = values[-1:]
    elif len(values) > cells:
        last = len(values) - 1
        values = [values[round(i * last / (cells - 1))] for i in range(cells)]
    low, high = min(values), max(values)
    if high == low:
        return SPARK_CHARS[3] * len(values)
    top = len(SPARK_CHARS) - 1
    return "".join(SPARK_CHARS[round((v - low) / (high - low) * top)] for v in values)


def fit_price(price: float, width: int, tick: Decimal | None = None) -> str:
    """The price with as many of its usual decimals (the tick's, when known) as fit ``width``."""
    for decimals in range(price_decimals(price, tick), -1, -1):
        text = fmt_decimals(price, decimals)
        if len(text) <= width:
            return text
    return fmt_decimals(price, 0)


def fmt_change(pct: float) -> str:
    """``+1.23%``; one decimal from 10 % on so it stays six characters."""
    return f"{pct:+.{1 if abs(pct) >= 10 else 2}f}%"


@dataclass(frozen=True, slots=True)
class WatchRow:
    symbol: str
    last: float | None
    change_pct: float | None
    closes: tuple[float, ...]
    tick: Decimal | None = None  # the market's price tick, once known


def watch_rows(snap: EngineSnapshot) -> tuple[WatchRow, ...]:
    """One row per watchlist symbol; the price is the ticker's, else the sparkline's newest."""
    tickers = {t.symbol: t for t in snap.tickers}
    lines = dict(snap.sparklines)
    rows = []
    for symbol in snap.symbols:
        ticker = tickers.get(symbol)
        closes = lines.get(symbol, ())
        last = ticker.last if ticker is not None and ticker.last is not None else None
        if last is None and closes:
            last = closes[-1]
        change = ticker.change_pct if ticker is not None else None
        precision = snap.precision(symbol)
        tick = precision.tick if precision is not None else None
        rows.append(WatchRow(symbol, last, change, closes, tick))
    return tuple(rows)


def render_watchlist(
    rows: Sequence[WatchRow], chart_symbol: str, width: int, colors: TradingColors
) -> list[Text]:
    """One line per symbol; the chart's symbol bold with a ▸ marker."""
    fitted = fit_columns(COLUMNS, width)
    spark_width = next((c.width for i, c in fitted if i == 3), 0)
    lines = []
    for row in rows:
        chart = row.symbol == chart_symbol
        name = ("▸" if chart else " ") + row.symbol
        name_style = Style(color=colors.accent, bold=True) if chart else None
        price = fit_price(row.last, COLUMNS[1].width, row.tick) if row.last is not None else "…"
        change = fmt_change(row.change_pct) if row.change_pct is not None else ""
        change_style = (
            signed_style(row.change_pct, colors.up, colors.down)
            if row.change_pct is not None
            else None
        )
        spark_style = (
            signed_style(row.closes[-1] - row.closes[0], colors.up, colors.down)
            if row.closes
            else None
        ) or Style(color=colors.muted)
        cells = [
            (name, name_style),
            (price, Style(bold=True) if chart else None),
            (change, change_style),
            (sparkline(row.closes, spark_width), spark_style),
        ]
        lines.append(table_row(fitted, cells, width))
    return lines


class Watchlist(CursorTable):
    """The watchlist panel; its height follows the number of symbols."""

    DEFAULT_CSS = """
    Watchlist { height: auto; }
    """
    BINDINGS = [Binding("enter", "select", "Chart this symbol", show=False)]

    class Selected(Message):
        """Enter was pressed on a symbol: the chart should switch to it."""

        def __init__(self, symbol: str) -> None:
            super().__init__()
            self.symbol = symbol

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: tuple[WatchRow, ...] = ()
        self.chart_symbol = ""

    def update_data(self, snap: EngineSnapshot, colors: TradingColors) -> None:
        """Take the engine snapshot; repaint only if this panel's slice changed."""
        rows = watch_rows(snap)
        if (rows, snap.symbol, colors) == (self.rows, self.chart_symbol, self.market_colors):
            return
        recolored = colors != self.market_colors
        resized = len(rows) != len(self.rows)
        moved = snap.symbol != self.chart_symbol
        self.rows, self.market_colors = rows, colors
        self.chart_symbol = snap.symbol
        self.set_keys([row.symbol for row in rows])
        if moved:  # the cursor follows the chart when it switches by other means ([ ])
            self._cursor_key = snap.symbol
        if resized:
            self.refresh(layout=True)
        self.lines_changed(full=recolored)

    def action_select(self) -> None:
        symbol = self.selected_key()
        if symbol is not None:
            self.post_message(self.Selected(symbol))

    def header_rows(self) -> int:
        return 0

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self.rows))

    def build_table(self, width: int) -> tuple[list[Text], list[Text]]:
        return [], render_watchlist(self.rows, self.chart_symbol, width, self.market_colors)

    def build_lines(self, width: int, height: int) -> list[Text]:
        if not self.rows:
            return [Text("no symbols", Style(color=self.market_colors.muted))]
        return super().build_lines(width, height)
