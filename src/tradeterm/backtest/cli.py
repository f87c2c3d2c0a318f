"""``tradeterm backtest STRATEGY --symbol S --timeframe TF [--data FILE | --from D --to D] ...``

Exit status: 0 the backtest ran (whatever its result), 2 the strategy, its parameters or the
candles cannot be loaded. Without ``--data`` the candles come from the store that
``tradeterm download`` fills: ``<data_dir>/candles/<SYMBOL>_<tf>.parquet``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich, polars and the runner load only when the command runs
    import polars as pl
    from rich.console import Console


def add_backtest_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``backtest`` on the main parser's subparsers (argparse only: nothing heavy)."""
    p = subparsers.add_parser(
        "backtest", help="run a strategy on historical candles with the paper broker's fill rules"
    )
    p.add_argument("strategy", help="strategy name (its `name`)")
    p.add_argument("--symbol", dest="bt_symbol", default="BTC/USDT", help="e.g. BTC/USDT")
    p.add_argument("--timeframe", dest="bt_timeframe", default=None,
                   help="candle timeframe (default: the strategy's)")
    p.add_argument("--data", dest="bt_data", type=Path,
                   help="parquet of candles (open_time or timestamp_ms, OHLCV) instead of the store")
    p.add_argument("--symbols", dest="bt_symbols", action="append", default=[], metavar="S,S",
                   help="several symbols (comma-separated or repeated): a results table")
    p.add_argument("--timeframes", dest="bt_timeframes", action="append", default=[],
                   metavar="TF,TF", help="several timeframes: a results table")
    p.add_argument("--from", dest="bt_from", help="first day, YYYY-MM-DD (UTC)")
    p.add_argument("--to", dest="bt_to", help="last day, YYYY-MM-DD (UTC, included)")
    p.add_argument("--param", dest="bt_params", action="append", default=[], metavar="K=V",
                   help="strategy parameter (repeatable)")
    p.add_argument("--lower", dest="bt_lower", type=Path,
                   help="parquet of lower-timeframe candles to order a stop and a target "
                   "touched in the same bar (default: the stop is taken)")
    add_cost_arguments(p, "bt")
    p.add_argument("--no-store", dest="bt_no_store", action="store_true",
                   help="do not store this backtest in the journal")
    p.add_argument("--json", dest="bt_json", type=Path, help="write metrics and trades as JSON")
    p.add_argument("--csv", dest="bt_csv", type=Path, help="write the trades as CSV")
    p.add_argument("--no-chart", dest="bt_no_chart", action="store_true",
                   help="no equity/drawdown chart")
    from tradeterm.backtest.guard_hook import NO_GUARD_HELP

    p.add_argument("--no-guard", dest="bt_no_guard", action="store_true", help=NO_GUARD_HELP)
    return p


def add_cost_arguments(p: argparse.ArgumentParser, prefix: str) -> None:
    """Slippage and balance flags, shared with ``optimize``; unset, ``[backtest]`` decides."""
    p.add_argument("--slippage-ticks", dest=f"{prefix}_slip_ticks", type=int, default=None,
                   help="market and stop fills this many ticks worse (default: [backtest], 1)")
    p.add_argument("--slippage-bps", dest=f"{prefix}_slip_bps", default=None,
                   help="and this many basis points worse (default: [backtest], 0)")
    p.add_argument("--balance", dest=f"{prefix}_balance", default=None,
                   help="starting balance (default: [backtest], else [paper])")


def config_from_args(settings: Any, symbol: str, slip_ticks: int | None, slip_bps: str | None,
                     balance: str | None) -> Any:
    """The :class:`BacktestConfig` of ``settings`` with the command line's cost flags on top."""
    from tradeterm.backtest.runner import BacktestConfig, rules_for

    def number(flag: str, text: str | None, positive: bool) -> Decimal | None:
        if text is None:
            return None
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise UsageError(f"{flag} expects a number, got {text!r}") from None
        if not value.is_finite() or value < 0 or (positive and value == 0):
            raise UsageError(f"{flag} expects a {'positive' if positive else '>= 0'} number, "
                             f"got {text!r}")
        return value

    if slip_ticks is not None and slip_ticks < 0:
        raise UsageError(f"--slippage-ticks expects N >= 0, got {slip_ticks}")
    return BacktestConfig.from_settings(
        settings, rules_for(symbol), slippage_ticks=slip_ticks,
        slippage_bps=number("--slippage-bps", slip_bps, False),
        starting_balance=number("--balance", balance, True),
    )


