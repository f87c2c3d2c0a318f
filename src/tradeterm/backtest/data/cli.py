"""``tradeterm download ...`` and ``tradeterm data list``.

Only argparse at import time; polars, httpx, rich and ccxt load once a command runs. Bad input
(date, timeframe, symbol) is one line on stderr and exit status 2; a file refused or a network
failure after retries is one line naming the file or URL and exit status 1.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from tradeterm.backtest.data import DEFAULT_ARCHIVE_URL
from tradeterm.core.models import TIMEFRAME_MS

if TYPE_CHECKING:
    from tradeterm.backtest.data.download import SymbolReport
    from tradeterm.config import Settings

GAPS_SHOWN = 5
_SYMBOL = re.compile(r"^[A-Z0-9]{2,20}$")


class DataArgError(ValueError):
    """Bad command-line input, with a one-line message."""


def add_data_parsers(subparsers: Any) -> None:
    """Add ``download`` and ``data list`` to ``tradeterm``'s sub-command parser."""
    dl = subparsers.add_parser(
        "download", help="fetch historical candles (Binance archive, then REST) into the store"
    )
    dl.add_argument("symbols", nargs="+", metavar="SYMBOL", help="BTC/USDT or BTCUSDT")
    dl.add_argument("--timeframe", dest="data_timeframe", required=True, metavar="TF",
                    help=f"one of {', '.join(TIMEFRAME_MS)}")
    dl.add_argument("--from", dest="data_from", required=True, metavar="DATE",
                    help="first UTC day, YYYY-MM-DD")
    dl.add_argument("--to", dest="data_to", metavar="DATE",
                    help="last UTC day, YYYY-MM-DD (default: today)")
    dl.add_argument("--archive-url", default=DEFAULT_ARCHIVE_URL, metavar="URL",
                    help=f"public data archive (default {DEFAULT_ARCHIVE_URL})")
    dl.add_argument("--rest-url", metavar="URL",
                    help="Binance-compatible REST host for the newest bars, e.g. a running "
                    "`tradeterm sim` (default: the exchange itself)")
    dl.add_argument("--no-rest", action="store_true",
                    help="archive only: do not page REST for the bars the archive lacks")
    dl.add_argument("--jobs", type=int, default=4, metavar="N",
                    help="concurrent downloads (default 4)")

    data = subparsers.add_parser("data", help="stored historical candles")
    views = data.add_subparsers(dest="data_view", metavar="VIEW", required=True)
    views.add_parser("list", help="table of stored candle files")


def parse_symbol(text: str) -> str:
    """``BTC/USDT`` or ``btcusdt`` -> ``BTCUSDT`` (Binance spot id)."""
    raw = text.strip().upper()
    base, sep, quote = raw.partition("/")
    sym = base + quote if sep else raw
    if (sep and (not base or not quote)) or not _SYMBOL.match(sym):
        raise DataArgError(f"bad symbol {text!r}: expected BASE/QUOTE (BTC/USDT) or BTCUSDT")
    return sym


def parse_day(text: str, what: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise DataArgError(f"bad {what} date {text!r}: expected YYYY-MM-DD (UTC)") from None


def parse_timeframe(text: str) -> str:
    if text not in TIMEFRAME_MS:
        raise DataArgError(f"unknown timeframe {text!r}: expected one of {', '.join(TIMEFRAME_MS)}")
    return text


def build_request(args: argparse.Namespace, settings: Settings, today: date) -> Any:
    """The :class:`DownloadRequest` of parsed arguments; :class:`DataArgError` if they are bad."""
    from tradeterm.backtest.data.download import DownloadRequest

    timeframe = parse_timeframe(args.data_timeframe)
    start = parse_day(args.data_from, "--from")
    end = parse_day(args.data_to, "--to") if args.data_to else today
    if start > today:
        raise DataArgError(f"--from {start} is in the future (today is {today} UTC)")
    if end < start:
        raise DataArgError(f"--to {end} is before --from {start}")
    if args.jobs < 1:
        raise DataArgError(f"--jobs must be at least 1, not {args.jobs}")
    symbols = tuple(dict.fromkeys(parse_symbol(s) for s in args.symbols))
    return DownloadRequest(
        symbols=symbols, timeframe=timeframe, start=start, end=min(end, today),
        archive_url=args.archive_url, exchange_id=settings.exchange, sim_base_url=args.rest_url,
        use_rest=not args.no_rest, concurrency=args.jobs,
    )


def data_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``download`` or ``data list``; returns the exit status."""
    if args.command == "data":
        return list_command(settings)
    import asyncio

    from tradeterm.backtest.data.download import download

    try:
        request = build_request(args, settings, datetime.now(UTC).date())
    except DataArgError as exc:
        print(f"tradeterm download: {exc}", file=sys.stderr)
        return 2
    reports = asyncio.run(download(request, settings.data_dir))
    failed = False
    for report in reports:
        print(summary(report))
        for error in report.errors:
            failed = True
            print(f"tradeterm download: {error}", file=sys.stderr)
    return 1 if failed else 0


def _utc(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def summary(report: SymbolReport) -> str:
    """A few plain lines per symbol: what was stored, from where, and the gaps."""
    stored = (f"{report.bars:,} bars in {report.path} "
              f"({_utc(report.first_ms)} .. {_utc(report.last_ms)} UTC)" if report.bars
              else "nothing stored (no candles found)")
    lines = [
        f"{report.symbol} {report.timeframe}: {stored}",
        f"  archive: {len(report.fetched)} downloaded, {len(report.cached)} reused, "
        f"{len(report.skipped)} already stored, {len(report.missing)} not published; "
        f"REST: {report.rest_bars:,} bars",
    ]
    if report.gaps:
        missing = sum(g.bars for g in report.gaps)
        lines.append(f"  gaps: {len(report.gaps)} ({missing:,} missing bars, not filled)")
        for gap in report.gaps[:GAPS_SHOWN]:
            lines.append(f"    {_utc(gap.first_ms)} .. {_utc(gap.last_ms)} UTC ({gap.bars:,} bars)")
        if len(report.gaps) > GAPS_SHOWN:
            lines.append(f"    ... and {len(report.gaps) - GAPS_SHOWN} more")
    else:
        lines.append("  gaps: none")
    return "\n".join(lines)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return ""


def list_table(settings: Settings) -> Any:
    """The ``data list`` table (a rich renderable), or ``None`` when nothing is stored."""
    from rich.table import Table

    from tradeterm.backtest.data.store import list_stored

    files = list_stored(settings.data_dir)
    if not files:
        return None
    table = Table(title=f"Candles in {settings.data_dir / 'candles'}")
    for name, justify in (("Symbol", "left"), ("TF", "left"), ("First (UTC)", "left"),
                          ("Last (UTC)", "left"), ("Bars", "right"), ("Gaps", "right"),
                          ("Size", "right")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for f in files:
        table.add_row(f.symbol, f.timeframe, _utc(f.first_ms), _utc(f.last_ms), f"{f.bars:,}",
                      f"{f.gaps:,}", _size(f.size))
    return table


def list_command(settings: Settings) -> int:
    from rich.console import Console

    from tradeterm.indicators.candle_file import CandleFileError

    try:
        table = list_table(settings)
    except CandleFileError as exc:
        print(f"tradeterm data: {exc}", file=sys.stderr)
        return 2
    if table is None:
        print(f"no candles stored in {settings.data_dir / 'candles'}; "
              "fetch some with `tradeterm download SYMBOL --timeframe TF --from DATE`")
        return 0
    Console().print(table)
    return 0
