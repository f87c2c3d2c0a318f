"""Parameter search for a strategy: grid or random candidates over its declared ranges, each
backtested on the in-sample part of the history, ranked by one metric, and the best re-run on the
out-of-sample rest (walk-forward split), in parallel.

Why this shape:

* Candidates come from ``Strategy.param_space()`` (the pydantic bounds the user already wrote),
  so there is no second place to declare ranges. Combinations the strategy's ``Params`` refuses
  (a validator such as ``fast < slow``) are skipped and counted, never run.
* The strategy is evaluated on the **whole** history (its indicators are causal, the look-ahead
  guard checks that), then the event pass runs on the in-sample slice only; the out-of-sample run
  uses the same evaluation's later bars, so its indicators are warm as they would be live.
  Out-of-sample results are computed only for the top candidates, after ranking: selection never
  sees them.
* Where the backtests run is :mod:`~tradeterm.backtest.pool`'s business (serial, a persistent
  local pool, or Ray): one pool is started per command and reused by every phase and fold.
  Strategy classes live in modules the loader builds from a file, which do not pickle by
  reference, so each worker re-loads the class from its file by name.
* Optuna studies (TPE, NSGA-II) are :mod:`~tradeterm.backtest.study`; this module keeps the
  candidate lists (grid, random, explicit), the split and the ranking both use.
* Results are stored by candidate index and ties rank by that index, so any ``jobs`` gives the
  same table as a serial run, and a seed fixes the random candidates.
"""

from __future__ import annotations

import itertools
import math
import os
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

from tradeterm.core.events import OPTIMIZE_OBJECTIVES

import polars as pl
from pydantic import ValidationError

from tradeterm.backtest.pool import Dataset, Evaluator, Outcome, Task, closing, open_evaluator
from tradeterm.backtest.runner import BacktestConfig
from tradeterm.strategy.api import ParamSpec, Strategy

METRICS: tuple[str, ...] = OPTIMIZE_OBJECTIVES
"""Ranking metrics: higher is better, except :data:`LOWER_IS_BETTER`."""

LOWER_IS_BETTER = frozenset({"max_drawdown"})
"""Metrics a search minimises (the maximum drawdown in % of its peak)."""

Candidate = dict[str, Any]


class OptimizeError(Exception):
    """Bad search settings (unknown parameter, bad value list, empty search); for the user."""


# -- candidates ---------------------------------------------------------------------------------


def _bounds(spec: ParamSpec) -> tuple[float, float, bool, bool] | None:
    """``(low, high, low_open, high_open)``, or None when a side is unbounded."""
    low = spec.ge if spec.ge is not None else spec.gt
    high = spec.le if spec.le is not None else spec.lt
    if low is None or high is None:
        return None
    return float(low), float(high), spec.ge is None, spec.le is None


def _is_numeric(spec: ParamSpec) -> bool:
    return spec.type in (int, float)


def _tidy_float(value: float, spec: ParamSpec) -> float:
    """Snap to ``multiple_of`` if declared; 10 significant digits (no 0.30000000000000004)."""
    if spec.multiple_of:
        value = round(value / spec.multiple_of) * spec.multiple_of
    return float(f"{value:.10g}")


def grid_values(spec: ParamSpec, steps: int) -> list[Any]:
    """``steps`` evenly spaced values of one parameter within its bounds (both ends included
    when inclusive; an exclusive end is stepped off by one interval). Ints are rounded and
    deduplicated; bools give ``[False, True]``; an unbounded or non-numeric parameter, or
    ``steps <= 1``, gives its default only."""
    if spec.type is bool:
        return [False, True]
    bounds = _bounds(spec) if _is_numeric(spec) else None
    if bounds is None or steps <= 1:
        return [spec.default]
    low, high, low_open, high_open = bounds
    if spec.type is int:
        lo = math.floor(low) + 1 if low_open else math.ceil(low)
        hi = math.ceil(high) - 1 if high_open else math.floor(high)
        if hi < lo:
            return [spec.default]
        points = [lo + (hi - lo) * i / (steps - 1) for i in range(steps)]
        return sorted({round(p) for p in points})
    # floats: spread over ``steps + open ends`` intervals and drop the open ends
    total = steps + int(low_open) + int(high_open)
    points = [low + (high - low) * i / (total - 1) for i in range(total)]
    points = points[int(low_open): total - int(high_open)]
    return sorted({_tidy_float(p, spec) for p in points})