class UsageError(Exception):
    """Bad arguments or unusable data; the message is for the user."""


def _day_ms(text: str, end: bool) -> int:
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(f"expected a date like 2024-03-01, got {text!r}") from None
    return int(day.timestamp() * 1000) + (86_400_000 if end else 0)


def store_path(data_dir: Path, symbol: str, timeframe: str) -> Path:
    """Where ``tradeterm download`` keeps a symbol's candles (``BTCUSDT_1m.parquet``)."""
    from tradeterm.backtest.data.store import candle_path

    return candle_path(data_dir, symbol.replace("/", "").upper(), timeframe)


def load_candles(
    settings: Any,
    timeframe: str,
    *,
    symbol: str,
    data: Path | None = None,
    first_day: str | None = None,
    last_day: str | None = None,
) -> Any:
    """Candles from ``data`` or the download store, cut to ``first_day..last_day`` (UTC, both
    included); shared by ``backtest`` and ``optimize``. UsageError says what is missing."""
    import polars as pl

    from tradeterm.strategy.check import DataError, read_candles

    path = data or store_path(settings.data_dir, symbol, timeframe)
    if not path.is_file():
        if data:
            raise UsageError(f"no such file: {path}")
        raise UsageError(
            f"no stored candles for {symbol} {timeframe} ({path}); run "
            f"tradeterm download {symbol} --timeframe {timeframe} --from YYYY-MM-DD"
        )
    try:
        frame = read_candles(path)
    except DataError as exc:  # already names the file
        raise UsageError(str(exc)) from None
    if first_day:
        frame = frame.filter(pl.col("open_time") >= _day_ms(first_day, end=False))
    if last_day:
        frame = frame.filter(pl.col("open_time") < _day_ms(last_day, end=True))
    if frame.height < 2:
        raise UsageError(f"{path}: fewer than 2 candles in the chosen range")
    return frame


