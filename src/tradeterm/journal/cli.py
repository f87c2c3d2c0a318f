"""``tradeterm journal trades|positions|signals|orders|stats|backtests``: the journal as tables
or CSV; ``tradeterm journal backtest ID``: a stored backtest's report, re-read from the journal.

Views (``journal/views.py``) turn each stored row into its exact cells (``--csv``) and its shown
cells (the display policy), streamed from SQLite: no view loads a table. Tables are never cut:
in a terminal a rich table when it fits, else plain aligned columns with every value in full.
Exit status: 0 shown, 1 no journal or unusable journal.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:  # imported where used: building the parser must stay light
    from rich.console import Console

    from tradeterm.journal.reader import JournalReader

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


def parse_until(text: str) -> int:
    """``--to``: an exclusive bound in epoch ms; a plain date includes its whole day."""
    from tradeterm.journal.filters import end_ms

    try:
        return end_ms(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    # its own dest: the workstation's --symbol (before the command) must keep its value and
    # its check, which a subcommand default of the same name would overwrite
    parser.add_argument("--symbol", dest="journal_symbol", metavar="SYMBOL", type=str.upper,
                        help="only this symbol (e.g. BTC/USDT)")
    parser.add_argument("--from", dest="since", type=parse_since, metavar="DATE",
                        help="the same as --since")
    parser.add_argument("--to", dest="until", type=parse_until, metavar="DATE",
                        help="only up to this UTC date (a plain date includes its whole day)")
    parser.add_argument("--csv", action="store_true", help="write CSV to stdout instead")


def _when(ms: int | None) -> str:
    from tradeterm.journal.views import when

    return when(ms)


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


PLAIN_CHUNK = 1_000
"""Rows per block of plain output: column widths come from the header and the first block and
only ever widen, so a table of a million rows streams with constant memory."""
RICH_ROWS = 500
"""A terminal gets a rich table up to this many rows (when it fits); more stream as plain."""


def _rows_of(
    reader: JournalReader, view: str, since: int | None, strategy: str | None,
    symbol: str | None = None, until: int | None = None,
) -> tuple[list[str], Iterator[tuple[list[str], list[str]]]]:
    """Headers and (exact cells, shown cells) per row, streamed from the journal (``symbol``
    and ``until`` filter the tables and statistics, not stored backtests)."""
    from tradeterm.journal import views
    from tradeterm.journal.markets import MarketDisplay

    markets = MarketDisplay(reader)
    if view in views.PAGED:
        spec = views.PAGED[view]
        rows = reader.rows(spec.table, since, strategy, symbol=symbol, until_ms=until)
        return spec.headers, views.view_rows(spec, rows, markets)
    if view == "positions":
        rows = (r for r in reader.open_position_rows(strategy)
                if (since is None or r["opened_ms"] >= since)
                and (until is None or r["opened_ms"] < until)
                and (symbol is None or r["symbol"] == symbol))
        return views.POSITION_HEADERS, (views.position_cells(r, markets) for r in rows)
    if view == "stats":
        stats = reader.stats(since, strategy, symbol=symbol, until_ms=until)
        cells = views.grouped_stats_cells(stats, reader.account_quote())
        return views.STATS_HEADERS, iter(cells)
    headers, table = backtests_view(reader, since, strategy)
    return headers, ((row, row) for row in table)


def _plain(
    out: TextIO, headers: Sequence[str], rows: Iterator[list[str]], first: list[list[str]],
) -> None:
    """Aligned columns, every value in full (never cut): for pipes, files and wide tables."""
    from tradeterm.journal.views import TEXT_COLUMNS

    left = [h in TEXT_COLUMNS for h in headers]
    widths = [len(h) for h in headers]

    def write(block: list[list[str]]) -> None:
        for row in block:
            for i, value in enumerate(row):
                widths[i] = max(widths[i], len(value))
        out.write("".join(
            "  ".join(v.ljust(w) if lft else v.rjust(w)
                      for v, w, lft in zip(row, widths, left, strict=True)).rstrip() + "\n"
            for row in block))

    for i, header in enumerate(headers):
        widths[i] = max([len(header), *(len(r[i]) for r in first)])
    write([list(headers)])
    write(first)
    block: list[list[str]] = []
    for row in rows:
        block.append(row)
        if len(block) >= PLAIN_CHUNK:
            write(block)
            block = []
    write(block)


def _fits(headers: Sequence[str], rows: list[list[str]], width: int) -> bool:
    """Whether a rich table (one space of padding each side, a border between) fits ``width``."""
    needed = sum(max([len(h), *(len(r[i]) for r in rows)]) + 3 for i, h in enumerate(headers))
    return needed + 1 <= width


def _terminal_console() -> Console | None:
    """A rich console when stdout may be a terminal (rich decides: it also honours
    ``TTY_COMPATIBLE`` and ``FORCE_COLOR``); None for a plain pipe or file, without importing
    rich at all (a tenth of a second the piped CLI does not need)."""
    if not sys.stdout.isatty() and not any(
            os.environ.get(k) for k in ("TTY_COMPATIBLE", "FORCE_COLOR", "TTY_INTERACTIVE")):
        return None
    from rich.console import Console

    console = Console()
    return console if console.is_terminal else None


def _print_table(title: str, headers: Sequence[str], rows: Iterator[list[str]]) -> int:
    """A rich table in a terminal when it fits; otherwise (a pipe, a file, a table wider than
    the terminal, or a long one) plain aligned columns with every value in full. Returns the
    number of rows printed."""
    first = list(islice(rows, RICH_ROWS + 1))
    if not first:
        return 0
    console = _terminal_console()
    if console is not None and len(first) <= RICH_ROWS and _fits(headers, first, console.width):
        from rich.table import Table as RichTable

        from tradeterm.journal.views import TEXT_COLUMNS

        table = RichTable(title=title)
        for header in headers:
            table.add_column(header, justify="left" if header in TEXT_COLUMNS else "right",
                             overflow="fold")
        for row in first:
            table.add_row(*row)
        console.print(table)
        return len(first)
    counted = _Counted(rows)
    sys.stdout.write(f"{title}\n")
    _plain(sys.stdout, headers, iter(counted), first)
    sys.stdout.flush()
    return len(first) + counted.n


class _Counted:
    def __init__(self, rows: Iterator[list[str]]) -> None:
        self._rows = rows
        self.n = 0

    def __iter__(self) -> Iterator[list[str]]:
        for row in self._rows:
            self.n += 1
            yield row


def _print_view(title: str, headers: Sequence[str], rows: Iterator[list[str]]) -> int:
    """One table; stats become three (overall, by strategy, by day) without the group."""
    if headers[0] != "group":
        return _print_table(title, headers, rows)
    stats = list(rows)
    shown = 0
    for group in ("all", "strategy", "day"):
        block = [r[1:] for r in stats if r[0] == group]
        if block:
            shown += _print_table(title if group == "all" else f"by {group}", headers[1:],
                                  iter(block))
    return shown


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
            headers, rows = _rows_of(reader, args.view, args.since, args.strategy,
                                     getattr(args, "journal_symbol", None), getattr(args, "until", None))
            if args.csv:
                writer = csv.writer(sys.stdout, lineterminator="\n")
                writer.writerow(headers)
                writer.writerows(exact for exact, _ in rows)
                return 0
            shown = _print_view(f"{args.view} — {path}", headers, (s for _, s in rows))
    except JournalError as exc:
        print(f"tradeterm journal: {exc}", file=sys.stderr)
        return 2  # bad input: one line, status 2
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 0
    if not shown:
        filtered = args.since or args.strategy or getattr(args, "journal_symbol", None) \
            or getattr(args, "until", None)
        print(f"no {args.view} in {path}" + (" for these filters" if filtered else ""))
    return 0

