"""Walk-forward training and its report, beside two baselines a model must beat to mean anything.

``walk_forward`` fits one model per purged split (``splits.py``) and predicts only that split's
test window; the report pools the out-of-sample predictions of every window: accuracy, log loss,
per-class precision and recall, the confusion matrix, for the model and for

- **majority**: always the most frequent class of the training window (its frequencies as the
  probabilities);
- **persistence**: the class of the last move already known at bar t, i.e. the label of bar
  ``t - horizon`` (whose outcome closed at t), with the training window's transition
  frequencies as the probabilities.

Before anything is fitted the features pass the prefix check (``features.require_causal``).
``train_final`` then fits the model that is saved on all labelled bars.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from tradeterm.ml.features import FeatureFn, FeatureSpec, feature_fn, require_causal
from tradeterm.ml.labels import CLASS_NAMES, LabelSpec, make_labels
from tradeterm.ml.models import Model, fit_model, make_estimator
from tradeterm.ml.splits import Split, check_split, walk_forward_splits

EPS = 1e-15


@dataclass(frozen=True, slots=True)
class TrainConfig:
    model: str = "lgbm"
    features: FeatureSpec = field(default_factory=FeatureSpec)
    labels: LabelSpec = field(default_factory=LabelSpec)
    n_splits: int = 5
    embargo: int = 0
    train_bars: int | None = None  # None: expanding window; else a sliding one of this many bars
    seed: int = 7
    threads: int = 1
    leak_cuts: int = 4

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model, "features": self.features.as_dict(),
            "labels": self.labels.as_dict(), "n_splits": self.n_splits, "embargo": self.embargo,
            "train_bars": self.train_bars, "seed": self.seed,
        }  # fmt: skip


def scores(y: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """Accuracy, log loss, per-class precision/recall and the confusion matrix (rows: true
    class, columns: predicted) of probabilities ``proba`` against labels ``y`` (0..2)."""
    yi = y.astype(np.int64)
    pred = proba.argmax(axis=1)
    confusion = np.zeros((3, 3), dtype=np.int64)
    np.add.at(confusion, (yi, pred), 1)
    p = np.clip(proba[np.arange(yi.size), yi], EPS, 1.0)
    per_class = {}
    for c, name in enumerate(CLASS_NAMES):
        predicted, actual, hit = confusion[:, c].sum(), confusion[c, :].sum(), confusion[c, c]
        per_class[name] = {
            "precision": float(hit / predicted) if predicted else None,
            "recall": float(hit / actual) if actual else None,
            "support": int(actual),
        }
    return {
        "bars": int(yi.size),
        "accuracy": float((pred == yi).mean()) if yi.size else None,
        "log_loss": float(-np.log(p).mean()) if yi.size else None,
        "per_class": per_class,
        "confusion": confusion.tolist(),
    }


def majority_proba(y_train: np.ndarray, rows: int) -> np.ndarray:
    freq = np.bincount(y_train.astype(np.int64), minlength=3).astype(np.float64)
    freq /= freq.sum()
    out = np.tile(freq, (rows, 1))
    out[:, int(freq.argmax())] += 1e-9  # ties: argmax is the majority class
    return out


def persistence_proba(labels: np.ndarray, train: np.ndarray, test: np.ndarray, horizon: int
                      ) -> np.ndarray:
    """P(label[t] | label[t - horizon]) from the training window, looked up for each test bar;
    where the previous label is unknown, the training frequencies. Argmax of each row is the
    previous class when that is the most likely transition (persistence), else what follows it
    most often."""
    counts = np.ones((4, 3))  # row 3: previous label unknown; +1 smoothing
    prev_tr = train - horizon
    ok = prev_tr >= 0
    cur = labels[train[ok]].astype(np.int64)
    prv = labels[prev_tr[ok]]
    prv = np.where(np.isnan(prv), 3, prv).astype(np.int64)
    np.add.at(counts, (prv, cur), 1)
    table = counts / counts.sum(axis=1, keepdims=True)
    prev_te = test - horizon
    prv_te = np.full(test.size, 3, dtype=np.int64)
    ok = prev_te >= 0
    known = labels[prev_te[ok]]
    prv_te[ok] = np.where(np.isnan(known), 3, known).astype(np.int64)
    return np.asarray(table[prv_te])


@dataclass
class WindowResult:
    split: Split
    trained_rows: np.ndarray  # bar indices the model was fitted on (labelled, features known)
    test_rows: np.ndarray  # bar indices scored
    proba: np.ndarray


@dataclass
class WalkForward:
    windows: list[WindowResult]
    report: dict[str, Any]


Make = Callable[[str, int, dict[int, float], int], Any]


def design(frame: pl.DataFrame, features: FeatureFn) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    """The feature matrix (float64, NaN = missing), its column names, and the rows where every
    feature is known."""
    feats = features(frame)
    names = tuple(c for c in feats.columns if c != "open_time")
    x = feats.select(names).cast(pl.Float64).to_numpy()
    return x, names, ~np.isnan(x).any(axis=1)


def walk_forward(
    frame: pl.DataFrame,
    config: TrainConfig,
    *,
    features: FeatureFn | None = None,
    make: Make = make_estimator,
) -> WalkForward:
    """Fit one model per split and score it on the window after it (module doc)."""
    features = features or feature_fn(config.features)
    require_causal(features, frame, cuts=config.leak_cuts, seed=config.seed)
    x, names, complete = design(frame, features)
    labels = make_labels(frame, config.labels)
    h = config.labels.horizon
    labelled = complete & ~np.isnan(labels)
    splits = walk_forward_splits(frame.height, config.n_splits, horizon=h, embargo=config.embargo,
                                 train_bars=config.train_bars)
    windows: list[WindowResult] = []
    pooled: dict[str, list[np.ndarray]] = {"y": [], "model": [], "majority": [], "persistence": []}
    importance: dict[str, float] = {}
    for split in splits:
        check_split(split, h)
        train = split.train[labelled[split.train]]
        test = split.test[labelled[split.test]]
        model = fit_model(config.model, x[train], labels[train], names, seed=config.seed,
                          horizon=h, threads=config.threads, make=make)
        proba = model.predict_proba(x[test]) if test.size else np.zeros((0, 3))
        windows.append(WindowResult(split, train, test, proba))
        pooled["y"].append(labels[test])
        pooled["model"].append(proba)
        pooled["majority"].append(majority_proba(labels[train], test.size))
        pooled["persistence"].append(persistence_proba(labels, train, test, h))
        for k, v in model.importance().items():
            importance[k] = importance.get(k, 0.0) + v / len(splits)
    y = np.concatenate(pooled["y"])
    times = frame.get_column("open_time")
    report = {
        "model": scores(y, np.concatenate(pooled["model"])),
        "majority": scores(y, np.concatenate(pooled["majority"])),
        "persistence": scores(y, np.concatenate(pooled["persistence"])),
        "windows": [
            {"train_from": int(times[int(w.trained_rows[0])]) if w.trained_rows.size else None,
             "train_to": int(times[int(w.trained_rows[-1])]) if w.trained_rows.size else None,
             "test_from": int(times[w.split.test_start]), "test_to": int(times[w.split.test_end - 1]),
             "accuracy": scores(labels[w.test_rows], w.proba)["accuracy"]}
            for w in windows
        ],
        "importance": dict(sorted(importance.items(), key=lambda kv: -kv[1])),
    }  # fmt: skip
    return WalkForward(windows, report)


def train_final(frame: pl.DataFrame, config: TrainConfig, *, features: FeatureFn | None = None
                ) -> Model:
    """The model to save: fitted (and calibrated) on every labelled bar of ``frame``."""
    features = features or feature_fn(config.features)
    x, names, complete = design(frame, features)
    labels = make_labels(frame, config.labels)
    rows = np.flatnonzero(complete & ~np.isnan(labels))
    if config.train_bars is not None:
        rows = rows[-config.train_bars :]
    return fit_model(config.model, x[rows], labels[rows], names, seed=config.seed,
                     horizon=config.labels.horizon, threads=config.threads)
