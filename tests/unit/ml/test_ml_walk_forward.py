"""Walk-forward training: no model is ever fitted on (or calibrated with) a bar of its test
window or a label reading into it; a leaky feature stops training before any fit; same seed,
same model."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.ml.features import FeatureSpec, LeakageError, build_features
from tradeterm.ml.labels import LabelSpec, make_labels
from tradeterm.ml.models import make_estimator
from tradeterm.ml.store import load, save, sha256
from tradeterm.ml.train import TrainConfig, train_final, walk_forward

SPEC = FeatureSpec("scale_free")


def with_bar_index(frame: pl.DataFrame) -> pl.DataFrame:
    """The scale-free features plus the bar's own index (causal: counted from the first bar),
    so a recording estimator can tell exactly which bars it was handed."""
    feats = build_features(frame, SPEC)
    return feats.with_columns(pl.int_range(pl.len()).cast(pl.Float64).alias("bar"))


class Recorder:
    """A real estimator that notes the bars of its fit and of every prediction it makes."""

    made: list[Recorder] = []

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.fitted = np.array([], dtype=np.int64)
        self.predictions: list[np.ndarray] = []
        Recorder.made.append(self)

    def fit(self, x: np.ndarray, y: np.ndarray) -> Recorder:
        self.fitted = x[:, -1].astype(np.int64)
        self.inner.fit(x, y)
        self.classes_ = self.inner.classes_
        return self

    def __getitem__(self, step: int) -> Any:  # the pipeline's steps, for its importance
        return self.inner[step]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        self.predictions.append(x[:, -1].astype(np.int64))
        return self.inner.predict_proba(x)


def recording(kind: str, seed: int, weights: dict[int, float], threads: int) -> Recorder:
    return Recorder(make_estimator(kind, seed, weights, threads))


@pytest.mark.parametrize("embargo,train_bars", [(0, None), (7, 2500)])
def test_no_model_is_fitted_on_its_test_window(embargo, train_bars):
    Recorder.made = []
    frame = synthetic_candles(9000, seed=11)
    h = 6
    config = TrainConfig(model="logistic", features=SPEC, labels=LabelSpec(horizon=h),
                         n_splits=4, embargo=embargo, train_bars=train_bars)
    result = walk_forward(frame, config, features=with_bar_index, make=recording)
    assert len(Recorder.made) == len(result.windows) == 4  # one model per window
    for model, window in zip(Recorder.made, result.windows, strict=True):
        start, end = window.split.test_start, window.split.test_end
        fitted = model.fitted
        assert fitted.size > 1000
        # every bar the model was fitted on, and the bar its label read, is before the window
        assert int(fitted.max()) + h + embargo < start
        assert np.array_equal(fitted, window.trained_rows[: fitted.size])
        if train_bars:
            assert int(fitted.min()) >= start - h - embargo - train_bars
        # the calibration bars (predicted before the test) are training bars after a purge
        *calibration, test = model.predictions
        for bars in calibration:
            assert np.isin(bars, window.trained_rows).all()
            assert int(bars.min()) > int(fitted.max()) + h
        # the last prediction is the test window, every scored bar of it and nothing else
        assert np.array_equal(test, window.test_rows)
        assert int(test.min()) >= start and int(test.max()) < end


def test_a_label_derived_feature_stops_training_before_any_fit():
    Recorder.made = []
    frame = synthetic_candles(4000, seed=3)

    def cheating(f: pl.DataFrame) -> pl.DataFrame:
        labels = make_labels(f, LabelSpec())
        return with_bar_index(f).with_columns(pl.Series("answer", labels))

    with pytest.raises(LeakageError, match="'answer'"):
        walk_forward(frame, TrainConfig(model="logistic", features=SPEC), features=cheating,
                     make=recording)
    assert Recorder.made == []  # not one model was even built


def test_the_report_has_the_model_and_both_baselines():
    frame = synthetic_candles(6000, seed=8)
    report = walk_forward(frame, TrainConfig(model="lgbm", features=SPEC, n_splits=3)).report
    for who in ("model", "majority", "persistence"):
        s = report[who]
        assert s["bars"] == report["model"]["bars"] > 3000
        assert np.array(s["confusion"]).sum() == s["bars"]
        assert 0 <= s["accuracy"] <= 1 and s["log_loss"] > 0
        assert set(s["per_class"]) == {"down", "flat", "up"}
    majority = np.array(report["majority"]["confusion"])
    assert (majority.sum(axis=0) > 0).sum() <= 2  # a majority baseline predicts one class per window
    assert len(report["windows"]) == 3
    assert sum(report["importance"].values()) == pytest.approx(1.0)
    assert list(report["importance"]) and set(report["importance"]) <= set(SPEC.resolved().columns)


def test_same_seed_same_model_bytes_and_predictions(tmp_path):
    frame = synthetic_candles(5000, seed=9)
    config = TrainConfig(model="lgbm", features=SPEC, n_splits=2, seed=3)
    a = walk_forward(frame, config)
    b = walk_forward(frame, config)
    for wa, wb in zip(a.windows, b.windows, strict=True):
        assert np.array_equal(wa.proba, wb.proba)
    m1, m2 = train_final(frame, config), train_final(frame, config)
    s1 = save(tmp_path / "one", "m", m1, {"trained_at_ms": 0})
    s2 = save(tmp_path / "two", "m", m2, {"trained_at_ms": 0})
    assert s1.manifest["sha256"] == s2.manifest["sha256"] == sha256(s2.path / "model.joblib")
    other = train_final(frame, TrainConfig(model="lgbm", features=SPEC, n_splits=2, seed=4))
    x = build_features(frame, SPEC).drop("open_time").to_numpy()[-500:]
    assert not np.array_equal(m1.predict_proba(x), other.predict_proba(x))  # the seed matters
    loaded, _ = load(tmp_path / "one", "m")
    assert np.array_equal(loaded.predict_proba(x), m1.predict_proba(x))


@pytest.mark.parametrize("kind", ["lgbm", "hgb", "logistic"])
def test_every_model_kind_fits_calibrates_and_gives_probabilities(kind):
    frame = synthetic_candles(3000, seed=12)
    config = TrainConfig(model=kind, features=SPEC, labels=LabelSpec(5, 0.002))
    model = train_final(frame, config)
    assert model.calibrator is not None  # enough bars: the newest 20 % calibrate it
    x = build_features(frame, SPEC).drop("open_time").to_numpy()[-300:]
    p = model.predict_proba(x)
    assert p.shape == (300, 3) and np.allclose(p.sum(axis=1), 1.0) and (p >= 0).all()
    raw = model.raw_proba(x)
    assert not np.allclose(p, raw)  # the calibration changed them
    importance = model.importance()
    assert (importance == {}) if kind == "hgb" else sum(importance.values()) == pytest.approx(1.0)
