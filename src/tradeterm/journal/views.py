"""The ``tradeterm journal`` views and the journal screen's tables, one row at a time.

Each view turns one stored row into two lists of cells with the same columns: the exact values
(the journal's decimal text, for ``--csv``) and what a person reads (``core/display.py``: prices
to the market's tick, quantities to its step, money to the quote currency's decimals, R and
percentages to 2). Rows are converted as they stream from SQLite, so no view holds a table.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

from tradeterm.core.display import fmt_pct, fmt_price, fmt_qty, fmt_quote, fmt_r
from tradeterm.journal.markets import MarketDisplay, quote_of
from tradeterm.journal.stats import GroupedStats, TradeStats

Cells = list[str]
Row = dict[str, Any]

TEXT_COLUMNS = frozenset({
    "closed (UTC)", "opened (UTC)", "time (UTC)", "updated (UTC)", "id", "order", "symbol",
    "side", "type", "status", "strategy", "reason", "tf", "kind", "group", "name", "liquidity",
    "created (UTC)", "from", "to", "params", "reasons",
})
"""Left-aligned columns; every other column is a number, right-aligned."""


def when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _s(value: object) -> str:
    return "" if value is None else str(value)


def _price(value: object, tick: Decimal | None) -> str:
    return "" if value is None else fmt_price(str(value), tick)


def _qty(value: object, step: Decimal | None) -> str:
    return "" if value is None else fmt_qty(str(value), step)


def _quote(value: object, currency: str | None) -> str:
    return "" if value is None else fmt_quote(str(value), currency)


def _r(value: object) -> str:
    return "" if value is None else fmt_r(str(value))


_RATIO = Context(prec=28)  # MAE/MFE in R: display ratios, never money


def held(opened_ms: int | None, closed_ms: int | None) -> str:
    """A holding duration to two units: ``45s``, ``12m 05s``, ``3h 07m``, ``2d 04h``."""
    if opened_ms is None or closed_ms is None:
        return ""
    seconds = max(0, closed_ms - opened_ms) // 1000
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def in_r(excursion: object, initial_risk: object) -> Decimal | None:
    """An excursion (quote) over the trade's initial risk; None when the risk is unknown (no
    stop, or a trade journaled before schema 6): shown blank, never as zero."""
    if excursion is None or initial_risk is None:
        return None
    risk = Decimal(str(initial_risk))
    return _RATIO.divide(Decimal(str(excursion)), risk) if risk else None


def reasons(text: object) -> str:
    """The entry signal's reasons (a JSON list) as one line; "" when none is linked."""
    if not text:
        return ""
    try:
        items = json.loads(str(text))
    except ValueError:
        return str(text)
    return "; ".join(str(i) for i in items) if isinstance(items, list) else str(items)


@dataclass(frozen=True, slots=True)
class View:
    """A paged table: its source ``table`` (see ``JournalReader.rows``) and its columns."""

    name: str
    table: str
    headers: list[str]
    cells: Callable[[Row, MarketDisplay], tuple[Cells, Cells]]


def _trade(r: Row, m: MarketDisplay) -> tuple[Cells, Cells]:
    sym = r["symbol"]
    tick, step, quote = m.tick(sym), m.step(sym), quote_of(sym)
    head = [when(r["closed_ms"]), sym, r["side"]]
    risk = r.get("initial_risk")  # absent before schema 6
    mae_r, mfe_r = in_r(r["mae"], risk), in_r(r["mfe"], risk)
    story = [held(r["opened_ms"], r["closed_ms"]), r["strategy"] or "manual",
             when(r["opened_ms"])]
    exact = [_s(r[k]) for k in ("quantity", "entry_price", "exit_price", "pnl", "fees",
                                 "r_multiple")] + [_s(mae_r), _s(mfe_r)]
    shown = [_qty(r["quantity"], step), _price(r["entry_price"], tick),
             _price(r["exit_price"], tick), _quote(r["pnl"], quote), _quote(r["fees"], quote),
             _r(r["r_multiple"]), _r(mae_r), _r(mfe_r)]
    tail_exact = [_s(r["mae"]), _s(r["mfe"]), reasons(r.get("entry_reasons"))]
    tail_shown = [_quote(r["mae"], quote), _quote(r["mfe"], quote), tail_exact[-1]]
    return head + exact + story + tail_exact, head + shown + story + tail_shown


def _fill(r: Row, m: MarketDisplay) -> tuple[Cells, Cells]:
    sym = r["symbol"]
    head = [when(r["timestamp"]), sym, r["side"]]
    tail = [r["liquidity"], r["strategy"] or "manual", r["order_id"]]
    exact = [_s(r["quantity"]), _s(r["price"]), _s(r["fee"])]
    shown = [_qty(r["quantity"], m.step(sym)), _price(r["price"], m.tick(sym)),
             _quote(r["fee"], quote_of(sym))]
    return head + exact + tail, head + shown + tail


def _coalesced(r: Row) -> str:
    """`` (x312 while the journal was halted)`` for a row that stands for several."""
    n = r.get("coalesced")
    return f" (x{n} while the journal was halted)" if n and n > 1 else ""


def _signal(r: Row, m: MarketDisplay) -> tuple[Cells, Cells]:
    sym = r["symbol"]
    head = [when(r["timestamp"]), r["strategy"], sym, r["timeframe"], r["kind"], r["side"]]
    tail = [f"{r['confidence']:.2f}", r["status"], _s(r["reason"]) + _coalesced(r)]
    tick = m.tick(sym)
    exact = [_s(r["entry"]), _s(r["stop"])]
    shown = [_price(r["entry"], tick), _price(r["stop"], tick)]
    return head + exact + tail, head + shown + tail


