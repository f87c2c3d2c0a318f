"""``tradeterm journal trades|positions|signals|orders|stats|backtests``: the journal as tables
or CSV; ``tradeterm journal backtest ID``: a stored backtest's report, re-read from the journal.

Views are pure ``rows -> (headers, cells)`` functions shared by the rich table and the CSV output,
so both always show the same columns. Exit status: 0 shown, 1 no journal or unusable journal.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # imported where used: building the parser must stay light
    from tradeterm.journal.reader import JournalReader
    from tradeterm.journal.stats import TradeStats

VIEWS = ("trades", "positions", "signals", "orders", "stats", "backtests", "backtest")
Table = tuple[list[str], list[list[str]]]


class _HasJournal(Protocol):
    @property
    def journal_file(self) -> Path: ...


def parse_since(text: str) -> int:
    """``YYYY-MM-DD`` or an ISO date-time (UTC unless it says otherwise) -> epoch ms."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date like 2024-05-01 or 2024-05-01T12:00, got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def add_journal_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``journal VIEW [--since DATE] [--strategy NAME] [--csv]`` to ``tradeterm``'s parser."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "journal", help="show the trading journal: trades, positions, signals, orders, stats"
    )
    _add_arguments(parser)
    return parser


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("view", choices=VIEWS, help="what to show")
    parser.add_argument("id", nargs="?", type=int, help="backtest id (for `backtest`)")
    parser.add_argument("--since", type=parse_since, metavar="DATE",
                        help="only from this UTC date (YYYY-MM-DD or ISO date-time)")
    parser.add_argument("--strategy", metavar="NAME", help="only this strategy ('manual' too)")
    parser.add_argument("--csv", action="store_true", help="write CSV to stdout instead")


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _s(value: object) -> str:
    return "" if value is None else str(value)


def _pct(value: Decimal | None) -> str:
    return "" if value is None else f"{value * 100:.1f}"


def _q(value: Decimal | None, places: str = "0.01") -> str:
    return "" if value is None else str(value.quantize(Decimal(places)))


def trades_view(reader: JournalReader, since: int | None, strategy: str | None) -> Table:
    headers = ["closed (UTC)", "symbol", "side", "qty", "entry", "exit", "pnl", "fees", "R",
               "MAE", "MFE", "strategy"]
    rows = [[_when(t.closed_ms), t.symbol, t.side, _s(t.quantity), _s(t.entry_price),
             _s(t.exit_price), _s(t.pnl), _s(t.fees), _s(t.r_multiple), _s(t.mae), _s(t.mfe),
             t.strategy or "manual"]
            for t in reader.trades(since, strategy)]
    return headers, rows


def positions_view(reader: JournalReader, since: int | None, strategy: str | None) -> Table:
    headers = ["opened (UTC)", "symbol", "side", "qty", "entry", "stop", "target",
               "realized", "fees", "strategy"]
    rows = [[_when(p.opened_ms), p.symbol, "long" if p.quantity > 0 else "short",
             _s(abs(p.quantity)), _s(p.average_entry), _s(p.stop), _s(p.target),
             _s(p.realized_pnl), _s(p.fees), p.strategy or "manual"]
            for p in reader.open_positions(strategy)
            if since is None or p.opened_ms >= since]
    return headers, rows


def signals_view(reader: JournalReader, since: int | None, strategy: str | None) -> Table:
    headers = ["time (UTC)", "strategy", "symbol", "tf", "kind", "side", "entry", "stop",
               "confidence", "status", "reason"]
    rows = [[_when(r["timestamp"]), r["strategy"], r["symbol"], r["timeframe"], r["kind"],
             r["side"], _s(r["entry"]), _s(r["stop"]), f"{r['confidence']:.2f}", r["status"],
             _s(r["reason"])]
            for r in reader.signals(since, strategy)]
    return headers, rows


def orders_view(reader: JournalReader, since: int | None, strategy: str | None) -> Table:
    headers = ["updated (UTC)", "id", "symbol", "side", "type", "qty", "price", "trigger",
               "status", "filled", "avg price", "fees", "strategy", "reason"]
    rows = [[_when(o.updated_ms), o.id, o.request.symbol, o.request.side, o.request.type.value,
             _s(o.request.quantity), _s(o.request.price), _s(o.stop_price or o.request.stop_price),
             o.status.value, _s(o.filled_quantity), _s(o.average_price), _s(o.fees),
             o.request.strategy or "manual", _s(o.reason)]
            for o in reader.orders(since, strategy)]
    return headers, rows


STATS_HEADERS = ["group", "name", "trades", "win %", "PF", "net pnl", "expectancy",
                 "exp. R", "avg win R", "avg loss R", "max DD"]


def _stats_row(group: str, name: str, st: TradeStats) -> list[str]:
    pf = "inf" if st.profit_factor is None and st.trades and st.wins else _q(st.profit_factor)
    return [group, name, str(st.trades), _pct(st.win_rate), pf, _s(st.net_pnl),
            _q(st.expectancy), _q(st.expectancy_r), _q(st.avg_win_r), _q(st.avg_loss_r),
            _s(st.max_drawdown)]


