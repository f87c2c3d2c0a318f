"""A search that learns: Optuna's TPE (one objective) or NSGA-II (two), over the strategy's own
declared parameter space, with the trials run on any evaluator (:mod:`~tradeterm.backtest.pool`)
and the study kept in SQLite beside the journal, so running the same search again continues it.

Why ask-and-tell in batches, not ``study.optimize(n_jobs=...)``: the trials must run in worker
processes (or on a cluster) that hold the candles, not in threads of this process; and the
result must not depend on which worker finishes first. A batch of ``batch`` trials is asked in
order, run anywhere, and told back in trial order, so a seed gives the same study on one core,
on the local pool and on Ray (``batch`` is a setting of its own, not the number of workers).

Constraints (``Strategy.constraints``, the ``Params`` validators) are checked when a trial is
asked: a refused trial is told PRUNED (the sampler learns to avoid that region), counted, and
never run; it does not count toward ``trials``. A trial's in-sample :class:`Summary` is kept in
its user attributes, so a resumed study ranks its old trials without running them again. The
value told to the sampler is the objective; a run with fewer than ``min_trades`` trades, or an
undefined objective (no trade: no Sharpe), is told the worst value (``-inf``, or ``+inf`` for a
minimised metric), so it can never win and the sampler moves away from it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradeterm.backtest.optimize import (
    LOWER_IS_BETTER,
    METRICS,
    Candidate,
    Job,
    OptimizeError,
    OptimizeResult,
    Progress,
    Summary,
    out_of_sample,
    rank,
    refused,
)
from tradeterm.backtest.pool import Evaluator, Task

if TYPE_CHECKING:
    import optuna

    from tradeterm.strategy.api import ParamSpec, Strategy

SEARCHES = ("tpe", "nsga2", "grid", "random")
"""``--search``: the two Optuna samplers, and the candidate lists of ``optimize`` as before."""

MAX_ASKS_PER_TRIAL = 50
"""A space whose constraints refuse almost everything stops after ``trials x 50`` asks."""


@dataclass(slots=True)
class StudyOutcome:
    """An :class:`OptimizeResult` over every complete trial of the study (earlier runs'
    included), and what this run did."""

    result: OptimizeResult
    study_name: str
    trials_total: int  # complete trials in the study now
    ran: int  # trials this run backtested
    pruned: int  # trials this run refused by the constraints (never run)
    pareto: set[int]  # with two objectives: the trials on the first front


def study_name(strategy: str, symbol: str, timeframe: str, first_ms: int, last_ms: int,
               fold: int | None, settings: str) -> str:
    """``ema_cross-BTCUSDT-1m-<first>-<last>-<hash>``: the same strategy, market, range and
    search settings find the same study again. ``settings`` holds what changes the objective
    (metrics, split, costs, searched parameters), hashed so that changing any of them starts a
    new study instead of mixing incomparable trials."""
    digest = hashlib.sha256(settings.encode()).hexdigest()[:10]
    base = f"{strategy}-{symbol.replace('/', '')}-{timeframe}-{first_ms}-{last_ms}-{digest}"
    return base if fold is None else f"{base}-fold{fold}"


def storage_url(path: Path) -> str:
    return f"sqlite:///{path}"


def open_storage(path: Path) -> optuna.storages.RDBStorage:
    """The studies' SQLite file, in WAL mode without an fsync per commit. Why: Optuna commits
    five to seven times per trial (the trial, each parameter, each attribute, the value); with
    SQLite's default full sync that measured 16 ms a commit on this machine, more than the
    backtest of a trial. A crash may lose the last trials' records, which a resumed study
    simply runs again; the file itself stays consistent (WAL)."""
    import sqlite3

    import optuna

    path.parent.mkdir(parents=True, exist_ok=True)

    def connect() -> sqlite3.Connection:
        con = sqlite3.connect(path, timeout=60, check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=OFF")
        return con

    return optuna.storages.RDBStorage(storage_url(path), engine_kwargs={"creator": connect})


def suggest(trial: optuna.Trial, space: dict[str, ParamSpec], names: Sequence[str],
            explicit: dict[str, list[Any]]) -> Candidate:
    """One candidate from the trial: explicit lists as categorical choices, bools as both
    values, numbers within their declared bounds (an open bound stepped in by one unit, or to
    the next float), ints on the integers, ``multiple_of`` as the step."""
    out: Candidate = {}
    for name in names:
        spec = space[name]
        if name in explicit:
            out[name] = trial.suggest_categorical(name, explicit[name])
            continue
        if spec.type is bool:
            out[name] = trial.suggest_categorical(name, [False, True])
            continue
        low = spec.ge if spec.ge is not None else spec.gt
        high = spec.le if spec.le is not None else spec.lt
        if spec.type not in (int, float) or low is None or high is None:
            continue  # keeps its default
        if spec.type is int:
            lo = math.floor(low) + 1 if spec.ge is None else math.ceil(low)
            hi = math.ceil(high) - 1 if spec.le is None else math.floor(high)
            step = max(1, int(spec.multiple_of)) if spec.multiple_of else 1
            if hi > lo:
                out[name] = trial.suggest_int(name, lo, hi, step=step)
            continue
        flo = math.nextafter(float(low), math.inf) if spec.ge is None else float(low)
        fhi = math.nextafter(float(high), -math.inf) if spec.le is None else float(high)
        if spec.multiple_of:
            m = float(spec.multiple_of)
            flo, fhi = math.ceil(flo / m) * m, math.floor(fhi / m) * m
            if fhi > flo:
                out[name] = trial.suggest_float(name, flo, fhi, step=m)
        elif fhi > flo:
            out[name] = trial.suggest_float(name, flo, fhi)
    return out


def _sampler(search: str, seed: int, objectives: int) -> optuna.samplers.BaseSampler:
    import optuna

    if search == "nsga2" or objectives > 1:
        return optuna.samplers.NSGAIISampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _told(summary: Summary, metrics: Sequence[str], min_trades: int) -> list[float]:
    """The values the sampler sees: the metrics, or the worst value for a run that cannot
    win (too few trades, an undefined metric)."""
    values: list[float] = []
    for m in metrics:
        worst = math.inf if m in LOWER_IS_BETTER else -math.inf
        value = summary.metric(m)
        bad = value is None or math.isnan(value) or summary.trades < min_trades
        values.append(worst if bad else float(value))  # type: ignore[arg-type]
    return values


def pareto_ranks(values: dict[int, list[float]], metrics: Sequence[str]) -> dict[int, int]:
    """Non-dominated sorting: 0 for the first front (no trial better on both), 1 for the next
    front once it is removed, and so on. Values are oriented so higher is better."""
    oriented = {i: [-v if m in LOWER_IS_BETTER else v for v, m in zip(vs, metrics, strict=True)]
                for i, vs in values.items()}

    def dominates(a: list[float], b: list[float]) -> bool:
        return all(x >= y for x, y in zip(a, b, strict=True)) and a != b

    left = dict(oriented)
    ranks: dict[int, int] = {}
    front = 0
    while left:
        current = [i for i, v in left.items()
                   if not any(dominates(w, v) for j, w in left.items() if j != i)]
        for i in current:
            ranks[i] = front
            del left[i]
        front += 1
    return ranks


def run_study(job: Job, cls: type[Strategy], pool: Evaluator, *, space: dict[str, ParamSpec],
              names: Sequence[str], explicit: dict[str, list[Any]], metrics: Sequence[str],
              trials: int, seed: int, storage: Path, name: str, search: str = "tpe",
              batch: int = 8, top: int = 10, min_trades: int = 0,
              progress: Progress | None = None, label: str = "") -> StudyOutcome:
    """Run ``trials`` more trials of study ``name`` in ``storage`` (created, or continued),
    then rank every complete trial and re-run the ``top`` out-of-sample. One run per study at a
    time (a second command writing the same study would interleave the trial numbers)."""
    import optuna

    for m in metrics:
        if m not in METRICS:
            raise OptimizeError(f"unknown metric {m!r}; expected one of {', '.join(METRICS)}")
    if not 1 <= len(metrics) <= 2:
        raise OptimizeError("--metric takes one metric, or two for a two-objective search")
    if trials < 1:
        raise OptimizeError(f"--trials expects N >= 1, got {trials}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    directions = [optuna.study.StudyDirection.MINIMIZE if m in LOWER_IS_BETTER
                  else optuna.study.StudyDirection.MAXIMIZE for m in metrics]
    disk = optuna.create_study(storage=open_storage(storage), study_name=name,
                               load_if_exists=True, directions=directions)
    # the sampler works on a copy in memory (TPE re-reads every trial at each suggestion: from
    # SQLite that measured ~0.1 s a trial); each batch is then written to the file in one
    # transaction a trial, in the same order, so trial numbers agree
    study = optuna.create_study(sampler=_sampler(search, seed, len(metrics)),
                                directions=directions)
    study.add_trials(disk.get_trials(deepcopy=False))
    saved = len(study.trials)
    data = pool.dataset(job.candles, job.config, job.timeframe_ms, job.symbol)
    ran = pruned = asks = 0
    phase = f"{label}trials"
    if progress:
        progress(phase, 0, trials)
    while ran < trials and asks < trials * MAX_ASKS_PER_TRIAL:
        asked: list[tuple[optuna.Trial, Candidate]] = []
        while len(asked) < min(batch, trials - ran) and asks < trials * MAX_ASKS_PER_TRIAL:
            trial = study.ask()
            asks += 1
            params = suggest(trial, space, names, explicit)
            why = refused(cls, params)
            if why is not None:
                trial.set_user_attr("refused", why)
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                pruned += 1
                continue
            asked.append((trial, params))
        if not asked:
            break
        tasks = [Task(t.number, p, data, job.start, job.split) for t, p in asked]
        for (trial, params), (_, summary, error) in zip(asked, pool.run(tasks), strict=True):
            trial.set_user_attr("params", params)
            if summary is None:
                trial.set_user_attr("error", error or "?")
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                trial.set_user_attr("in_sample", summary.as_dict())
                study.tell(trial, _told(summary, metrics, min_trades))
        ran += len(asked)
        disk.add_trials(study.get_trials(deepcopy=False)[saved:])
        saved = len(study.trials)
        if progress:
            progress(phase, ran, trials)
    disk.add_trials(study.get_trials(deepcopy=False)[saved:])  # pruned ones of a last round
    return _rank_study(study, job, pool, data, metrics, top, min_trades, name, ran, pruned,
                       progress, label)


def _rank_study(study: optuna.Study, job: Job, pool: Evaluator, data: Any,
                metrics: Sequence[str], top: int, min_trades: int, name: str, ran: int,
                pruned: int, progress: Progress | None, label: str) -> StudyOutcome:
    """Every complete trial as a candidate (index = trial number); the failed ones as errors."""
    import optuna

    done = [t for t in study.get_trials(deepcopy=False)
            if t.state == optuna.trial.TrialState.COMPLETE and "in_sample" in t.user_attrs]
    refused_total = sum(1 for t in study.get_trials(deepcopy=False)
                        if t.state == optuna.trial.TrialState.PRUNED)
    failed = {t.number: str(t.user_attrs.get("error", "?")) for t in study.get_trials(
        deepcopy=False) if t.state == optuna.trial.TrialState.FAIL}
    width = 1 + max([t.number for t in study.get_trials(deepcopy=False)], default=0)
    params: list[Candidate] = [{} for _ in range(width)]
    in_sample: dict[int, Summary] = {}
    for t in done:
        params[t.number] = dict(t.user_attrs["params"])
        in_sample[t.number] = Summary.from_dict(t.user_attrs["in_sample"])
    for number in failed:
        params[number] = dict(study.trials[number].user_attrs.get("params", {}))
    result = OptimizeResult(metric=",".join(metrics), candidates=width, invalid=refused_total,
                            errors=failed, in_sample=in_sample, params=params,
                            min_trades=min_trades)
    result.too_few_trades = sum(s.trades < min_trades for s in in_sample.values())
    pareto: set[int] = set()
    if len(metrics) == 1:
        order = rank(in_sample, metrics[0], min_trades)
    else:
        values = {i: _told(s, metrics, min_trades) for i, s in in_sample.items()}
        fronts = pareto_ranks(values, metrics)
        pareto = {i for i, f in fronts.items() if f == 0}
        first = rank(in_sample, metrics[0], min_trades)
        position = {i: k for k, i in enumerate(first)}
        order = sorted(in_sample, key=lambda i: (fronts[i], position[i]))
    result.top = out_of_sample(pool, data, job, params, order[:max(top, 0)], result, label,
                               progress)
    return StudyOutcome(result=result, study_name=name, trials_total=len(done), ran=ran,
                        pruned=pruned, pareto=pareto)
