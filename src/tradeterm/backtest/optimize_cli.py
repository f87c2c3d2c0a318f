"""``tradeterm optimize STRATEGY [--grid | --random N] [--param name=a,b,c ...] --split 0.7 ...``

Exit status: 0 the search ran, 2 the strategy, a parameter, the search settings or the candles
cannot be used. Candles come from ``--data`` or the store, exactly as for ``tradeterm backtest``.
See ``docs/optimize.md``.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich, polars and the runner load only when the command runs
    from rich.console import Console

    from tradeterm.backtest.optimize import Job, OptimizeResult, Summary


def add_optimize_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``optimize`` on the main parser's subparsers (argparse only: nothing heavy)."""
    from tradeterm.backtest.cli import add_cost_arguments

    p = subparsers.add_parser(
        "optimize", help="grid or random parameter search with a walk-forward split"
    )
    p.add_argument("strategy", help="strategy name (its `name`)")
    p.add_argument("--symbol", dest="opt_symbol", default="BTC/USDT", help="e.g. BTC/USDT")
    p.add_argument("--timeframe", dest="opt_timeframe", default=None,
                   help="candle timeframe (default: the strategy's)")
    p.add_argument("--data", dest="opt_data", type=Path,
                   help="parquet of candles (open_time or timestamp_ms, OHLCV) "
                   "instead of the store")
    p.add_argument("--from", dest="opt_from", help="first day, YYYY-MM-DD (UTC)")
    p.add_argument("--to", dest="opt_to", help="last day, YYYY-MM-DD (UTC, included)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--grid", dest="opt_grid", action="store_true",
                      help="grid over every bounded parameter (or those in --vary)")
    mode.add_argument("--random", dest="opt_random", type=int, metavar="N",
                      help="N random candidates within the bounds")
    p.add_argument("--steps", dest="opt_steps", type=int, default=5,
                   help="grid points per numeric parameter (default 5)")
    p.add_argument("--vary", dest="opt_vary", metavar="A,B",
                   help="search only these parameters (the rest keep their defaults)")
    p.add_argument("--seed", dest="opt_seed", type=int, default=0,
                   help="random search seed (default 0)")
    p.add_argument("--param", dest="opt_params", action="append", default=[], metavar="K=A,B",
                   help="explicit values for a parameter (repeatable; one value fixes it)")
    p.add_argument("--split", dest="opt_split", type=float, default=0.7,
                   help="in-sample fraction of the bars (default 0.7; 1 = no out-of-sample)")
    p.add_argument("--folds", dest="opt_folds", type=int, default=1,
                   help="rolling walk-forward windows, each split by --split (default 1)")
    p.add_argument("--metric", dest="opt_metric", default="sharpe",
                   choices=("sharpe", "profit_factor", "expectancy_r", "total_return", "calmar"),
                   help="in-sample ranking metric (default sharpe)")
    p.add_argument("--top", dest="opt_top", type=int, default=10,
                   help="candidates re-run out-of-sample and shown (default 10)")
    p.add_argument("--jobs", dest="opt_jobs", type=int, default=None,
                   help="worker processes (default: all cores)")
    p.add_argument("--min-trades", dest="opt_min_trades", type=int, default=0, metavar="N",
                   help="candidates with fewer in-sample trades rank last (default 0)")
    add_cost_arguments(p, "opt")
    p.add_argument("--json", dest="opt_json", type=Path, help="write the results as JSON")
    from tradeterm.backtest.guard_hook import NO_GUARD_HELP

    p.add_argument("--no-guard", dest="opt_no_guard", action="store_true", help=NO_GUARD_HELP)
    return p


def optimize_command(args: argparse.Namespace, settings: Any, console: Console | None = None
                     ) -> int:
    """Run ``tradeterm optimize``; print the table; return the exit status."""
    from rich.console import Console

    from tradeterm.backtest.cli import UsageError
    from tradeterm.backtest.optimize import OptimizeError

    out = console or Console()
    from tradeterm.backtest.guard_hook import guard_before

    if (refused := guard_before(args, settings, out, "opt", "optimize")) is not None:
        return refused
    try:
        return _run(args, settings, out)
    except (UsageError, OptimizeError) as exc:
        out.print(f"[bold red]tradeterm optimize:[/] {exc}")
        return 2


def _candles(args: argparse.Namespace, settings: Any, timeframe: str) -> Any:
    """The backtest command's loader, fed this command's options."""
    from tradeterm.backtest.cli import load_candles

    return load_candles(settings, timeframe, symbol=args.opt_symbol, data=args.opt_data,
                        first_day=args.opt_from, last_day=args.opt_to)


