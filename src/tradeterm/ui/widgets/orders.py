"""Working orders: id, symbol, side, type, price or trigger, filled / total, status, age, and
what the order is for: ``SL P1-3`` / ``TP P1-3`` for the stop or target leg of the bracket of
entry ``P1-3`` (``Order.parent_id``; a scale-out's take-profit legs say ``TP1`` .. ``TP3``; the
legs of an ``oco_group`` without a parent say ``OCO``), ``exit`` for a closing order on a
symbol with an open position, ``entry`` otherwise.

``x`` cancels the order under the cursor (see the app). The age is counted from the wall clock
at each update, in whole seconds, minutes, hours or days, so a row's age cell changes at most
once a second and an old order's barely at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from rich.style import Style
from rich.text import Text

from tradeterm.core.display import MarketFormat
from tradeterm.core.models import EngineSnapshot
from tradeterm.core.scale_out import leg_of
from tradeterm.core.trading import Order, OrderStatus, OrderType
from tradeterm.ui.fmt import fmt_qty, market_format
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.table import (
    Cell,
    Column,
    CursorTable,
    fit_columns,
    header_row,
    muted,
    table_row,
)

COLUMNS = (
    Column("Id", 8, "<", priority=9, short=("Id", 6), short_rank=10),  # 79 columns: 6
    Column("Symbol", 9, "<", short=("Sym", 5), short_rank=8),
    Column("Side", 4, "<", short=("", 1), short_rank=8),
    Column("Type", 5, "<", priority=4),
    Column("Price", 10),
    Column("Filled/Qty", 15, short=("Qty", 8), short_rank=4),
    Column("Status", 7, "<", priority=7, short=("St", 4), short_rank=8),
    Column("Age", 4, priority=5),
    Column("For", 10, "<", priority=3, short=("For", 7), short_rank=6),
)
EMPTY = "no working orders"

TYPE_LABELS = {
    OrderType.MARKET: "MKT",
    OrderType.LIMIT: "LMT",
    OrderType.STOP_MARKET: "STOP",
    OrderType.STOP_LIMIT: "STPL",
    OrderType.TRAILING_STOP: "TRAIL",
}
STATUS_LABELS = {
    OrderStatus.PENDING: "pending",
    OrderStatus.OPEN: "open",
    OrderStatus.PARTIALLY_FILLED: "partial",
}


STOP_TYPES = (OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP)


def bracket_link(order: Order, position_sides: Mapping[str, str]) -> tuple[str, str]:
    """``(full, short)`` text of what ``order`` is for (see the module docstring);
    ``position_sides`` maps a symbol with an open position to its side (``buy`` for a long)."""
    leg = "SL" if order.request.type in STOP_TYPES else "TP"
    number = leg_of(order.request.client_id)  # a scale-out's take-profit leg: TP1, TP2, TP3
    if number is not None and order.parent_id is not None:
        leg = f"TP{number}"
        return f"{leg} {short_id(order.parent_id, 6)}", f"{leg} {short_id(order.parent_id, 3)}"
    if order.parent_id is not None:
        return f"{leg} {short_id(order.parent_id, 7)}", f"{leg} {short_id(order.parent_id, 4)}"
    if order.oco_group is not None:
        return f"OCO {leg}", f"OCO {leg}"
    side = position_sides.get(order.request.symbol)
    if side is not None and side != order.request.side:
        return "exit", "exit"
    return "entry", "entry"


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def fmt_age(ms: int) -> str:
    """``42s``, ``7m``, ``3h``, ``2d``: the largest unit, whole."""
    seconds = max(0, ms) // 1000
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def order_price(order: Order, fmt: MarketFormat | None = None) -> str:
    """The limit price, or for a stop its current trigger as ``@64000.00`` (a stop-limit shows
    its trigger: what the order waits for is what the trader watches), on the market's tick."""
    fmt = fmt or MarketFormat()
    request = order.request
    stop = order.stop_price if order.stop_price is not None else request.stop_price
    if stop is not None:
        return f"@{fmt.price(stop)}"
    return fmt.price(request.price) if request.price is not None else "market"


def short_id(order_id: str, width: int = 8) -> str:
    """The end of the id: the counter part is what tells two orders apart."""
    return order_id if len(order_id) <= width else "…" + order_id[-(width - 1) :]


OrderRow = tuple[Order, str, MarketFormat, tuple[str, str]]
"""``(order, age, the market's display format, what it is for: full and short)``."""


def order_rows(snap: EngineSnapshot, now_ms: int) -> tuple[OrderRow, ...]:
    """``(order, age, format, link)`` for each working order, oldest first."""
    account = snap.account
    orders = account.orders if account is not None else ()
    sides = {p.symbol: p.side for p in account.positions} if account is not None else {}
    return tuple(
        (o, fmt_age(now_ms - o.created_ms), market_format(snap, o.request.symbol),
         bracket_link(o, sides))
        for o in orders
    )


def render_orders(
    rows: Sequence[OrderRow], width: int, colors: TradingColors
) -> tuple[list[Text], list[Text]]:
    """``(header, one line per order)``; the columns that fit ``width``."""
    fitted = fit_columns(COLUMNS, width)
    head = [header_row(COLUMNS, fitted, width, muted(colors))]
    lines = []
    for order, age, fmt, (link, link_short) in rows:
        request = order.request
        buy = request.side == "buy"
        total = fmt_qty(request.quantity, step=fmt.step).strip()
        filled = (fmt_qty(order.filled_quantity, step=fmt.step).strip()
                  if order.filled_quantity > 0 else "0")
        status = STATUS_LABELS.get(order.status, order.status.value)
        cells: list[Cell] = [
            (short_id(order.id), muted(colors), short_id(order.id, 6)),
            (request.symbol, None, request.symbol.split("/")[0]),
            ("BUY" if buy else "SELL", Style(color=colors.bid if buy else colors.ask),
             "B" if buy else "S"),
            (TYPE_LABELS.get(request.type, request.type.value), None),
            (order_price(order, fmt), None),
            (f"{filled}/{total}", None, total),
            (status, muted(colors), status[:4]),
            (age, muted(colors)),
            (link, muted(colors), link_short),
        ]
        lines.append(table_row(fitted, cells, width))
    return head, lines


class OrdersTable(CursorTable):
    """Working orders, oldest first."""

    DEFAULT_CSS = """
    OrdersTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None, clock: Callable[[], int] = wall_clock_ms) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.rows: tuple[OrderRow, ...] = ()

    def update_data(self, snap: EngineSnapshot, colors: TradingColors) -> None:
        """Take the engine snapshot; repaint only if this panel's slice changed."""
        rows = order_rows(snap, self.clock())
        if rows == self.rows and colors == self.market_colors:
            return
        recolored = colors != self.market_colors
        self.rows, self.market_colors = rows, colors
        self.set_keys([row[0].id for row in rows])
        self.lines_changed(full=recolored)

    def selected_order_id(self) -> str | None:
        """The id of the highlighted working order (the first one if none is highlighted)."""
        return self.selected_key()

    def build_table(self, width: int) -> tuple[list[Text], list[Text]]:
        head, lines = render_orders(self.rows, width, self.market_colors)
        if not lines:
            head.append(Text(EMPTY, muted(self.market_colors)))
        return head, lines
