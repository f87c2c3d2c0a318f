"""Live inference: the per-row memo returns what the model says of the rounded row, whatever was
asked before, and a window shifted by one bar costs the model about one new row."""

from __future__ import annotations

import numpy as np

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.ml import predict
from tradeterm.ml.features import FeatureSpec
from tradeterm.ml.labels import LabelSpec
from tradeterm.ml.predict import feature_matrix, predict_memo, predict_rows
from tradeterm.ml.train import TrainConfig, train_final

SPEC = FeatureSpec("scale_free", "5m")


def test_the_memo_is_a_function_of_the_rows_and_saves_the_repeated_ones():
    # 5m: a 1,000-bar window spans days, so the session VWAP of all but its first (partial)
    # session does not depend on where the window starts (at 1m it would, for up to a day)
    frame = synthetic_candles(4000, seed=2, interval_ms=300_000)
    model = train_final(frame.head(3000), TrainConfig(model="lgbm", features=SPEC,
                                                      labels=LabelSpec(5, 0.002)))
    asked: list[int] = []
    real = model.predict_proba
    model.predict_proba = lambda x: (asked.append(len(x)), real(x))[1]  # type: ignore[method-assign]
    a = feature_matrix(frame.slice(2000, 1000), SPEC)[400:]
    b = feature_matrix(frame.slice(2001, 1000), SPEC)[400:]  # the next close's window
    direct = predict_rows(model, a.astype(np.float32).astype(np.float64))
    first = predict_memo(model, a)
    assert np.array_equal(first, direct, equal_nan=True)
    asked.clear()
    second = predict_memo(model, b)
    assert 1 <= sum(asked) <= 12  # the newest bar, and a few where EMA 50's seed still shows
    predict._memo.clear()
    assert np.array_equal(second, predict_memo(model, b), equal_nan=True)  # same without memo


def test_explanations_are_remembered_for_a_saved_model_only():
    from tradeterm.ml.predict import explain

    frame = synthetic_candles(3500, seed=5, interval_ms=300_000)
    model = train_final(frame.head(3000), TrainConfig(model="lgbm", features=SPEC,
                                                      labels=LabelSpec(5, 0.002)))
    rows = feature_matrix(frame, SPEC)[-6:]
    calls: list[int] = []
    real = model.contributions
    model.contributions = lambda x, c: (calls.append(len(x)), real(x, c))[1]  # type: ignore[method-assign]
    first = explain(model, rows, 2, memo=True)
    assert calls == [6] and all(t.count(";") == 1 for t in first)
    assert explain(model, rows, 2, memo=True) == first and calls == [6]  # remembered
    assert explain(model, rows[-2:], 0, memo=True) != first[-2:] and calls == [6, 2]  # per class
    rounded = rows.astype(np.float32).astype(np.float64)
    assert explain(model, rounded, 2) == first and calls == [6, 2, 6]  # no memo: asked again