def _run(args: argparse.Namespace, settings: Any, out: Console) -> int:
    from tradeterm.backtest.cli import UsageError, config_from_args
    from tradeterm.backtest.optimize import (
        Job,
        fold_windows,
        grid_candidates,
        optimize,
        parse_param_lists,
        random_candidates,
        validate_candidates,
    )
    from tradeterm.core.models import TIMEFRAME_MS
    from tradeterm.strategy.loader import load_directory

    loaded = load_directory(settings.strategies.dir)
    found = loaded.strategies.get(args.strategy)
    if found is None:
        errors = [str(e) for e in loaded.errors if e.file.stem == args.strategy]
        known = ", ".join(sorted(loaded.strategies)) or "none"
        raise UsageError("; ".join(errors)
                         or f"no strategy named {args.strategy!r} (found: {known})")
    cls = found.cls
    space = cls.param_space()
    explicit = parse_param_lists(args.opt_params, space)
    vary = [v.strip() for v in args.opt_vary.split(",") if v.strip()] if args.opt_vary else None
    if args.opt_random is not None:
        if args.opt_random < 1:
            raise UsageError("--random expects N >= 1")
        candidates = random_candidates(space, args.opt_random, args.opt_seed, explicit, vary)
        mode = f"random {args.opt_random} (seed {args.opt_seed})"
    elif args.opt_grid or explicit:
        if args.opt_steps < 1:
            raise UsageError("--steps expects N >= 1")
        candidates = grid_candidates(space, args.opt_steps, explicit, vary, expand=args.opt_grid)
        mode = f"grid ({args.opt_steps} steps)" if args.opt_grid else "explicit lists"
    else:
        raise UsageError("choose --grid, --random N, or give --param name=a,b,c lists")
    valid, invalid = validate_candidates(cls, candidates)
    if not valid:
        raise UsageError(f"all {len(candidates)} candidates are refused by {cls.name}'s Params")

    timeframe = args.opt_timeframe or cls.timeframe
    if timeframe not in TIMEFRAME_MS:
        raise UsageError(
            f"unknown timeframe {timeframe!r}; expected one of {', '.join(TIMEFRAME_MS)}")
    if args.opt_min_trades < 0:
        raise UsageError(f"--min-trades expects N >= 0, got {args.opt_min_trades}")
    config = config_from_args(settings, args.opt_symbol, args.opt_slip_ticks, args.opt_slip_bps,
                              args.opt_balance)
    candles = _candles(args, settings, timeframe)
    windows = fold_windows(candles.height, args.opt_split, args.opt_folds)
    if windows[0][1] - windows[0][0] < 2:
        raise UsageError(f"--split {args.opt_split} leaves fewer than 2 in-sample bars")
    jobs_ = [Job(found.file, cls.name, candles, config, TIMEFRAME_MS[timeframe], split,
                 args.opt_symbol, start, end) for start, split, end in windows]
    workers = args.opt_jobs or os.cpu_count() or 1
    is_bars = windows[0][1] - windows[0][0]
    folds = f", {len(windows)} rolling folds" if len(windows) > 1 else ""
    out.print(f"{cls.name} {args.opt_symbol} {timeframe}: {mode}, {len(valid)} candidates "
              f"({invalid} refused by Params), {workers} worker(s), in-sample {is_bars} of "
              f"{windows[0][2] - windows[0][0]} bars{folds}, ranked by {args.opt_metric}")
    results = _with_progress(out, lambda progress: [optimize(
        job, valid, metric=args.opt_metric, top=args.opt_top, jobs=workers, invalid=invalid,
        progress=progress, label=f"fold {k} " if len(jobs_) > 1 else "",
        min_trades=args.opt_min_trades)
        for k, job in enumerate(jobs_, 1)])
    if len(results) == 1:
        print_table(results[0], out)
    else:
        print_folds(results, jobs_, out)
    if args.opt_json:
        doc = to_json(results[0], jobs_[0], timeframe, mode)
        if len(results) > 1:
            doc["folds"] = [to_json(r, j, timeframe, mode) for r, j in zip(results, jobs_,
                                                                          strict=True)]
        args.opt_json.write_text(json.dumps(doc, indent=2))
        out.print(f"wrote {args.opt_json}")
    return 0


