"""The look-ahead guard: clean strategies pass, peeking ones are caught with column and bar."""

from __future__ import annotations

import polars as pl
import pytest
from strat_samples import Centered, Peeker, SmaCross

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.api import StrategyOutputError
from tradeterm.strategy.lookahead import check_lookahead, cut_points, first_difference


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return synthetic_candles(1500, seed=11)


def test_a_clean_strategy_passes(frame):
    report = check_lookahead(SmaCross(), frame, cuts=12, seed=0)
    assert report.ok and len(report.cuts) == 12
    assert all(c > SmaCross.warmup for c in report.cuts)


def test_shift_minus_one_is_caught_with_the_column_and_first_bar(frame):
    report = check_lookahead(Peeker(), frame, cuts=12, seed=0)
    assert not report.ok
    # The peeking column is null at each prefix's last bar; the earliest cut shows it first.
    first = min(report.cuts) - 1
    assert (report.column, report.first_bar) == ("next_close", first)
    assert report.bar_time == frame.get_column("open_time")[first]
    assert report.full_value == frame.get_column("close")[first + 1]
    assert report.prefix_value is None
    assert "next_close" in report.reason and f"bar {first}" in report.reason


def test_a_peek_inside_an_expression_is_caught_on_the_signal_column(frame):
    class Inline(SmaCross):
        name = "inline"

        def signals(self, f):
            return super().signals(f).with_columns(
                entry_long=pl.col("close").shift(-1) > pl.col("close")
            )

    report = check_lookahead(Inline(), frame, cuts=12, seed=0)
    assert (report.ok, report.column, report.first_bar) == (False, "entry_long", min(report.cuts) - 1)


def test_a_centered_rolling_window_is_caught(frame):
    report = check_lookahead(Centered(), frame, cuts=12, seed=0)
    assert not report.ok and report.column == "smooth"
    assert report.first_bar == min(report.cuts) - 2  # the window sees two bars ahead


def test_the_guard_does_not_judge_an_invalid_strategy(frame):
    class Invalid(SmaCross):
        name = "invalid"

        def signals(self, f):
            return super().signals(f).drop("entry_long")

    with pytest.raises(StrategyOutputError, match="entry_long"):
        check_lookahead(Invalid(), frame)


def test_cut_points_are_seeded_distinct_and_after_the_warmup():
    points = cut_points(100, 12, seed=5, warmup=40)
    assert points == cut_points(100, 12, seed=5, warmup=40)
    assert len(set(points)) == 12 and min(points) > 40 and max(points) < 100
    assert cut_points(10, 12, seed=0, warmup=20) == ()
    assert len(cut_points(10, 50, seed=0)) == 9


def test_first_difference_treats_nulls_nans_and_float_noise_as_equal():
    a = pl.DataFrame({"x": [1.0, None, float("nan"), 3.0], "s": ["a", None, "c", "d"]})
    b = pl.DataFrame({"x": [1.0 + 1e-13, None, float("nan"), 3.0], "s": ["a", None, "c", "d"]})
    assert first_difference(a, b) is None
    c = b.with_columns(s=pl.Series(["a", "b", "c", "d"]))
    assert first_difference(a, c) == ("s", 1)
    assert first_difference(a, b.drop("s")) == ("s", 0)
