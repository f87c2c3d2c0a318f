"""Optuna studies end to end on real files and processes: a seeded study repeats, a trial the
strategy's constraints refuse is never backtested (counted through a file each evaluation
appends to, from whichever process runs it), a study continues where it stopped, the local pool
gives the serial loop's numbers, and two objectives give a Pareto front."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from tradeterm.backtest.optimize import Job, Summary, load_strategy_class
from tradeterm.backtest.pool import LocalPool, Serial
from tradeterm.backtest.runner import BacktestConfig
from tradeterm.backtest.study import pareto_ranks, run_study
from tradeterm.core.models import TIMEFRAME_MS
from tradeterm.indicators.frame import synthetic_candles

CROSS = '''
import os
import polars as pl
from pydantic import Field
from tradeterm.strategy import Strategy


class Cross(Strategy):
    name = "cross"
    timeframe = "1m"
    constraints = ("fast < slow",)

    class Params(Strategy.Params):
        fast: int = Field(3, ge=2, le=30)
        slow: int = Field(10, ge=3, le=30)

    def signals(self, frame):
        p = self.params
        with open({count!r}, "a") as f:  # one line per evaluation, from any process
            f.write(f"{{p.fast}} {{p.slow}} {{os.getpid()}}\\n")
        fast = pl.col("close").rolling_mean(p.fast)
        slow = pl.col("close").rolling_mean(p.slow)
        up = (fast > slow) & (fast.shift(1) <= slow.shift(1))
        down = (fast < slow) & (fast.shift(1) >= slow.shift(1))
        return frame.with_columns(
            entry_long=up.fill_null(False), entry_short=down.fill_null(False),
            exit_long=down.fill_null(False), exit_short=up.fill_null(False),
            stop=pl.when(up).then(pl.col("close") * 0.99).otherwise(pl.col("close") * 1.01),
            target_1=pl.when(up).then(pl.col("close") * 1.02).otherwise(pl.col("close") * 0.98),
        )
'''


@pytest.fixture(scope="module")
def candles():
    return synthetic_candles(1500, seed=5)


def _strategy(tmp_path: Path) -> tuple[Path, Path]:
    count = tmp_path / "evaluations.txt"
    file = tmp_path / "cross.py"
    file.write_text(CROSS.format(count=str(count)))
    return file, count


def _job(file: Path, candles, split: int = 1000) -> Job:
    return Job(file, "cross", candles, BacktestConfig(), TIMEFRAME_MS["1m"], split)


def _study(pool, file, candles, storage, name="s", trials=8, seed=3, metrics=("sharpe",),
           **kw):
    cls = load_strategy_class(file, "cross")
    return run_study(_job(file, candles), cls, pool, space=cls.param_space(),
                     names=["fast", "slow"], explicit={}, metrics=list(metrics), trials=trials,
                     seed=seed, storage=storage, name=name, batch=4, top=3, **kw)


def _evaluated(count: Path) -> list[tuple[int, int]]:
    return [tuple(int(x) for x in line.split()[:2])  # type: ignore[misc]
            for line in count.read_text().splitlines()]


def test_refused_trials_are_pruned_and_never_evaluated(tmp_path, candles):
    file, count = _strategy(tmp_path)
    with Serial(file, "cross") as pool:
        done = _study(pool, file, candles, tmp_path / "st.sqlite", trials=12)
    seen = _evaluated(count)
    assert seen and all(fast < slow for fast, slow in seen)
    assert done.pruned > 0  # the space (2..30 x 3..30) is ~half fast >= slow
    # every evaluation is a trial run (12 in-sample) or an out-of-sample rerun of the top 3
    assert len(seen) == 12 + 3 == done.ran + len(done.result.top)
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'st.sqlite'}")
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert len(pruned) == done.pruned
    assert all(t.params["fast"] >= t.params["slow"] for t in pruned)
    assert all("constraint fast < slow" in t.user_attrs["refused"] for t in pruned)


def test_a_seed_repeats_the_study_and_another_seed_does_not(tmp_path, candles):
    file, _ = _strategy(tmp_path)
    runs = []
    for k, seed in enumerate((3, 3, 4)):
        with Serial(file, "cross") as pool:
            done = _study(pool, file, candles, tmp_path / f"{k}.sqlite", seed=seed)
        runs.append([(r.params, r.in_sample) for r in done.result.top])
        runs[-1].append(sorted(map(str, done.result.params)))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_a_study_resumes_where_it_stopped(tmp_path, candles):
    file, _ = _strategy(tmp_path)
    storage = tmp_path / "studies.sqlite"
    with Serial(file, "cross") as pool:
        first = _study(pool, file, candles, storage, trials=10)
        second = _study(pool, file, candles, storage, trials=10)
    assert (first.trials_total, second.trials_total, second.ran) == (10, 20, 10)
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{storage}")
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 20
    # the first run's trials are ranked from their stored summaries, not run again
    assert set(first.result.in_sample) < set(second.result.in_sample)
    for number, summary in first.result.in_sample.items():
        assert second.result.in_sample[number] == summary


def test_the_local_pool_gives_the_serial_study(tmp_path, candles):
    file, count = _strategy(tmp_path)
    with Serial(file, "cross") as pool:
        serial = _study(pool, file, candles, tmp_path / "a.sqlite")
    with LocalPool(file, "cross", 2) as pool:
        pooled = _study(pool, file, candles, tmp_path / "b.sqlite")
    assert serial.result.in_sample == pooled.result.in_sample
    assert [(r.index, r.params, r.out_of_sample) for r in serial.result.top] == [
        (r.index, r.params, r.out_of_sample) for r in pooled.result.top]
    pids = {line.split()[2] for line in count.read_text().splitlines()}
    assert len(pids) >= 2  # the pool's evaluations ran in other processes


def test_min_trades_makes_a_thin_trial_lose_in_the_study(tmp_path, candles):
    file, _ = _strategy(tmp_path)
    with Serial(file, "cross") as pool:
        done = _study(pool, file, candles, tmp_path / "m.sqlite", min_trades=10_000)
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'm.sqlite'}")
    values = [t.values[0] for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert values and all(v == float("-inf") for v in values)  # none has 10,000 trades
    assert done.result.too_few_trades == done.trials_total


def test_two_objectives_give_a_pareto_front(tmp_path, candles):
    file, _ = _strategy(tmp_path)
    with Serial(file, "cross") as pool:
        done = _study(pool, file, candles, tmp_path / "p.sqlite", trials=12,
                      metrics=("sharpe", "max_drawdown"), search="nsga2")
    front = done.pareto
    assert front and done.result.top[0].index in front
    runs = done.result.in_sample

    def better(a: Summary, b: Summary) -> bool:  # a dominates b
        sa, sb = a.sharpe or float("-inf"), b.sharpe or float("-inf")
        return (sa >= sb and a.max_drawdown_pct <= b.max_drawdown_pct
                and (sa, a.max_drawdown_pct) != (sb, b.max_drawdown_pct))

    for i in front:
        assert not any(better(runs[j], runs[i]) for j in runs if j != i)
    for i in set(runs) - front:
        assert any(better(runs[j], runs[i]) for j in front)


def test_pareto_ranks_orient_each_metric():
    values = {0: [1.0, 5.0], 1: [2.0, 5.0], 2: [0.5, 1.0], 3: [0.4, 2.0]}
    # maximise the first, minimise the second (a drawdown)
    assert pareto_ranks(values, ["sharpe", "max_drawdown"]) == {1: 0, 2: 0, 0: 1, 3: 1}
    # both maximised: 1 dominates everything; then 0 dominates 2 and 3, which tie
    assert pareto_ranks(values, ["sharpe", "sortino"]) == {1: 0, 0: 1, 2: 2, 3: 2}


def test_json_summary_round_trips_infinity():
    s = Summary(trades=2, win_rate=1.0, profit_factor=float("inf"), expectancy_r=1.0,
                total_return=1.0, max_drawdown_pct=0.0, sharpe=None, calmar=None, net_pnl="3",
                bars=9, sortino=2.0)
    assert Summary.from_dict(json.loads(json.dumps(s.as_dict()))) == s