def _with_progress(out: Console, run: Any) -> list[OptimizeResult]:
    """A rich progress bar per phase; silent when the console is not a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeRemainingColumn,
    )

    tasks: dict[str, Any] = {}
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=out, disable=not out.is_terminal,
                  transient=False) as bar:
        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done)

        return run(progress)


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    if value == float("inf"):
        return "inf"
    return f"{value:.{digits}f}"


def _cells(s: Summary | None) -> list[str]:
    if s is None:
        return ["-"] * 5
    return [str(s.trades), _fmt(s.profit_factor), _fmt(s.total_return), _fmt(s.max_drawdown_pct),
            _fmt(s.sharpe)]


def print_table(result: OptimizeResult, out: Console) -> None:
    """The top candidates, in-sample and out-of-sample side by side; the searched parameters
    only (those whose value differs between candidates)."""
    from rich.table import Table

    params = result.params
    varied = [k for k in (params[0] if params else {})
              if len({repr(p.get(k)) for p in params}) > 1]
    table = Table(title=f"top {len(result.top)} by in-sample {result.metric}")
    table.add_column("#", justify="right")
    for name in varied:
        table.add_column(name, justify="right")
    table.add_column(result.metric, justify="right", style="bold")
    for side in ("IS", "OOS"):
        for label in ("trades", "PF", "ret %", "DD %", "sharpe"):
            table.add_column(f"{side} {label}", justify="right",
                             style="cyan" if side == "OOS" else None)
    for row in result.top:
        metric = row.in_sample.metric(result.metric)
        table.add_row(str(row.rank), *(str(row.params[k]) for k in varied), _fmt(metric),
                      *_cells(row.in_sample), *_cells(row.out_of_sample))
    out.print(table)
    few = (f", {result.too_few_trades} with fewer than {result.min_trades} trades "
           "(ranked last)" if result.min_trades else "")
    out.print(f"{len(result.in_sample)} run, {result.invalid} refused by Params, "
              f"{len(result.errors)} failed{few}")
    for index, message in list(result.errors.items())[:5]:
        out.print(f"  candidate {result.params[index]}: {message}")


def print_folds(results: list[OptimizeResult], jobs: list[Job], out: Console) -> None:
    """Rolling walk-forward: each fold's in-sample winner and how it did out-of-sample."""
    from rich.table import Table

    table = Table(title=f"walk-forward: best in-sample {results[0].metric} of each fold")
    for label in ("fold", "in-sample", "out-of-sample", "params", results[0].metric,
                  "OOS trades", "OOS PF", "OOS ret %", "OOS DD %", "OOS sharpe"):
        table.add_column(label, justify="right" if label != "params" else "left")
    for k, (result, job) in enumerate(zip(results, jobs, strict=True), 1):
        times = job.candles.get_column("open_time")
        spans = (f"{_day(times[job.start])}..{_day(times[job.split - 1])}",
                 f"{_day(times[job.split])}..{_day(times[job.stop - 1])}")
        if not result.top:
            table.add_row(str(k), *spans, "-", *["-"] * 6)
            continue
        best = result.top[0]
        params = " ".join(f"{n}={v}" for n, v in best.params.items())
        table.add_row(str(k), *spans, params, _fmt(best.in_sample.metric(result.metric)),
                      *_cells(best.out_of_sample))
    out.print(table)
    if results[0].min_trades:
        counts = ", ".join(f"fold {k}: {r.too_few_trades}" for k, r in enumerate(results, 1))
        out.print(f"fewer than {results[0].min_trades} in-sample trades (ranked last): {counts}")


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def to_json(result: OptimizeResult, job: Job, timeframe: str, mode: str) -> dict[str, Any]:
    """Settings, the split, the top candidates (both sides) and every in-sample run."""
    times = job.candles.get_column("open_time")

    def span(start: int, end: int) -> dict[str, Any] | None:
        if end <= start:
            return None
        return {"bars": end - start, "start": _day(times[start]), "end": _day(times[end - 1])}

    return {
        "strategy": job.strategy_name, "symbol": job.symbol, "timeframe": timeframe,
        "mode": mode, "metric": result.metric, "candidates": result.candidates,
        "invalid": result.invalid, "min_trades": result.min_trades,
        "too_few_trades": result.too_few_trades,
        "errors": {str(i): m for i, m in result.errors.items()},
        "in_sample": span(job.start, job.split), "out_of_sample": span(job.split, job.stop),
        "top": [{"rank": r.rank, "params": r.params, "in_sample": r.in_sample.as_dict(),
                 "out_of_sample": r.out_of_sample.as_dict() if r.out_of_sample else None}
                for r in result.top],
        "all": [{"params": result.params[i], "in_sample": s.as_dict()}
                for i, s in sorted(result.in_sample.items())],
    }