def _order(r: Row, m: MarketDisplay) -> tuple[Cells, Cells]:
    sym = r["symbol"]
    tick, step = m.tick(sym), m.step(sym)
    trigger = r["stop_price"] if r["stop_price"] is not None else r["trigger_price"]
    exact = [when(r["updated_ms"]), r["id"], sym, r["side"], r["type"], _s(r["quantity"]),
             _s(r["price"]), _s(trigger), r["status"], _s(r["filled_quantity"]),
             _s(r["average_price"]), _s(r["fees"]), r["strategy"] or "manual", _s(r["reason"])]
    shown = list(exact)
    shown[5], shown[6], shown[7] = _qty(r["quantity"], step), _price(r["price"], tick), \
        _price(trigger, tick)
    shown[9], shown[10] = _qty(r["filled_quantity"], step), _price(r["average_price"], tick)
    shown[11] = _quote(r["fees"], quote_of(sym))
    return exact, shown


TRADES = View("trades", "positions", [
    "closed (UTC)", "symbol", "side", "qty", "entry", "exit", "pnl", "fees", "R", "MAE R",
    "MFE R", "held", "strategy", "opened (UTC)", "MAE", "MFE", "reasons"], _trade)
FILLS = View("fills", "fills", [
    "time (UTC)", "symbol", "side", "qty", "price", "fee", "liquidity", "strategy", "order"],
    _fill)
SIGNALS = View("signals", "signals", [
    "time (UTC)", "strategy", "symbol", "tf", "kind", "side", "entry", "stop", "confidence",
    "status", "reason"], _signal)
ORDERS = View("orders", "orders", [
    "updated (UTC)", "id", "symbol", "side", "type", "qty", "price", "trigger", "status",
    "filled", "avg price", "fees", "strategy", "reason"], _order)
PAGED = {v.name: v for v in (TRADES, FILLS, SIGNALS, ORDERS)}

POSITION_HEADERS = ["opened (UTC)", "symbol", "side", "qty", "entry", "stop", "target",
                    "realized", "fees", "strategy"]


def position_cells(r: Row, m: MarketDisplay) -> tuple[Cells, Cells]:
    """An open position (the ``open_positions`` table holds only what is open: small)."""
    sym = r["symbol"]
    qty = Decimal(r["quantity"])
    tick, quote = m.tick(sym), quote_of(sym)
    head = [when(r["opened_ms"]), sym, "long" if qty > 0 else "short"]
    exact = [str(abs(qty)), _s(r["average_entry"]), _s(r["stop"]), _s(r["target"]),
             _s(r["realized_pnl"]), _s(r["fees"])]
    shown = [_qty(abs(qty), m.step(sym)), _price(r["average_entry"], tick),
             _price(r["stop"], tick), _price(r["target"], tick),
             _quote(r["realized_pnl"], quote), _quote(r["fees"], quote)]
    tail = [r["strategy"] or "manual"]
    return head + exact + tail, head + shown + tail


def view_rows(
    view: View, rows: Iterator[Row], markets: MarketDisplay
) -> Iterator[tuple[Cells, Cells]]:
    for row in rows:
        yield view.cells(row, markets)


# -- statistics ---------------------------------------------------------------------------------

STATS_HEADERS = ["group", "name", "trades", "win %", "PF", "net pnl", "expectancy",
                 "exp. R", "avg win R", "avg loss R", "max DD"]


def _q(value: Decimal | None, places: str = "0.01") -> str:
    return "" if value is None else str(value.quantize(Decimal(places)))


def _pct1(value: Decimal | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


def stats_cells(group: str, name: str, st: TradeStats, quote: str | None) -> tuple[Cells, Cells]:
    """As ``--csv`` has always printed them (ratios rounded, money exact), and for reading."""
    no_loss = st.profit_factor is None and st.trades and st.wins
    exact = [group, name, str(st.trades), _pct1(st.win_rate),
             "inf" if no_loss else _q(st.profit_factor), _s(st.net_pnl), _q(st.expectancy),
             _q(st.expectancy_r), _q(st.avg_win_r), _q(st.avg_loss_r), _s(st.max_drawdown)]

    def opt(fn: Callable[[Decimal], str], value: Decimal | None) -> str:
        return "" if value is None else fn(value)

    shown = [group, name, str(st.trades), opt(fmt_pct, None if st.win_rate is None
                                               else st.win_rate * 100),
             "inf" if no_loss else opt(fmt_r, st.profit_factor),
             fmt_quote(st.net_pnl, quote), opt(lambda v: fmt_quote(v, quote), st.expectancy),
             opt(fmt_r, st.expectancy_r), opt(fmt_r, st.avg_win_r), opt(fmt_r, st.avg_loss_r),
             fmt_quote(st.max_drawdown, quote)]
    return exact, shown


def grouped_stats_cells(stats: GroupedStats, quote: str | None) -> list[tuple[Cells, Cells]]:
    rows = [stats_cells("all", "all", stats.overall, quote)]
    rows += [stats_cells("strategy", k, v, quote) for k, v in stats.by_strategy.items()]
    rows += [stats_cells("day", k, v, quote) for k, v in stats.by_day.items()]
    return rows