def stats_view(reader: JournalReader, since: int | None, strategy: str | None) -> Table:
    trades = reader.trades(since, strategy)
    use_equity = strategy is None  # the equity curve is the whole account's, not a strategy's
    equity = [p.equity for p in reader.equity(since)] if use_equity else None
    from tradeterm.journal.stats import by_day, by_strategy, compute_stats, stats_by

    rows = [_stats_row("all", "all", compute_stats(trades, equity))]
    rows += [_stats_row("strategy", k, v) for k, v in stats_by(trades, by_strategy).items()]
    rows += [_stats_row("day", k, v) for k, v in stats_by(trades, by_day).items()]
    return STATS_HEADERS, rows


def _metric(metrics: dict[str, Any], *path: str, places: int = 2) -> str:
    value: Any = metrics
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        return ""
    return f"{float(value):.{places}f}"


def backtests_view(reader: JournalReader, since: int | None, strategy: str | None) -> Table:
    """Stored backtests, newest first (``since``: created at or after)."""
    headers = ["id", "created (UTC)", "strategy", "symbol", "tf", "from", "to", "bars",
               "trades", "win %", "PF", "net pnl", "return %", "max DD %", "params"]
    rows = []
    for b in reader.backtests(strategy):
        if since is not None and b.created_ms < since:
            continue
        m = b.metrics
        win = m.get("stats", {}).get("win_rate")
        rows.append([
            str(b.id), _when(b.created_ms), b.strategy, b.symbol, b.timeframe,
            _when(b.start_ms)[:16], _when(b.end_ms)[:16], str(b.bars),
            str(m.get("stats", {}).get("trades", "")), "" if win is None else f"{win * 100:.1f}",
            _metric(m, "stats", "profit_factor"), _metric(m, "stats", "net_pnl"),
            _metric(m, "return_pct"), _metric(m, "drawdown", "depth_pct"),
            " ".join(f"{k}={v}" for k, v in b.params.items()),
        ])
    return headers, rows


_VIEWS: dict[str, Callable[[JournalReader, int | None, str | None], Table]] = {
    "trades": trades_view, "positions": positions_view, "signals": signals_view,
    "orders": orders_view, "stats": stats_view, "backtests": backtests_view,
}


_TEXT_COLUMNS = {"closed (UTC)", "opened (UTC)", "time (UTC)", "updated (UTC)", "id", "symbol",
                 "side", "type", "status", "strategy", "reason", "tf", "kind", "name",
                 "created (UTC)", "from", "to", "params"}


def _print_rich(title: str, headers: Sequence[str], rows: list[list[str]]) -> None:
    """One rich table; stats become three (overall, by strategy, by day) without the group."""
    from rich.console import Console
    from rich.table import Table as RichTable

    console = Console()
    if not console.is_terminal:
        console.width = 200  # piped: do not squeeze columns to 80
    grouped = headers[0] == "group"
    groups = sorted({r[0] for r in rows}, key=["all", "strategy", "day"].index) if grouped \
        else [None]
    for group in groups:
        table = RichTable(title=title if group in (None, "all") else f"by {group}")
        shown = headers[1:] if grouped else headers
        for header in shown:
            table.add_column(header, justify="left" if header in _TEXT_COLUMNS else "right")
        for row in rows:
            if group is None or row[0] == group:
                table.add_row(*(row[1:] if grouped else row))
        console.print(table)


ShowBacktest = Callable[[Path, int | None], int]
"""Prints one stored backtest's report (``tradeterm.backtest.cli.show_stored``): the backtest
package sits above the journal in the layers of ``docs/architecture.md``, so the CLI passes it in."""


def journal_command(args: list[str] | argparse.Namespace, settings: _HasJournal,
                    show_backtest: ShowBacktest | None = None) -> int:
    """Run ``tradeterm journal ...``; ``args`` as parsed by :func:`add_journal_parser` or raw."""
    if not isinstance(args, argparse.Namespace):
        parser = argparse.ArgumentParser(prog="tradeterm journal")
        _add_arguments(parser)
        args = parser.parse_args(args)
    from tradeterm.journal.files import JournalError
    from tradeterm.journal.reader import JournalReader

    path = Path(settings.journal_file)
    if path.exists() and not path.is_file():
        print(f"tradeterm journal: {path}: not a journal file (a directory?)", file=sys.stderr)
        return 2
    if not path.is_file():
        print(f"no journal at {path} (it is created when tradeterm first trades)")
        return 1
    if args.view == "backtest":
        if show_backtest is None:
            print("tradeterm journal backtest: not available here", file=sys.stderr)
            return 1
        return show_backtest(path, args.id)
    try:
        with JournalReader(path) as reader:
            headers, rows = _VIEWS[args.view](reader, args.since, args.strategy)
    except JournalError as exc:
        print(f"tradeterm journal: {exc}", file=sys.stderr)
        return 2  # bad input: one line, status 2
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(rows)
    elif rows:
        _print_rich(f"{args.view} — {path}", headers, rows)
    else:
        print(f"no {args.view} in {path}" + (" for these filters" if args.since or
                                             args.strategy else ""))
    return 0