def _coerce(spec: ParamSpec, text: str) -> Any:
    """One value of an explicit ``--param name=a,b,c`` list, typed like the parameter (the
    strategy's ``Params`` still validates the bounds)."""
    text = text.strip()
    try:
        if spec.type is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if spec.type is int:
            return int(text)
        if spec.type is float:
            return float(text)
    except ValueError:
        raise OptimizeError(
            f"{spec.name}: {text!r} is not a valid {spec.type.__name__}") from None
    return text


def parse_param_lists(pairs: Iterable[str], space: dict[str, ParamSpec]) -> dict[str, list[Any]]:
    """``["fast=5,9,12", "trend=200"]`` -> ``{"fast": [5, 9, 12], "trend": [200]}``, typed by
    ``space``; an unknown name or an empty list is an :class:`OptimizeError`."""
    out: dict[str, list[Any]] = {}
    for pair in pairs:
        name, sep, values = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise OptimizeError(f"--param expects name=a,b,c, got {pair!r}")
        spec = space.get(name)
        if spec is None:
            known = ", ".join(space) or "none"
            raise OptimizeError(f"unknown parameter {name!r} (parameters: {known})")
        items = [v for v in values.split(",") if v.strip()]
        if not items:
            raise OptimizeError(f"--param {name}: no values")
        out[name] = list(dict.fromkeys(_coerce(spec, v) for v in items))
    return out


def _searched(space: dict[str, ParamSpec], explicit: dict[str, list[Any]],
              vary: Sequence[str] | None) -> list[str]:
    """The parameters a search expands from their bounds: all (or those in ``vary``) that have
    no explicit list."""
    if vary is not None:
        unknown = [v for v in vary if v not in space]
        if unknown:
            raise OptimizeError(
                f"unknown parameter {unknown[0]!r} (parameters: {', '.join(space)})")
    return [n for n in space if n not in explicit and (vary is None or n in vary)]


def grid_candidates(space: dict[str, ParamSpec], steps: int,
                    explicit: dict[str, list[Any]] | None = None,
                    vary: Sequence[str] | None = None, expand: bool = True) -> list[Candidate]:
    """The cartesian product of the explicit lists and (with ``expand``) ``steps`` values of
    every other bounded parameter (or only those in ``vary``). Parameters in neither keep their
    default (they are left out of the candidate dicts)."""
    explicit = explicit or {}
    axes: dict[str, list[Any]] = dict(explicit)
    if expand:
        for name in _searched(space, explicit, vary):
            values = grid_values(space[name], steps)
            if len(values) > 1:
                axes[name] = values
    names = [n for n in space if n in axes]
    return [dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(axes[n] for n in names))]


def _sample(spec: ParamSpec, rng: random.Random) -> Any:
    if spec.type is bool:
        return rng.random() < 0.5
    bounds = _bounds(spec) if _is_numeric(spec) else None
    if bounds is None:
        return spec.default
    low, high, low_open, high_open = bounds
    if spec.type is int:
        lo = math.floor(low) + 1 if low_open else math.ceil(low)
        hi = math.ceil(high) - 1 if high_open else math.floor(high)
        return rng.randint(lo, hi) if hi >= lo else spec.default
    while True:
        value = _tidy_float(rng.uniform(low, high), spec)
        if (low < value or not low_open and value == low) and (
                value < high or not high_open and value == high):
            return value


