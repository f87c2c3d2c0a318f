"""The shared ``tests/causality.py`` helper catches look-ahead and accepts causal functions."""

from __future__ import annotations

import polars as pl
import pytest
from causality import assert_causal, cut_points, first_difference

from tradeterm.indicators.frame import synthetic_candles


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return synthetic_candles(400, seed=1)


def test_causal_functions_pass(frame):
    assert_causal(
        lambda f: f.with_columns(
            m=pl.col("close").rolling_mean(10), up=pl.col("close") > pl.col("open"),
            cum=pl.col("volume").cum_sum(), tag=pl.lit("x"),
        ),
        frame,
    )


def test_shift_minus_one_fails_naming_column_and_bar(frame):
    first = cut_points(frame.height, 8, 0)[0] - 1
    with pytest.raises(AssertionError, match=rf"column 'p' at bar {first}:"):
        assert_causal(lambda f: f.with_columns(p=pl.col("close").shift(-1)), frame)


def test_a_whole_frame_statistic_is_look_ahead(frame):
    with pytest.raises(AssertionError, match="'z'"):
        assert_causal(lambda f: f.with_columns(z=pl.col("close") - pl.col("close").mean()), frame)


def test_dropped_rows_are_reported(frame):
    with pytest.raises(AssertionError, match="row count"):
        assert_causal(lambda f: f.drop_nulls().head(10), frame)


def test_first_difference_rules():
    a = pl.DataFrame({"x": [1.0, None, float("nan")], "b": [True, None, False]})
    assert first_difference(a, a.with_columns(x=pl.Series([1.0 + 1e-12, None, float("nan")]))) is None
    assert first_difference(a, a.with_columns(b=pl.Series([True, False, False]))) == ("b", 1)
    assert first_difference(a, a.drop("b")) == ("b", 0)