def _params(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--param expects key=value, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def bar_spacing(candles: pl.DataFrame) -> int | None:
    """The candles' bar length in ms (the median step between open times; gaps do not move
    it), None for fewer than two bars."""
    if candles.height < 2:
        return None
    return int(candles.get_column("open_time").diff().drop_nulls().median())  # type: ignore[arg-type]


def backtest_command(args: argparse.Namespace, settings: Any, console: Console | None = None
                     ) -> int:
    """Run ``tradeterm backtest``; print the report; return the exit status."""
    from rich.console import Console

    out = console or Console()
    try:
        return _run(args, settings, out)
    except UsageError as exc:
        out.print(f"[bold red]tradeterm backtest:[/] {exc}", soft_wrap=True)  # one line
        return 2


def _run(args: argparse.Namespace, settings: Any, out: Console) -> int:
    from pydantic import ValidationError

    from tradeterm.backtest.metrics import result_metrics
    from tradeterm.backtest.report import print_report, write_csv, write_json
    from tradeterm.backtest.runner import run_backtest
    from tradeterm.core.models import TIMEFRAME_MS
    from tradeterm.strategy.check import DataError, read_candles
    from tradeterm.strategy.loader import load_directory

    loaded = load_directory(settings.strategies.dir)
    found = loaded.strategies.get(args.strategy)
    if found is None:
        errors = [str(e) for e in loaded.errors if e.file.stem == args.strategy]
        known = ", ".join(sorted(loaded.strategies)) or "none"
        raise UsageError("; ".join(errors) or f"no strategy named {args.strategy!r} (found: {known})")
    try:
        strategy = found.cls(_params(args.bt_params))
    except ValidationError as exc:
        raise UsageError(f"bad --param: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}") from None
    timeframe = args.bt_timeframe or strategy.timeframe
    if timeframe not in TIMEFRAME_MS:
        raise UsageError(f"unknown timeframe {timeframe!r}; expected one of {', '.join(TIMEFRAME_MS)}")
    if args.bt_symbols or args.bt_timeframes:  # a research matrix: backtest/matrix.py
        from tradeterm.backtest.matrix import run_matrix
        from tradeterm.backtest.optimize_cli import split_list

        return run_matrix(args, settings, out, strategy,
                          split_list(args.bt_symbols) or [args.bt_symbol],
                          split_list(args.bt_timeframes) or [timeframe], file=found.file)
    config = config_from_args(settings, args.bt_symbol, args.bt_slip_ticks, args.bt_slip_bps,
                              args.bt_balance)
    candles = load_candles(settings, timeframe, symbol=args.bt_symbol, data=args.bt_data,
                           first_day=args.bt_from, last_day=args.bt_to)
    spacing = bar_spacing(candles)
    if spacing is not None and spacing != TIMEFRAME_MS[timeframe]:
        shown = next((tf for tf, ms in TIMEFRAME_MS.items() if ms == spacing), f"{spacing} ms")
        raise UsageError(f"the candles are {shown} bars but {args.strategy} is backtested on "
                         f"{timeframe}: pass --timeframe {shown}, or {timeframe} candles")
    try:
        lower = read_candles(args.bt_lower) if args.bt_lower else None
    except DataError as exc:
        raise UsageError(f"--lower: {exc}") from None
    from tradeterm.backtest.guard_hook import guard_strategy

    if refused := guard_strategy(found.file, strategy, candles, settings, out,
                                 skip=getattr(args, "bt_no_guard", False)):
        raise UsageError(refused)
    result = run_backtest(strategy, candles, config, symbol=args.bt_symbol, lower=lower,
                          timeframe=timeframe)
    metrics = result_metrics(result)
    show_chart = not args.bt_no_chart and sys.stdout.isatty() and out.is_terminal
    print_report(result, metrics, out, show_chart)
    near, entries = result.close_targets
    if near:
        print(f"warning: {near:,} of {entries:,} entry signals of {args.strategy} have target_1 "
              "closer than the round-trip fee plus slippage: hit, they lose money "
              "(widen the target, or trade a longer timeframe)", file=sys.stderr)
    if args.bt_json:
        write_json(args.bt_json, result, metrics)
        out.print(f"wrote {args.bt_json}")
    if args.bt_csv:
        write_csv(args.bt_csv, result)
        out.print(f"wrote {args.bt_csv}")
    if settings.backtest.store and not args.bt_no_store:
        _store(result, metrics, settings, out)
    return 0


def _store(result: Any, metrics: Any, settings: Any, out: Console) -> None:
    """Journal the run and print its id; a journal that cannot be used is reported, and the
    backtest still counts (exit status 0: its report is already printed)."""
    from tradeterm.backtest.store import save
    from tradeterm.journal.files import JournalError

    path = settings.journal_file
    try:
        backtest_id = save(path, result, metrics)
    except JournalError as exc:
        out.print(f"[yellow]not stored:[/] {exc}")
        return
    out.print(f"stored as backtest {backtest_id} in {path} "
              f"(tradeterm journal backtest {backtest_id})")


def show_stored(path: Path, backtest_id: int | None) -> int:
    """The stored backtest's report, printed by the backtest command's own code."""
    if backtest_id is None:
        print("tradeterm journal backtest: give the id (see `tradeterm journal backtests`)",
              file=sys.stderr)
        return 1
    from rich.console import Console

    from tradeterm.backtest.metrics import result_metrics
    from tradeterm.backtest.report import print_report
    from tradeterm.backtest.store import load
    from tradeterm.journal.files import JournalError

    try:
        found = load(path, backtest_id)
    except JournalError as exc:
        print(f"tradeterm journal: {exc}", file=sys.stderr)
        return 2
    if found is None:
        print(f"no backtest {backtest_id} in {path}", file=sys.stderr)
        return 1
    row, result = found
    stored = datetime.fromtimestamp(row.created_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    console = Console()
    console.print(f"backtest {backtest_id}, stored {stored} UTC; params: "
                  + (" ".join(f"{k}={v}" for k, v in row.params.items()) or "defaults"))
    print_report(result, result_metrics(result), console, console.is_terminal)
    return 0
