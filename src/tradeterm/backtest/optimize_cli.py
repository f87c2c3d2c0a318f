"""``tradeterm optimize STRATEGY [--grid | --random N] [--param name=a,b,c ...] --split 0.7 ...``

Exit status: 0 the search ran, 2 the strategy, a parameter, the search settings or the candles
cannot be used. Candles come from ``--data`` or the store, exactly as for ``tradeterm backtest``.
See ``docs/optimize.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # rich, polars and the runner load only when the command runs
    from rich.console import Console

    from tradeterm.backtest.optimize import Job, OptimizeResult, Progress, Summary


@contextlib.contextmanager
def closing(pool: Any) -> Iterator[Any]:
    try:
        yield pool
    finally:
        pool.close()


def add_optimize_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``optimize`` on the main parser's subparsers (argparse only: nothing heavy)."""
    from tradeterm.backtest.cli import add_cost_arguments

    p = subparsers.add_parser(
        "optimize", help="parameter search (Optuna TPE/NSGA-II, grid, random) with a "
        "walk-forward split, over one or several symbols and timeframes"
    )
    p.add_argument("strategy", help="strategy name (its `name`)")
    p.add_argument("--symbol", "--symbols", dest="opt_symbols", action="append", default=[],
                   metavar="S[,S]", help="e.g. BTC/USDT; several (comma-separated or repeated) "
                   "make a research matrix (default BTC/USDT)")
    p.add_argument("--timeframe", "--timeframes", dest="opt_timeframes", action="append",
                   default=[], metavar="TF[,TF]",
                   help="candle timeframe(s) (default: the strategy's)")
    p.add_argument("--data", dest="opt_data", type=Path,
                   help="parquet of candles (open_time or timestamp_ms, OHLCV) "
                   "instead of the store")
    p.add_argument("--from", dest="opt_from", help="first day, YYYY-MM-DD (UTC)")
    p.add_argument("--to", dest="opt_to", help="last day, YYYY-MM-DD (UTC, included)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--search", dest="opt_search", choices=("tpe", "nsga2", "grid", "random"),
                      help="tpe (default; nsga2 with two metrics): an Optuna study that learns "
                      "and resumes; grid / random: the candidate lists")
    mode.add_argument("--grid", dest="opt_grid", action="store_true",
                      help="grid over every bounded parameter (or those in --vary)")
    mode.add_argument("--random", dest="opt_random", type=int, metavar="N",
                      help="N random candidates within the bounds")
    p.add_argument("--trials", dest="opt_trials", type=int, default=100, metavar="N",
                   help="tpe/nsga2: trials to run now (refused ones not counted; default 100)")
    p.add_argument("--batch", dest="opt_batch", type=int, default=8, metavar="N",
                   help="tpe/nsga2: trials asked and run together (default 8; the results "
                   "depend on the seed and this, not on the workers)")
    p.add_argument("--study", dest="opt_study", metavar="NAME",
                   help="study name (default: from strategy, symbol, timeframe, range, settings)")
    p.add_argument("--storage", dest="opt_storage", type=Path, metavar="FILE",
                   help="studies' SQLite file (default: studies.sqlite beside the journal)")
    p.add_argument("--ray", dest="opt_ray", nargs="?", const="", default=None,
                   metavar="ADDRESS", help="run the trials on a Ray cluster (default address: "
                   "RAY_ADDRESS, else a local Ray); needs the cluster extra")
    p.add_argument("--steps", dest="opt_steps", type=int, default=5,
                   help="grid points per numeric parameter (default 5)")
    p.add_argument("--vary", dest="opt_vary", metavar="A,B",
                   help="search only these parameters (the rest keep their defaults)")
    p.add_argument("--seed", dest="opt_seed", type=int, default=0,
                   help="random / tpe / nsga2 seed (default 0)")
    p.add_argument("--param", dest="opt_params", action="append", default=[], metavar="K=A,B",
                   help="explicit values for a parameter (repeatable; one value fixes it)")
    p.add_argument("--split", dest="opt_split", type=float, default=0.7,
                   help="in-sample fraction of the bars (default 0.7; 1 = no out-of-sample)")
    p.add_argument("--folds", dest="opt_folds", type=int, default=1,
                   help="rolling walk-forward windows, each split by --split (default 1)")
    p.add_argument("--metric", dest="opt_metric", default="sharpe", metavar="M[,M2]",
                   help="objective: sharpe (default), sortino, calmar, profit_factor, "
                   "expectancy_r, total_return, max_drawdown (minimised); two, comma-separated, "
                   "for a two-objective NSGA-II search (e.g. sharpe,max_drawdown)")
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

    from concurrent.futures.process import BrokenProcessPool

    from rich.markup import escape

    out = console or Console()
    from tradeterm.backtest.guard_hook import guard_before

    if (refused := guard_before(args, settings, out, "opt", "optimize")) is not None:
        return refused
    try:
        return _run(args, settings, out)
    except (UsageError, OptimizeError) as exc:
        out.print(f"[bold red]tradeterm optimize:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    except BrokenProcessPool:  # the strategy killed its worker (a C extension's crash, OOM)
        out.print("[bold red]tradeterm optimize:[/] a worker process died while running the "
                  "strategy; rerun with --jobs 1 to see its error", soft_wrap=True)
        return 2


def split_list(values: list[str]) -> list[str]:
    """``["BTC/USDT,ETH/USDT", "SOL/USDT"]`` -> the three, in order, once each."""
    return list(dict.fromkeys(v.strip() for item in values for v in item.split(",")
                              if v.strip()))


@dataclass(frozen=True, slots=True)
class Search:
    """What to search and how, read once from the command line (shared by every cell of a
    research matrix)."""

    mode: str  # tpe, nsga2, grid, random, explicit
    label: str
    metrics: tuple[str, ...]
    candidates: list[dict[str, Any]]  # grid / random / explicit: the valid ones
    invalid: int
    explicit: dict[str, list[Any]]
    names: list[str]  # tpe / nsga2: the searched parameters


def _search(args: argparse.Namespace, cls: Any) -> Search:
    from tradeterm.backtest.cli import UsageError
    from tradeterm.backtest.optimize import (
        METRICS,
        _searched,
        grid_candidates,
        parse_param_lists,
        random_candidates,
        validate_candidates,
    )

    space = cls.param_space()
    explicit = parse_param_lists(args.opt_params, space)
    vary = [v.strip() for v in args.opt_vary.split(",") if v.strip()] if args.opt_vary else None
    metrics = tuple(m.strip() for m in args.opt_metric.split(",") if m.strip())
    for m in metrics:
        if m not in METRICS:
            raise UsageError(f"--metric: unknown metric {m!r}; expected one of "
                             f"{', '.join(METRICS)}")
    if not 1 <= len(metrics) <= 2:
        raise UsageError("--metric takes one metric, or two (M1,M2) for NSGA-II")
    mode = args.opt_search or ("grid" if args.opt_grid else "random" if args.opt_random
                               else "explicit" if explicit else "tpe")
    if len(metrics) == 2 and mode not in ("tpe", "nsga2"):
        raise UsageError("two metrics need an Optuna search (--search nsga2)")
    if mode == "tpe" and len(metrics) == 2:
        mode = "nsga2"
    if mode in ("tpe", "nsga2"):
        if args.opt_trials < 1:
            raise UsageError(f"--trials expects N >= 1, got {args.opt_trials}")
        if args.opt_batch < 1:
            raise UsageError(f"--batch expects N >= 1, got {args.opt_batch}")
        names = [n for n in space if n in explicit or n in _searched(space, explicit, vary)]
        return Search(mode, f"{mode} {args.opt_trials} trials (seed {args.opt_seed}, batch "
                      f"{args.opt_batch})", metrics, [], 0, explicit, names)
    if mode == "random":
        n = args.opt_random or args.opt_trials
        if n < 1:
            raise UsageError("--random expects N >= 1")
        candidates = random_candidates(space, n, args.opt_seed, explicit, vary)
        label = f"random {n} (seed {args.opt_seed})"
    else:
        if args.opt_steps < 1:
            raise UsageError("--steps expects N >= 1")
        candidates = grid_candidates(space, args.opt_steps, explicit, vary,
                                     expand=mode == "grid")
        label = f"grid ({args.opt_steps} steps)" if mode == "grid" else "explicit lists"
    valid, invalid = validate_candidates(cls, candidates)
    if not valid:
        raise UsageError(f"all {len(candidates)} candidates are refused by {cls.name}'s Params "
                         "or constraints")
    return Search(mode, label, metrics, valid, invalid, explicit, [])


def _evaluator(args: argparse.Namespace, file: Path, name: str) -> Any:
    """The pool every cell and fold of this command shares (started once)."""
    import importlib

    from tradeterm.backtest.cli import UsageError
    from tradeterm.backtest.pool import open_evaluator

    if args.opt_ray is not None:
        try:
            importlib.import_module("ray")  # only to say clearly that it is missing
        except ImportError:
            raise UsageError("--ray needs ray: install the cluster extra "
                             "(uv sync --extra cluster, or pip install 'tradeterm[cluster]')"
                             ) from None
        try:
            return open_evaluator(file, name, ray=args.opt_ray or None)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UsageError(f"--ray: cannot use the Ray cluster: {first}") from None
    return open_evaluator(file, name, args.opt_jobs or os.cpu_count() or 1)


def _run(args: argparse.Namespace, settings: Any, out: Console) -> int:
    from tradeterm.backtest.cli import UsageError, load_candles
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
    search = _search(args, cls)
    symbols = split_list(args.opt_symbols) or ["BTC/USDT"]
    timeframes = split_list(args.opt_timeframes) or [cls.timeframe]
    for timeframe in timeframes:
        if timeframe not in TIMEFRAME_MS:
            raise UsageError(
                f"unknown timeframe {timeframe!r}; expected one of {', '.join(TIMEFRAME_MS)}")
    if args.opt_min_trades < 0:
        raise UsageError(f"--min-trades expects N >= 0, got {args.opt_min_trades}")
    if args.opt_data and len(symbols) * len(timeframes) > 1:
        raise UsageError("--data holds one symbol and timeframe; a matrix reads the store")
    cells = [(symbol, timeframe, load_candles(
        settings, timeframe, symbol=symbol, data=args.opt_data, first_day=args.opt_from,
        last_day=args.opt_to)) for symbol in symbols for timeframe in timeframes]
    docs: list[dict[str, Any]] = []
    best: list[tuple[str, str, OptimizeResult | None]] = []
    with _with_progress(out) as progress, closing(_evaluator(args, found.file, cls.name)) as pool:
        where = (f"Ray ({pool.workers} CPUs on {getattr(pool, 'nodes', 1)} node(s))"
                 if args.opt_ray is not None else f"{pool.workers} worker(s)")
        for symbol, timeframe, candles in cells:
            tag = f"{symbol} {timeframe} " if len(cells) > 1 else ""
            results, jobs_, doc = _one_cell(args, settings, out, found.file, cls, search,
                                            symbol, timeframe, candles, pool, where,
                                            progress, tag)
            docs.append(doc)
            best.append((symbol, timeframe, results[-1] if results else None))
    if len(cells) > 1:
        print_matrix(best, search.metrics, out)
    if args.opt_json:
        document = docs[0] if len(docs) == 1 else {"matrix": docs}
        args.opt_json.write_text(json.dumps(document, indent=2))
        out.print(f"wrote {args.opt_json}")
    return 0


def _one_cell(args: argparse.Namespace, settings: Any, out: Console, file: Path, cls: Any,
              search: Search, symbol: str, timeframe: str, candles: Any, pool: Any, where: str,
              progress: Any, tag: str) -> tuple[list[OptimizeResult], list[Job], dict[str, Any]]:
    """One symbol and timeframe: every fold's search, its table, its JSON document."""
    from tradeterm.backtest.cli import UsageError, config_from_args
    from tradeterm.backtest.optimize import Job, fold_windows, optimize
    from tradeterm.core.models import TIMEFRAME_MS

    config = config_from_args(settings, symbol, args.opt_slip_ticks, args.opt_slip_bps,
                              args.opt_balance)
    windows = fold_windows(candles.height, args.opt_split, args.opt_folds)
    if windows[0][1] - windows[0][0] < 2:
        raise UsageError(f"--split {args.opt_split} leaves fewer than 2 in-sample bars")
    jobs_ = [Job(file, cls.name, candles, config, TIMEFRAME_MS[timeframe], split,
                 symbol, start, end) for start, split, end in windows]
    is_bars = windows[0][1] - windows[0][0]
    folds = f", {len(windows)} rolling folds" if len(windows) > 1 else ""
    metric_text = ",".join(search.metrics)
    size = (f"{len(search.candidates)} candidates ({search.invalid} refused by Params)"
            if search.candidates else f"parameters {', '.join(search.names) or 'none'}")
    out.print(f"{cls.name} {symbol} {timeframe}: {search.label}, {size}, {where}, in-sample "
              f"{is_bars} of {windows[0][2] - windows[0][0]} bars{folds}, ranked by "
              f"{metric_text}")
    results: list[OptimizeResult] = []
    studies: list[Any] = []
    for k, job in enumerate(jobs_, 1):
        label = tag + (f"fold {k} " if len(jobs_) > 1 else "")
        if search.candidates:
            results.append(optimize(
                job, search.candidates, metric=search.metrics[0], top=args.opt_top,
                invalid=search.invalid, progress=progress, label=label,
                min_trades=args.opt_min_trades, pool=pool))
            continue
        study = _study(args, settings, cls, search, job, timeframe, pool, progress, label,
                       k if len(jobs_) > 1 else None)
        studies.append(study)
        results.append(study.result)
    if len(results) == 1:
        print_table(results[0], out, studies[0].pareto if studies else None)
    else:
        print_folds(results, jobs_, out)
    for study in studies:
        out.print(f"study {study.study_name}: {study.trials_total} complete trials "
                  f"({study.ran} run now, {study.pruned} refused by constraints and never run)")
    doc = to_json(results[0], jobs_[0], timeframe, search.label)
    if studies:
        doc["study"] = {"name": studies[0].study_name, "trials": studies[0].trials_total,
                        "ran": studies[0].ran, "pruned": studies[0].pruned,
                        "pareto": sorted(studies[0].pareto)}
    if len(results) > 1:
        doc["folds"] = [to_json(r, j, timeframe, search.label) for r, j in zip(
            results, jobs_, strict=True)]
    return results, jobs_, doc


def _study(args: argparse.Namespace, settings: Any, cls: Any, search: Search, job: Job,
           timeframe: str, pool: Any, progress: Any, label: str, fold: int | None) -> Any:
    from tradeterm.backtest.study import run_study, study_name

    times = job.candles.get_column("open_time")
    settings_key = json.dumps({
        "metrics": search.metrics, "names": search.names,
        "explicit": {k: [repr(v) for v in vs] for k, vs in search.explicit.items()},
        "split": [job.start, job.split, job.stop], "min_trades": args.opt_min_trades,
        "config": repr(job.config), "search": search.mode}, sort_keys=True)
    name = args.opt_study or study_name(cls.name, job.symbol, timeframe, int(times[0]),
                                        int(times[-1]), None, settings_key)
    if fold is not None:
        name = f"{name}-fold{fold}"
    storage = args.opt_storage or settings.journal_file.parent / "studies.sqlite"
    return run_study(job, cls, pool, space=cls.param_space(), names=search.names,
                     explicit=search.explicit, metrics=search.metrics, trials=args.opt_trials,
                     seed=args.opt_seed, storage=storage, name=name, search=search.mode,
                     batch=args.opt_batch, top=args.opt_top, min_trades=args.opt_min_trades,
                     progress=progress, label=label)


def bar_console(out: Console) -> Console:
    """Where a command's progress bars go: the report's console when it is a terminal (rich
    keeps the bar below the lines printed meanwhile), else stderr (``tradeterm optimize >
    results.txt`` still shows its bars, and the file gets none). When neither is a terminal
    (a pipe, CI, a test's capture) the bars are disabled, so logs stay clean."""
    from rich.console import Console

    return out if out.is_terminal else Console(stderr=True)


@contextlib.contextmanager
def _with_progress(out: Console) -> Iterator[Progress]:
    """``progress(phase, done, total)`` drawing a rich bar per phase (:func:`bar_console`);
    silent when neither stdout nor stderr is a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bars

    tasks: dict[str, Any] = {}
    console = bar_console(out)
    with Bars("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
              TimeRemainingColumn(), console=console, disable=not console.is_terminal,
              transient=False, redirect_stdout=console is out) as bar:
        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield progress


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


def oos_ranks(result: OptimizeResult) -> dict[int, int]:
    """The top candidates ranked again by their out-of-sample first metric (1 = best), so a
    winner that does not hold out of sample shows at a glance."""
    from tradeterm.backtest.optimize import rank

    metric = result.metric.split(",")[0]
    oos = {r.index: r.out_of_sample for r in result.top if r.out_of_sample is not None}
    return {i: k for k, i in enumerate(rank(oos, metric), 1)}


def print_table(result: OptimizeResult, out: Console, pareto: set[int] | None = None) -> None:
    """The top candidates, in-sample and out-of-sample side by side, with their out-of-sample
    rank; the searched parameters only (those whose value differs between candidates)."""
    from rich.table import Table

    metrics = result.metric.split(",")
    params = [p for p in result.params if p]
    names = list(dict.fromkeys(k for p in params for k in p))
    varied = [k for k in names if len({repr(p.get(k)) for p in params}) > 1]
    table = Table(title=f"top {len(result.top)} by in-sample {' and '.join(metrics)}"
                  + (" (* on the Pareto front)" if pareto else ""))
    table.add_column("#", justify="right")
    table.add_column("OOS #", justify="right", style="cyan")
    for name in varied:
        table.add_column(name, justify="right")
    for metric in metrics:
        table.add_column(metric, justify="right", style="bold")
    for side in ("IS", "OOS"):
        for label in ("trades", "PF", "ret %", "DD %", "sharpe"):
            table.add_column(f"{side} {label}", justify="right",
                             style="cyan" if side == "OOS" else None)
    again = oos_ranks(result)
    for row in result.top:
        mark = "*" if pareto and row.index in pareto else ""
        table.add_row(f"{row.rank}{mark}", str(again.get(row.index, "-")),
                      *(str(row.params.get(k, "-")) for k in varied),
                      *(_fmt(row.in_sample.metric(m)) for m in metrics),
                      *_cells(row.in_sample), *_cells(row.out_of_sample))
    out.print(table)
    few = (f", {result.too_few_trades} with fewer than {result.min_trades} trades "
           "(ranked last)" if result.min_trades else "")
    out.print(f"{len(result.in_sample)} run, {result.invalid} refused by Params, "
              f"{len(result.errors)} failed{few}")
    for index, message in list(result.errors.items())[:5]:
        out.print(f"  candidate {result.params[index]}: {message}")


def print_matrix(best: list[tuple[str, str, OptimizeResult | None]], metrics: tuple[str, ...],
                 out: Console) -> None:
    """The research matrix: each symbol and timeframe's in-sample winner (last fold's, with
    folds) and how it did out of sample."""
    from rich.table import Table

    table = Table(title=f"research matrix: best in-sample {metrics[0]} of each market")
    for label in ("symbol", "timeframe", "params", metrics[0], "IS trades", "OOS trades",
                  "OOS PF", "OOS ret %", "OOS DD %", "OOS sharpe"):
        table.add_column(label, justify="left" if label in ("symbol", "timeframe", "params")
                         else "right")
    for symbol, timeframe, result in best:
        if result is None or not result.top:
            table.add_row(symbol, timeframe, "-", *["-"] * 7)
            continue
        top = result.top[0]
        table.add_row(symbol, timeframe, " ".join(f"{k}={v}" for k, v in top.params.items()),
                      _fmt(top.in_sample.metric(metrics[0])), str(top.in_sample.trades),
                      *_cells(top.out_of_sample))
    out.print(table)


def print_folds(results: list[OptimizeResult], jobs: list[Job], out: Console) -> None:
    """Rolling walk-forward: each fold's in-sample winner and how it did out-of-sample."""
    from rich.table import Table

    metric = results[0].metric.split(",")[0]
    table = Table(title=f"walk-forward: best in-sample {metric} of each fold")
    for label in ("fold", "in-sample", "out-of-sample", "params", metric,
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
        table.add_row(str(k), *spans, params, _fmt(best.in_sample.metric(metric)),
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