def random_candidates(space: dict[str, ParamSpec], n: int, seed: int,
                      explicit: dict[str, list[Any]] | None = None,
                      vary: Sequence[str] | None = None) -> list[Candidate]:
    """Up to ``n`` distinct candidates drawn uniformly within the bounds (ints uniform over
    the integers, explicit lists by choice), reproducible with ``seed``. Fewer than ``n`` only
    when the space has fewer distinct points (sampling gives up after ``20 n`` draws)."""
    explicit = explicit or {}
    searched = _searched(space, explicit, vary)
    names = [n for n in space if n in explicit or n in searched]
    rng = random.Random(seed)
    seen: dict[tuple[Any, ...], Candidate] = {}
    for _ in range(20 * n):
        if len(seen) >= n or not names:
            break
        cand = {name: rng.choice(explicit[name]) if name in explicit else _sample(space[name], rng)
                for name in names}
        seen.setdefault(tuple(cand.values()), cand)
    return list(seen.values()) if names else [{}]


def refused(cls: type[Strategy], params: Candidate) -> str | None:
    """Why the strategy refuses ``params`` (its declared ``constraints`` such as ``"fast <
    slow"``, then its ``Params`` and their validators), or None: checked before a run, so a
    refused candidate is never backtested."""
    from tradeterm.strategy.constraints import violated

    try:
        full = cls.Params(**params)
    except ValidationError as exc:
        first = exc.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc']) or 'Params'}: {first['msg']}"
    broken = violated(cls, full.model_dump())
    return f"constraint {broken}" if broken else None


def validate_candidates(cls: type[Strategy], candidates: Iterable[Candidate]
                        ) -> tuple[list[Candidate], int]:
    """The candidates the strategy accepts (:func:`refused`), and how many it refused."""
    valid: list[Candidate] = []
    invalid = 0
    for cand in candidates:
        if refused(cls, cand) is not None:
            invalid += 1
            continue
        valid.append(cand)
    return valid, invalid


# -- the split and one run ----------------------------------------------------------------------


def split_index(bars: int, fraction: float) -> int:
    """Bars in the in-sample part: ``floor(bars x fraction)``, computed in decimal so 0.7 of
    100 bars is exactly 70 (in float, 0.29 x 100 is 28.999...)."""
    if not 0 < fraction <= 1:
        raise OptimizeError(f"--split must be within (0, 1], got {fraction}")
    return int((Decimal(str(fraction)) * bars).to_integral_value(ROUND_FLOOR))


def fold_windows(bars: int, fraction: float, folds: int = 1) -> list[tuple[int, int, int]]:
    """``(start, split, end)`` bar indices of each walk-forward window: in-sample
    ``[start, split)``, out-of-sample ``[split, end)``. One fold is :func:`split_index`. With
    ``folds`` K > 1 the windows roll: the out-of-sample parts (length o) tile the end of the
    history, each window's in-sample part (the rest of ``bars - K o``, about ``fraction`` of a
    window) just before its out-of-sample part."""
    if folds < 1:
        raise OptimizeError(f"--folds expects K >= 1, got {folds}")
    if folds == 1:
        return [(0, split_index(bars, fraction), bars)]
    if not 0 < fraction < 1:
        raise OptimizeError(f"--folds needs --split within (0, 1), got {fraction}")
    f = Decimal(str(fraction))
    oos = int((bars * (1 - f) / (f + folds * (1 - f))).to_integral_value(ROUND_FLOOR))
    ins = bars - folds * oos
    if oos < 1 or ins < 2:
        raise OptimizeError(f"{bars} bars are too few for {folds} folds")
    return [(k * oos, k * oos + ins, (k + 1) * oos + ins) for k in range(folds)]


