"""Open positions: side, size, entry, mark, unrealised PnL (quote and %), R, how far the mark
is from the stop and the target (% of the mark), age, stop/target prices, strategy.

Columns fit the panel by priority (``ui/widgets/table.py``): a narrow panel first abbreviates
(``L``/``S`` for the side, the base asset for the symbol), then drops the least important:
strategy, the stop/target prices, entry, mark, age, distance to target, uPnL %, distance to
stop, size, R; symbol, side and uPnL always stay.
The distances are what the trader asks ("how much room before I am stopped, how far to go"):
``(mark - stop) / mark`` for a long, mirrored for a short; negative once the mark is past it.

A position with no working stop order (never had one, or its stop was cancelled) shows
``no stop`` in the warning colour in place of its stop price (the stop it was opened with is no
protection once the order is gone), and a line under the header names every such symbol, so
the warning is seen even where the Stop/Target column does not fit.

The mark is the book mid for the chart's symbol (its last trade or candle while there is no
book) and the ticker's last price for the others, the same mark the paper account uses.
Unrealised PnL is exact: ``(mark - entry) * quantity`` in ``Decimal``, the mark entering money
through :func:`tradeterm.core.money.dec` like every market price does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from rich.style import Style
from rich.text import Text

from tradeterm.core.display import MarketFormat, fmt_pct, fmt_r
from tradeterm.core.models import EngineSnapshot
from tradeterm.core.money import ZERO, dec
from tradeterm.core.trading import Order, OrderType, Position
from tradeterm.ui.fmt import fmt_qty, market_format
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.orders import fmt_age, wall_clock_ms
from tradeterm.ui.widgets.table import (
    Cell,
    Column,
    CursorTable,
    fit_columns,
    header_row,
    muted,
    signed_style,
    table_row,
)

COLUMNS = (
    Column("Symbol", 9, "<", short=("Sym", 5), short_rank=9),
    Column("Side", 5, "<", short=("", 1), short_rank=9),
    Column("Size", 8, priority=2),
    Column("Entry", 9, priority=8),
    Column("Mark", 9, priority=7),
    Column("uPnL", 9),
    Column("uPnL%", 7, priority=4),
    Column("R", 6, priority=1),
    # distances, never "Stop"/"Tgt" (the prices' names): narrowed, not renamed
    Column("ToStop", 7, priority=3, short=("ToStop", 6), short_rank=8),
    Column("ToTgt", 7, priority=5, short=("ToTgt", 6), short_rank=8),
    Column("Age", 4, priority=6),
    Column("Stop/Target", 17, priority=9),
    Column("Strategy", 10, "<", priority=10, grow=True),
)
EMPTY = "no open positions"
NO_STOP = "no stop"
_STOP_TYPES = (OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP)


def mark_price(symbol: str, snap: EngineSnapshot) -> float | None:
    """Where ``symbol`` would be marked now (see the module docstring); None if unknown."""
    market = snap.market
    if symbol == market.symbol:
        if market.book is not None and market.book.mid is not None:
            return market.book.mid
        if market.trades:
            return market.trades[-1].price
        if market.candles:
            return market.candles[-1].close
    return next((t.last for t in snap.tickers if t.symbol == symbol), None)


def unrealized_pnl(position: Position, mark: float) -> Decimal:
    """Exact unrealised PnL in quote: positive when the position gains (long or short)."""
    return (dec(mark) - position.average_entry) * position.quantity


def r_multiple(pnl: Decimal, initial_risk: Decimal | None) -> Decimal | None:
    """PnL in units of the risk taken at entry; None without a (positive) initial risk."""
    if initial_risk is None or initial_risk <= ZERO:
        return None
    return pnl / initial_risk


def pnl_pct(position: Position, pnl: Decimal) -> Decimal | None:
    """uPnL as % of the position's entry notional (the move in the trader's favour)."""
    notional = abs(position.average_entry * position.quantity)
    return pnl * 100 / notional if notional > 0 else None


def distance_pct(position: Position, level: Decimal | None, mark: float | None,
                 *, to_stop: bool) -> Decimal | None:
    """How far the mark must move to reach ``level``, in % of the mark: for the stop the room
    left (adverse move), for the target the way to go (favourable move); negative once past."""
    if level is None or mark is None or mark <= 0:
        return None
    m = dec(mark)
    long = position.quantity > 0
    move = (m - level) if long == to_stop else (level - m)
    return move * 100 / m


def has_working_stop(position: Position, orders: Sequence[Order]) -> bool:
    """A working stop order on the position's symbol that would close it (opposite side)."""
    closing = "sell" if position.quantity > 0 else "buy"
    return any(o.request.symbol == position.symbol and o.request.type in _STOP_TYPES
               and o.request.side == closing and o.status.is_working for o in orders)


@dataclass(frozen=True, slots=True)
class PositionRow:
    position: Position
    mark: float | None
    pnl: Decimal | None
    r: Decimal | None
    fmt: MarketFormat = MarketFormat()  # the market's tick, step and quote (display policy)
    stopped: bool = True  # a working stop order protects it
    age: str = ""  # since opened, from the app's clock (``fmt_age``)


