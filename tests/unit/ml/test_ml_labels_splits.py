"""Labels (three classes over a horizon) and purged walk-forward splits."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.ml.labels import DOWN, FLAT, UP, LabelSpec, make_labels
from tradeterm.ml.splits import Split, SplitError, check_split, walk_forward_splits


def _frame(closes: list[float]) -> pl.DataFrame:
    n = len(closes)
    return pl.DataFrame({
        "open_time": np.arange(n, dtype=np.int64) * 60_000, "open": closes,
        "high": [c * 1.001 for c in closes], "low": [c * 0.999 for c in closes],
        "close": closes, "volume": [1.0] * n,
    })


def test_labels_compare_the_close_horizon_bars_ahead():
    closes = [100.0, 100.0, 100.0, 101.0, 99.0, 100.2]
    labels = make_labels(_frame(closes), LabelSpec(horizon=2, threshold=0.005))
    # t0 -> t2 (100: flat), t1 -> t3 (+1 %: up), t2 -> t4 (-1 %: down), t3 -> t5 (-0.8 %: down)
    assert labels[:4].tolist() == [FLAT, UP, DOWN, DOWN]
    assert np.isnan(labels[4:]).all()  # the last `horizon` bars have no future yet


def test_an_atr_threshold_scales_with_volatility():
    frame = synthetic_candles(500, seed=1)
    fixed = make_labels(frame, LabelSpec(horizon=5, threshold=0.005))
    wide = make_labels(frame, LabelSpec(horizon=5, atr_mult=50.0))
    known = ~np.isnan(wide)
    assert (wide[known] == FLAT).all() and (fixed[~np.isnan(fixed)] != FLAT).any()
    assert np.isnan(wide[:14]).all()  # no ATR yet, no threshold, no label


@pytest.mark.parametrize("n,k,h,embargo,train_bars", [
    (5000, 5, 5, 0, None), (5000, 4, 30, 10, None), (9000, 6, 1, 3, 1000),
])
def test_no_training_label_reaches_a_test_window(n, k, h, embargo, train_bars):
    splits = walk_forward_splits(n, k, horizon=h, embargo=embargo, train_bars=train_bars)
    assert len(splits) == k
    covered = np.concatenate([s.test for s in splits])
    assert covered.tolist() == list(range(splits[0].test_start, n))  # windows tile the end
    for s in splits:
        assert int(s.train.max()) + h + embargo < s.test_start
        assert not np.intersect1d(s.train, np.arange(s.test_start, n)).size  # nothing from later
        if train_bars:
            assert s.train.size == train_bars


def test_check_split_refuses_an_overlap_with_the_label_horizon():
    check_split(Split(np.arange(0, 95), 100, 200), horizon=5)
    with pytest.raises(SplitError, match="label reading bar 100"):
        check_split(Split(np.arange(0, 96), 100, 200), horizon=5)
    with pytest.raises(SplitError):
        walk_forward_splits(500, 5, horizon=5)  # too short for the minimum training window