@dataclass(frozen=True, slots=True)
class Summary:
    """What the table and the ranking need from one backtest (floats; money as exact strings)."""

    trades: int
    win_rate: float | None
    profit_factor: float | None  # inf: winners and no loser; None: no trade
    expectancy_r: float | None
    total_return: float
    max_drawdown_pct: float
    sharpe: float | None
    calmar: float | None
    net_pnl: str
    bars: int
    sortino: float | None = None

    def metric(self, name: str) -> float | None:
        value: float | None = getattr(self, "max_drawdown_pct" if name == "max_drawdown"
                                      else name)
        return value

    def as_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__slots__}
        if out["profit_factor"] == math.inf:
            out["profit_factor"] = "inf"  # JSON has no infinity
        return out

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Summary:
        """Back from :meth:`as_dict` (a resumed study's trials keep their summaries so)."""
        values = dict(doc)
        if values.get("profit_factor") == "inf":
            values["profit_factor"] = math.inf
        return cls(**{k: values[k] for k in cls.__slots__ if k in values})


def summarize(result: Any) -> Summary:
    """:class:`Summary` of a :class:`~tradeterm.backtest.runner.BacktestResult`."""
    from tradeterm.backtest.metrics import result_metrics

    m = result_metrics(result)
    s = m.stats
    if s.profit_factor is not None:
        pf: float | None = float(s.profit_factor)
    else:
        pf = math.inf if s.wins else None
    return Summary(
        trades=s.trades, win_rate=s.win_rate, profit_factor=pf,
        expectancy_r=float(s.average_r) if s.average_r is not None else None,
        total_return=m.return_pct, max_drawdown_pct=m.drawdown.depth_pct, sharpe=m.sharpe,
        calmar=m.calmar, net_pnl=str(s.net_pnl), bars=m.bars, sortino=m.sortino,
    )


@dataclass(frozen=True, slots=True)
class Job:
    """Everything a worker needs, picklable: the strategy by file and name, not by class."""

    strategy_file: Path
    strategy_name: str
    candles: pl.DataFrame
    config: BacktestConfig
    timeframe_ms: int
    split: int  # first out-of-sample bar
    symbol: str = ""
    start: int = 0  # first in-sample bar
    end: int | None = None  # past the last out-of-sample bar (None: the last candle)

    @property
    def stop(self) -> int:
        return self.candles.height if self.end is None else self.end


def load_strategy_class(file: Path, name: str) -> type[Strategy]:
    from tradeterm.strategy.loader import load_file

    for cls in load_file(file):
        if cls.name == name:
            return cls
    raise OptimizeError(f"{file} defines no strategy named {name!r}")


# -- the search ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Ranked:
    """One candidate's place in the table."""

    rank: int
    index: int
    params: Candidate
    in_sample: Summary
    out_of_sample: Summary | None = None


@dataclass(slots=True)
class OptimizeResult:
    metric: str
    candidates: int  # generated
    invalid: int  # refused by Params
    errors: dict[int, str] = field(default_factory=dict)  # candidate index -> message
    in_sample: dict[int, Summary] = field(default_factory=dict)
    params: list[Candidate] = field(default_factory=list)  # valid candidates, by index
    top: list[Ranked] = field(default_factory=list)
    min_trades: int = 0
    too_few_trades: int = 0  # in-sample runs with fewer than min_trades trades (ranked last)


def _rank_key(metric: str, min_trades: int
              ) -> Callable[[tuple[int, Summary]], tuple[int, int, float, int]]:
    def key(item: tuple[int, Summary]) -> tuple[int, int, float, int]:
        index, summary = item
        few = int(summary.trades < min_trades)  # a lucky handful of trades proves nothing
        value = summary.metric(metric)
        if value is None or math.isnan(value):
            return (few, 1, 0.0, index)  # undefined ranks last (of its tier)
        return (few, 0, value if metric in LOWER_IS_BETTER else -value, index)
    return key