def position_rows(snap: EngineSnapshot, now_ms: int | None = None) -> tuple[PositionRow, ...]:
    """One row per open position; ``now_ms`` (the app's clock) gives the ages."""
    positions = snap.account.positions if snap.account is not None else ()
    orders = snap.account.orders if snap.account is not None else ()
    rows = []
    for pos in positions:
        mark = mark_price(pos.symbol, snap)
        pnl = unrealized_pnl(pos, mark) if mark is not None else None
        r = r_multiple(pnl, pos.initial_risk) if pnl is not None else None
        age = fmt_age(now_ms - pos.opened_ms) if now_ms is not None else ""
        rows.append(PositionRow(pos, mark, pnl, r, market_format(snap, pos.symbol),
                                has_working_stop(pos, orders), age))
    return tuple(rows)


def _opt_price(value: Decimal | None, fmt: MarketFormat) -> str:
    return fmt.price(value) if value is not None else "-"


def _pct_cell(value: Decimal | None, style: Style | None = None) -> tuple[str, Style | None]:
    return (f"{fmt_pct(value)}%" if value is not None else "-", style)


def render_positions(
    rows: Sequence[PositionRow], width: int, colors: TradingColors
) -> tuple[list[Text], list[Text]]:
    """``(header, one line per position)``; the columns that fit ``width``."""
    fitted = fit_columns(COLUMNS, width)
    head = [header_row(COLUMNS, fitted, width, muted(colors))]
    lines = []
    for row in rows:
        pos, fmt = row.position, row.fmt
        long = pos.quantity > 0
        pnl_style = (
            signed_style(row.pnl, colors.profit, colors.loss) if row.pnl is not None else None
        )
        side_style = Style(color=colors.up if long else colors.down)
        pct = pnl_pct(pos, row.pnl) if row.pnl is not None else None
        warn = Style(color=colors.warning, bold=True)
        to_stop = distance_pct(pos, pos.stop, row.mark, to_stop=True)
        to_target = distance_pct(pos, pos.target, row.mark, to_stop=False)
        cells: list[Cell] = [
            (pos.symbol, None, pos.symbol.split("/")[0]),
            ("LONG" if long else "SHORT", side_style, "L" if long else "S"),
            (fmt_qty(abs(pos.quantity), step=fmt.step), None),
            (_opt_price(pos.average_entry, fmt), None),
            (fmt.price(row.mark) if row.mark is not None else "…", muted(colors)),
            (fmt.amount(row.pnl, signed=True) if row.pnl is not None else "…", pnl_style),
            (f"{fmt_pct(pct, signed=True)}%" if pct is not None else "", pnl_style),
            (f"{fmt_r(row.r, signed=True)}R" if row.r is not None else "", pnl_style),
            _pct_cell(to_stop, warn if to_stop is not None and to_stop <= 0 else None)
            if row.stopped else (NO_STOP, warn, "none"),
            _pct_cell(to_target, muted(colors)),
            (row.age, muted(colors)),
            (f"{_opt_price(pos.stop, fmt)}/{_opt_price(pos.target, fmt)}", muted(colors))
            if row.stopped else
            (f"{NO_STOP}/{_opt_price(pos.target, fmt)}", Style(color=colors.warning, bold=True)),
            (pos.strategy or "manual", muted(colors)),
        ]
        lines.append(table_row(fitted, cells, width))
    return head, lines


def no_stop_line(rows: Sequence[PositionRow], width: int, colors: TradingColors) -> Text | None:
    """``⚠ no stop: ETH/USDT, ...`` in the warning colour, or None when every position has a
    working stop: seen at any width, even where the Stop/Target column does not fit."""
    naked = [row.position.symbol for row in rows if not row.stopped]
    if not naked:
        return None
    line = Text(f"⚠ {NO_STOP}: {', '.join(naked)}", no_wrap=True,
                style=Style(color=colors.warning, bold=True))
    line.truncate(width, overflow="ellipsis")
    return line


class PositionsTable(CursorTable):
    """Open positions; ``c`` closes the one under the cursor (see the app)."""

    DEFAULT_CSS = """
    PositionsTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None, clock: Callable[[], int] = wall_clock_ms) -> None:
        super().__init__(id=id)
        self.clock = clock  # ms, for the ages (the app injects its own: snapshots freeze it)
        self.rows: tuple[PositionRow, ...] = ()

    def update_data(self, snap: EngineSnapshot, colors: TradingColors) -> None:
        """Take the engine snapshot; repaint only if this panel's slice changed."""
        rows = position_rows(snap, self.clock())
        if rows == self.rows and colors == self.market_colors:
            return
        recolored = colors != self.market_colors
        self.rows, self.market_colors = rows, colors
        self.set_keys([row.position.symbol for row in rows])
        self.lines_changed(full=recolored)

    def selected_symbol(self) -> str | None:
        """The symbol of the highlighted position (the first one if none is highlighted)."""
        return self.selected_key()

    def build_table(self, width: int) -> tuple[list[Text], list[Text]]:
        head, lines = render_positions(self.rows, width, self.market_colors)
        if not lines:
            head.append(Text(EMPTY, muted(self.market_colors)))
        warning = no_stop_line(self.rows, width, self.market_colors)
        if warning is not None:
            head.append(warning)
        return head, lines
