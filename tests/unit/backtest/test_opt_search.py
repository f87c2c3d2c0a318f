"""Candidate generation, the split and the ranking of ``tradeterm.backtest.optimize``."""

from __future__ import annotations

import pytest
from pydantic import Field, model_validator

from tradeterm.backtest.optimize import (
    OptimizeError,
    Summary,
    grid_candidates,
    grid_values,
    parse_param_lists,
    random_candidates,
    rank,
    split_index,
    validate_candidates,
)
from tradeterm.strategy.api import ParamSpec, Strategy


class Demo(Strategy):
    name = "demo"

    class Params(Strategy.Params):
        fast: int = Field(9, ge=2, le=10)
        slow: int = Field(21, ge=5, le=30)
        k: float = Field(1.5, gt=0, le=5)
        band: float = Field(0.5, gt=0, lt=1)
        flag: bool = False
        label: str = "x"

        @model_validator(mode="after")
        def _order(self) -> Demo.Params:
            if self.fast >= self.slow:
                raise ValueError("fast must be below slow")
            return self

    def signals(self, frame):  # pragma: no cover - never evaluated here
        return frame


SPACE = Demo.param_space()


def test_int_grid_spans_the_bounds_rounded_and_deduplicated():
    assert grid_values(SPACE["fast"], 5) == [2, 4, 6, 8, 10]
    assert grid_values(SPACE["fast"], 3) == [2, 6, 10]
    assert grid_values(SPACE["fast"], 20) == list(range(2, 11))  # 20 points, 9 integers
    assert grid_values(SPACE["fast"], 1) == [9]  # one step: the default


def test_float_grid_steps_off_exclusive_ends():
    assert grid_values(SPACE["k"], 5) == [1.0, 2.0, 3.0, 4.0, 5.0]  # gt=0 excluded, le=5 kept
    assert grid_values(SPACE["band"], 3) == [0.25, 0.5, 0.75]  # both ends open


def test_bool_unbounded_and_multiple_of():
    assert grid_values(SPACE["flag"], 5) == [False, True]
    assert grid_values(SPACE["label"], 5) == ["x"]
    assert grid_values(ParamSpec("open", float, 1.0, ge=0.0), 5) == [1.0]  # no upper bound
    tick = ParamSpec("t", float, 0.5, ge=0.0, le=1.0, multiple_of=0.25)
    assert grid_values(tick, 3) == [0.0, 0.5, 1.0]
    assert grid_values(tick, 5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert set(grid_values(tick, 4)) <= {0.0, 0.25, 0.5, 0.75, 1.0}  # snapped to the multiple


def test_grid_is_the_product_of_explicit_lists_and_vary():
    explicit = parse_param_lists(["fast=3,5", "slow=20"], SPACE)
    assert explicit == {"fast": [3, 5], "slow": [20]}
    only = grid_candidates(SPACE, 5, explicit, expand=False)
    assert only == [{"fast": 3, "slow": 20}, {"fast": 5, "slow": 20}]
    full = grid_candidates(SPACE, 3, explicit, vary=["k", "fast"])
    assert len(full) == 2 * 1 * 3
    assert {c["k"] for c in full} == {1.666666667, 3.333333333, 5.0}  # 10 significant digits
    assert all(set(c) == {"fast", "slow", "k"} for c in full)
    everything = grid_candidates(SPACE, 2)
    assert len(everything) == 2 * 2 * 2 * 2 * 2  # fast, slow, k, band, flag; label fixed


def test_unknown_parameter_and_bad_value_are_errors():
    with pytest.raises(OptimizeError, match="unknown parameter 'nope'"):
        parse_param_lists(["nope=1,2"], SPACE)
    with pytest.raises(OptimizeError, match="not a valid int"):
        parse_param_lists(["fast=a"], SPACE)
    with pytest.raises(OptimizeError, match="unknown parameter"):
        grid_candidates(SPACE, 3, vary=["nope"])


def test_random_candidates_stay_within_bounds_and_repeat_with_the_seed():
    a = random_candidates(SPACE, 50, seed=7)
    assert len(a) == 50 and a == random_candidates(SPACE, 50, seed=7)
    assert a != random_candidates(SPACE, 50, seed=8)
    for c in a:
        assert 2 <= c["fast"] <= 10 and isinstance(c["fast"], int)
        assert 5 <= c["slow"] <= 30
        assert 0 < c["k"] <= 5 and 0 < c["band"] < 1
        assert isinstance(c["flag"], bool)
    assert len({tuple(c.values()) for c in a}) == 50
    picked = random_candidates(SPACE, 10, seed=1, explicit={"fast": [3, 4]}, vary=["slow"])
    assert all(set(c) == {"fast", "slow"} and c["fast"] in (3, 4) for c in picked)


def test_random_gives_fewer_when_the_space_is_small():
    assert len(random_candidates(SPACE, 100, seed=0, vary=["flag"])) == 2


def test_invalid_combinations_are_skipped_and_counted():
    cands = grid_candidates(SPACE, 5, parse_param_lists(["fast=4,8,10", "slow=5,9"], SPACE),
                            expand=False)
    valid, invalid = validate_candidates(Demo, cands)
    assert valid == [{"fast": 4, "slow": 5}, {"fast": 4, "slow": 9}, {"fast": 8, "slow": 9}]
    assert invalid == 3


def test_split_boundary_is_exact():
    assert split_index(100, 0.7) == 70
    assert split_index(100, 0.29) == 29  # 0.29 * 100 is 28.999... in float
    assert split_index(7, 0.5) == 3
    assert split_index(10, 1) == 10
    with pytest.raises(OptimizeError):
        split_index(10, 0)


def _summary(sharpe: float | None, pf: float | None = 1.0, trades: int = 1) -> Summary:
    return Summary(trades=trades, win_rate=1.0, profit_factor=pf, expectancy_r=None,
                   total_return=0.0, max_drawdown_pct=0.0, sharpe=sharpe, calmar=None,
                   net_pnl="0", bars=10)


def test_rank_puts_runs_with_too_few_trades_after_all_others():
    runs = {0: _summary(9.0, trades=2), 1: _summary(1.0, trades=30), 2: _summary(None, trades=30),
            3: _summary(5.0, trades=29), 4: _summary(2.0, trades=31)}
    assert rank(runs, "sharpe", min_trades=30) == [4, 1, 2, 0, 3]
    assert rank(runs, "sharpe") == [0, 3, 4, 1, 2]


def test_rank_puts_undefined_last_and_breaks_ties_by_index():
    runs = {0: _summary(1.0), 1: _summary(None), 2: _summary(3.0), 3: _summary(1.0),
            4: _summary(float("nan"))}
    assert rank(runs, "sharpe") == [2, 0, 3, 1, 4]
    assert rank({0: _summary(0, 2.0), 1: _summary(0, float("inf"))}, "profit_factor") == [1, 0]
    with pytest.raises(OptimizeError):
        rank(runs, "nope")


def test_rolling_folds_tile_the_end_and_keep_the_ratio():
    from tradeterm.backtest.optimize import fold_windows

    assert fold_windows(100, 0.7, 1) == [(0, 70, 100)]
    # 3 folds: o = floor(100 x 0.3 / (0.7 + 0.9)) = 18, in-sample 100 - 54 = 46
    assert fold_windows(100, 0.7, 3) == [(0, 46, 64), (18, 64, 82), (36, 82, 100)]
    with pytest.raises(OptimizeError):
        fold_windows(100, 1, 3)
    with pytest.raises(OptimizeError):
        fold_windows(3, 0.5, 4)