def rank(in_sample: dict[int, Summary], metric: str, min_trades: int = 0) -> list[int]:
    """Candidate indices, best ``metric`` first; undefined values after; runs with fewer than
    ``min_trades`` trades after all the others (ranked among themselves the same way); ties by
    index."""
    if metric not in METRICS:
        raise OptimizeError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    return [i for i, _ in sorted(in_sample.items(), key=_rank_key(metric, min_trades))]


Progress = Callable[[str, int, int], None]
"""``progress(phase, done, total)``: phase ``"in-sample"`` then ``"out-of-sample"``."""


def _map(pool: Evaluator, data: Dataset, tasks: list[tuple[int, Candidate, int, int]],
         phase: str, progress: Progress | None) -> list[Outcome]:
    """Run ``(index, params, start, stop)`` tasks on ``pool``; results in task order."""
    total = len(tasks)
    if progress:
        progress(phase, 0, total)

    def done(count: int, of: int) -> None:
        if progress:
            progress(phase, count, of)

    return pool.run([Task(i, params, data, start, stop) for i, params, start, stop in tasks],
                    done)


def optimize(job: Job, candidates: Sequence[Candidate], *, metric: str = "sharpe",
             top: int = 10, jobs: int | None = None, invalid: int = 0,
             progress: Progress | None = None, label: str = "", min_trades: int = 0,
             pool: Evaluator | None = None) -> OptimizeResult:
    """Backtest every candidate in-sample, rank by ``metric``, re-run the ``top`` best
    out-of-sample (when the split leaves bars for it). ``candidates`` must be valid (see
    :func:`validate_candidates`; ``invalid`` is only carried into the result). ``label``
    prefixes the progress phases (``"fold 2 "``). Candidates with fewer than ``min_trades``
    in-sample trades rank after all others and are counted in ``too_few_trades``. ``pool``: a
    started evaluator (:mod:`~tradeterm.backtest.pool`) to reuse; without it one is opened
    for ``jobs`` workers (default: every core) and closed at the end."""
    if metric not in METRICS:
        raise OptimizeError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    if pool is None:
        with closing(open_evaluator(job.strategy_file, job.strategy_name,
                                    min(jobs or os.cpu_count() or 1, len(candidates)))) as own:
            return optimize(job, candidates, metric=metric, top=top, invalid=invalid,
                            progress=progress, label=label, min_trades=min_trades, pool=own)
    data = pool.dataset(job.candles, job.config, job.timeframe_ms, job.symbol)
    result = OptimizeResult(metric=metric, candidates=len(candidates) + invalid, invalid=invalid,
                            params=list(candidates), min_trades=min_trades)
    tasks = [(i, c, job.start, job.split) for i, c in enumerate(candidates)]
    for i, summary, error in _map(pool, data, tasks, f"{label}in-sample", progress):
        if summary is None:
            result.errors[i] = error or "?"
        else:
            result.in_sample[i] = summary
    result.too_few_trades = sum(s.trades < min_trades for s in result.in_sample.values())
    best = rank(result.in_sample, metric, min_trades)[:max(top, 0)]
    result.top = out_of_sample(pool, data, job, list(candidates), best, result, label, progress)
    return result


def out_of_sample(pool: Evaluator, data: Dataset, job: Job, params: Sequence[Candidate],
                  best: list[int], result: OptimizeResult, label: str,
                  progress: Progress | None) -> list[Ranked]:
    """The ``best`` candidates (indices into ``params``, ranked) re-run on the bars after the
    split, beside their in-sample summaries; an out-of-sample error goes to ``result.errors``."""
    oos: dict[int, Summary | None] = {}
    if best and job.split < job.stop - 1:
        tasks = [(i, params[i], job.split, job.stop) for i in best]
        for i, summary, error in _map(pool, data, tasks, f"{label}out-of-sample", progress):
            oos[i] = summary
            if error:
                result.errors[i] = f"out-of-sample: {error}"
    return [Ranked(r, i, params[i], result.in_sample[i], oos.get(i))
            for r, i in enumerate(best, 1)]
