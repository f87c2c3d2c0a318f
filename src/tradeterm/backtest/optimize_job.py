"""An optimisation as the engine runs it for the backtest screen's optimisation view: the form's
choices in, a display-ready :class:`~tradeterm.core.events.OptimizeReport` out (the trial table,
a heatmap over two parameters, the equity curves of the best few).

It is ``tradeterm optimize``'s machinery, not a copy: the candidates of
:func:`~tradeterm.backtest.optimize.grid_candidates` / ``random_candidates`` ranked by
:func:`~tradeterm.backtest.optimize.optimize`, or an Optuna study
(:func:`~tradeterm.backtest.study.run_study`, kept in ``studies.sqlite`` beside the journal, so
the same search continues), the same walk-forward split and out-of-sample re-runs. The two
mapped parameters are searched; every other parameter keeps the form's value (one-value lists),
so a heatmap cell is one combination; a TPE search's many distinct values are binned.

It runs inside the engine's backtest child (``backtest.job._child_main``), on the serial
evaluator: a pool's workers would outlive a child the engine kills on cancel, and the engine
shares its cores with live trading. Progress is reported per trial (a wrapping evaluator sees
each outcome, so "best so far" is exact, whatever the search).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tradeterm.core.events import (
    OPTIMIZE_METHODS,
    OPTIMIZE_OBJECTIVES,
    EquityCurve,
    OptimizeHeatmap,
    OptimizeReport,
    OptimizeTrial,
)

if TYPE_CHECKING:
    import polars as pl

    from tradeterm.backtest.optimize import Summary
    from tradeterm.backtest.pool import Dataset, Done, Evaluator, Outcome, Task
    from tradeterm.backtest.runner import BacktestConfig
    from tradeterm.strategy.loader import LoadedStrategy

METHODS = OPTIMIZE_METHODS
OBJECTIVES = OPTIMIZE_OBJECTIVES
MAX_TRIALS = 2_000
"""A bound on one request (each trial is a backtest in the engine's child)."""
TABLE_TRIALS = 500
"""Trials in the report's table (the best); the heatmap uses all of them."""
OOS_TOP = 10
"""Best in-sample trials re-run out-of-sample (as ``optimize --top``)."""
CURVES = 5
"""Equity curves in the report: the best few distinct parameter sets."""
CURVE_POINTS = 200
MAX_AXIS = 10
"""Distinct values per heatmap axis before they are binned."""

Progress = Callable[[str, int, int, "str | None"], None]
"""``progress(phase, done, total, best so far shown)``."""


class OptimizeJobError(Exception):
    """A choice that cannot run; the message is for the user (one line)."""


@dataclass(frozen=True, slots=True)
class OptimizeRequest:
    strategy: str
    symbol: str
    timeframe: str
    first_day: str | None = None
    last_day: str | None = None
    method: str = "tpe"
    trials: int = 50  # tpe, random: trials; grid: see ``steps``
    steps: int = 5  # grid: values per mapped parameter
    objective: str = "sharpe"
    x: str | None = None  # the mapped parameters (default: the first two numeric ones)
    y: str | None = None
    params: tuple[tuple[str, str], ...] = ()  # the others' values, as typed
    split: float = 0.7
    seed: int = 0
    min_trades: int = 0


def downsample(values: Sequence[float], points: int = CURVE_POINTS) -> tuple[float, ...]:
    """At most about ``points`` evenly spaced samples, always ending with the last value."""
    n = len(values)
    if n <= points:
        return tuple(float(v) for v in values)
    step = math.ceil(n / points)
    picked = [float(values[i]) for i in range(0, n, step)]
    if (n - 1) % step:
        picked.append(float(values[n - 1]))
    return tuple(picked)


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _axis(values: Sequence[float]) -> tuple[list[str], Callable[[float], int]]:
    """An axis' labels and the column of a value: each distinct value, or at most ``MAX_AXIS``
    equal bins labelled ``low-high`` when there are more (whole numbers stay whole)."""
    distinct = sorted(set(values))
    if len(distinct) <= MAX_AXIS:
        where = {v: k for k, v in enumerate(distinct)}
        return [_shown(v) for v in distinct], lambda v: where[v]
    low, high = distinct[0], distinct[-1]
    if all(float(v).is_integer() for v in distinct):
        step = math.ceil((high - low + 1) / MAX_AXIS)
        count = math.ceil((high - low + 1) / step)
        spans = [(int(low + k * step), int(min(high, low + (k + 1) * step - 1)))
                 for k in range(count)]
        labels = [f"{a}-{b}" if b > a else str(a) for a, b in spans]
        return labels, lambda v: int((v - low) // step)
    width = (high - low) / MAX_AXIS
    labels = [f"{low + width * k:.3g}-{low + width * (k + 1):.3g}" for k in range(MAX_AXIS)]
    return labels, lambda v: min(MAX_AXIS - 1, int((v - low) / width))


def heatmap(points: Sequence[tuple[float, float, float | None]], x: str, y: str,
            lower_is_better: bool = False) -> OptimizeHeatmap:
    """The best objective per cell of ``(x value, y value, objective)`` points; a cell with no
    trial, or only undefined objectives, is None."""
    x_labels, x_of = _axis([p[0] for p in points])
    y_labels, y_of = _axis([p[1] for p in points])
    grid: list[list[float | None]] = [[None] * len(x_labels) for _ in y_labels]
    for vx, vy, value in points:
        if value is None or math.isnan(value):
            continue
        row, col = y_of(vy), x_of(vx)
        old = grid[row][col]
        if old is None or (value < old if lower_is_better else value > old):
            grid[row][col] = value
    return OptimizeHeatmap(x, y, tuple(x_labels), tuple(y_labels),
                           tuple(tuple(r) for r in grid), lower_is_better)


class _Watched:
    """An evaluator that runs one task at a time on ``inner`` and reports each in-sample
    outcome (count and best objective so far) and each out-of-sample one."""

    def __init__(self, inner: Evaluator, split: int, trials: int, objective: str,
                 progress: Progress) -> None:
        from tradeterm.backtest.optimize import LOWER_IS_BETTER

        self.inner, self.split, self.trials = inner, split, trials
        self.objective, self.progress = objective, progress
        self.lower = objective in LOWER_IS_BETTER
        self.workers = inner.workers
        self.done = 0
        self.best: float | None = None
        self.oos = 0

    def dataset(self, candles: pl.DataFrame, config: BacktestConfig, timeframe_ms: int,
                symbol: str) -> Dataset:
        return self.inner.dataset(candles, config, timeframe_ms, symbol)

    def best_text(self) -> str | None:
        return None if self.best is None else f"{self.objective} {self.best:.3f}"

    def run(self, tasks: Sequence[Task], done: Done | None = None) -> list[Outcome]:
        out: list[Outcome] = []
        for task in tasks:
            (outcome,) = self.inner.run([task])
            out.append(outcome)
            summary = outcome[1]
            if task.stop == self.split:  # in-sample
                self.done += 1
                value = summary.metric(self.objective) if summary is not None else None
                if value is not None and not math.isnan(value) and (
                        self.best is None or (value < self.best if self.lower
                                              else value > self.best)):
                    self.best = value
                self.progress("trials", self.done, max(self.trials, self.done),
                              self.best_text())
            else:
                self.oos += 1
                self.progress("out-of-sample", self.oos, len(tasks), self.best_text())
            if done:
                done(len(out), len(tasks))
        return out

    def close(self) -> None:
        self.inner.close()


def _cells(summary: Summary | None) -> tuple[str, ...]:
    from tradeterm.backtest.optimize_cli import _cells as cli_cells

    return tuple(cli_cells(summary))


def run_optimize_job(settings: Any, loaded: LoadedStrategy, request: OptimizeRequest,
                     progress: Progress = lambda *_: None) -> OptimizeReport:
    """Load the candles, search, rank, re-run the best out-of-sample and their whole-range
    equity; every problem the user can fix is an :class:`OptimizeJobError`."""
    from tradeterm.backtest.cli import UsageError, load_candles
    from tradeterm.backtest.optimize import (
        LOWER_IS_BETTER,
        Job,
        OptimizeError,
        fold_windows,
        grid_candidates,
        optimize,
        parse_param_lists,
        random_candidates,
        rank,
        validate_candidates,
    )
    from tradeterm.backtest.pool import open_evaluator
    from tradeterm.backtest.runner import BacktestConfig, rules_for
    from tradeterm.core.models import TIMEFRAME_MS

    cls = loaded.cls
    space = cls.param_space()
    r = request
    numeric = [n for n, s in space.items() if s.type in (int, float)
               and (s.ge is not None or s.gt is not None) and (s.le is not None or s.lt is not None)]
    x = r.x or (numeric[0] if numeric else None)
    y = r.y or next((n for n in numeric if n != x), None)
    if x is None or y is None:
        raise OptimizeJobError(f"{cls.name} has fewer than two bounded numeric parameters to map")
    for name in (x, y):
        if name not in numeric:
            raise OptimizeJobError(f"{name}: not a bounded numeric parameter of {cls.name} "
                                   f"(choose from {', '.join(numeric)})")
    if x == y:
        raise OptimizeJobError("choose two different parameters")
    try:
        fixed = parse_param_lists([f"{k}={v}" for k, v in r.params if k not in (x, y)], space)
        if any(len(v) != 1 for v in fixed.values()):
            raise OptimizeJobError("the other parameters take one value each")
        progress("loading candles", 0, 1, None)
        try:
            candles = load_candles(settings, r.timeframe, symbol=r.symbol,
                                   first_day=r.first_day or None, last_day=r.last_day or None)
        except UsageError as exc:
            raise OptimizeJobError(str(exc)) from None
        config = BacktestConfig.from_settings(settings, rules_for(r.symbol))
        ((start, split, end),) = fold_windows(candles.height, r.split, 1)
        if split - start < 2:
            raise OptimizeJobError(f"split {r.split} leaves fewer than 2 in-sample bars")
        job = Job(loaded.file, cls.name, candles, config, TIMEFRAME_MS[r.timeframe], split,
                  r.symbol, start, end)
        if r.method == "tpe":
            total = r.trials
            candidates: list[dict[str, Any]] = []
            invalid = 0
        else:
            generated = (grid_candidates(space, r.steps, fixed, vary=[x, y]) if r.method == "grid"
                         else random_candidates(space, r.trials, r.seed, fixed, vary=[x, y]))
            candidates, invalid = validate_candidates(cls, generated)
            if not candidates:
                raise OptimizeJobError(f"all {len(generated)} candidates are refused by "
                                       f"{cls.name}'s constraints")
            total = len(candidates)
        pool = _Watched(open_evaluator(loaded.file, cls.name, 1), split, total, r.objective,
                        progress)
        try:
            if r.method == "tpe":
                study = _study(settings, cls, job, pool, r, x, y, fixed)
                result, pruned = study.result, study.result.invalid
            else:
                result = optimize(job, candidates, metric=r.objective, top=OOS_TOP,
                                  invalid=invalid, min_trades=r.min_trades, pool=pool)
                pruned = invalid
            order = rank(result.in_sample, r.objective, r.min_trades)
            best = _distinct(order, result.params)[:CURVES]
            curves = _curves(pool, job, result.params, best, progress, pool.best_text(),
                             (x, y))
        finally:
            pool.close()
    except OptimizeError as exc:
        raise OptimizeJobError(str(exc)) from None
    defaults = {n: s.default for n, s in space.items()}
    oos = {row.index: row.out_of_sample for row in result.top}
    searched = [x, y]  # the others are the form's values, the same in every trial
    trials = tuple(
        OptimizeTrial(i, tuple((n, _shown(result.params[i].get(n, defaults[n])))
                               for n in searched),
                      _objective(result.in_sample[i], r.objective),
                      _cells(result.in_sample[i]),
                      _cells(oos[i]) if i in oos and oos[i] is not None else None,
                      result.in_sample[i].net_pnl)
        for i in order[:TABLE_TRIALS])
    points = [(float(result.params[i].get(x, defaults[x])),
               float(result.params[i].get(y, defaults[y])),
               _objective(result.in_sample[i], r.objective)) for i in order]
    label = (f"grid ({r.steps} steps)" if r.method == "grid"
             else f"{r.method} {r.trials} trials (seed {r.seed})")
    return OptimizeReport(
        title=f"{cls.name} on {r.symbol} {r.timeframe}: {label}, by {r.objective}",
        method=r.method, objective=r.objective, bars=candles.height, in_sample_bars=split - start,
        trials=trials, refused=pruned, failed=len(result.errors),
        heatmap=heatmap(points, x, y, r.objective in LOWER_IS_BETTER), curves=curves)


def _distinct(order: list[int], params: list[dict[str, Any]]) -> list[int]:
    """``order`` without the trials that repeat an earlier one's parameters (a converged TPE
    study asks the same point again; its curve would be drawn several times over itself)."""
    seen: set[str] = set()
    out: list[int] = []
    for i in order:
        key = repr(sorted(params[i].items()))
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out


def _objective(summary: Summary, objective: str) -> float | None:
    value = summary.metric(objective)
    return None if value is None or math.isnan(value) else float(value)


def _study(settings: Any, cls: Any, job: Any, pool: Any, r: OptimizeRequest, x: str, y: str,
           fixed: dict[str, list[Any]]) -> Any:
    """The TPE search, as ``tradeterm optimize --search tpe`` keys and stores it."""
    from tradeterm.backtest.study import run_study, study_name

    names = [n for n in cls.param_space() if n in (x, y) or n in fixed]
    times = job.candles.get_column("open_time")
    key = json.dumps({
        "metrics": [r.objective], "names": names,
        "explicit": {k: [repr(v) for v in vs] for k, vs in fixed.items()},
        "split": [job.start, job.split, job.stop], "min_trades": r.min_trades,
        "config": repr(job.config), "search": "tpe"}, sort_keys=True)
    name = study_name(cls.name, job.symbol, r.timeframe, int(times[0]), int(times[-1]), None,
                      key)
    return run_study(job, cls, pool, space=cls.param_space(), names=names, explicit=fixed,
                     metrics=[r.objective], trials=r.trials, seed=r.seed,
                     storage=settings.journal_file.parent / "studies.sqlite", name=name,
                     search="tpe", top=OOS_TOP, min_trades=r.min_trades)


def _curves(pool: _Watched, job: Any, params: list[dict[str, Any]], best: list[int],
            progress: Progress, best_text: str | None, mapped: tuple[str, str]
            ) -> tuple[EquityCurve, ...]:
    """The whole-range equity (in- then out-of-sample, one run) of each of ``best``."""
    from tradeterm.backtest.runner import simulate

    cls = pool.inner.cls  # type: ignore[attr-defined]  # the serial evaluator's class
    curves: list[EquityCurve] = []
    for k, i in enumerate(best, 1):
        progress("equity curves", k - 1, len(best), best_text)
        frame = cls(params[i]).evaluate(job.candles).slice(job.start, job.stop - job.start)
        result = simulate(frame, job.config, job.timeframe_ms, symbol=job.symbol,
                          strategy=job.strategy_name)
        shown = " ".join(f"{n}={_shown(params[i][n])}" for n in mapped if n in params[i])
        curves.append(EquityCurve(i, f"#{k} {shown}".strip(), downsample(result.equity.tolist())))
    progress("equity curves", len(best), len(best), best_text)
    return tuple(curves)
