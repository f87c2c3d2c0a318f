"""The classifiers: LightGBM (default), scikit-learn's histogram gradient boosting, a logistic
baseline; balanced class weights; probabilities calibrated on held-out bars.

Calibration is time-ordered: the base model is fitted on the older part of a training window,
then a multinomial logistic regression on its log-probabilities (Platt scaling for three
classes) is fitted on the newest ``calibration`` fraction, with ``horizon`` bars purged between
the two so no calibration label was seen in fitting. scikit-learn's ``CalibratedClassifierCV``
would shuffle time into folds and fit five models; this fits one.

Seeds and thread counts are fixed, and LightGBM runs ``deterministic``: same data, same seed,
same trees, same probabilities (a test checks it). The libraries are the optional extra ``ml``;
this is the only module that imports them, and only when a model is built.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MODEL_KINDS: tuple[str, ...] = ("lgbm", "hgb", "logistic")
N_CLASSES = 3


class MissingExtra(RuntimeError):
    """The ``ml`` extra (lightgbm, scikit-learn) is not installed."""


def _need() -> None:
    # Idle OpenMP threads sleep instead of spinning. Spinning, two LightGBM threads on a loaded
    # 2-core machine fitted 130k bars in 126 s against 12 s for one; sleeping, in 17 s
    # (benchmarks/ml.py). libgomp reads this once, when the first library that uses it loads:
    # that is here, so it must be set before the imports below.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import lightgbm  # noqa: F401
        import sklearn  # noqa: F401
    except ImportError:
        raise MissingExtra(
            "the optional ml dependencies are not installed (lightgbm, scikit-learn): install "
            "tradeterm[ml], e.g. uv sync with the ml extra"
        ) from None


def class_weights(y: np.ndarray) -> dict[int, float]:
    """``n / (3 * count)`` per class present (scikit-learn's "balanced")."""
    classes, counts = np.unique(y.astype(np.int64), return_counts=True)
    return {int(c): float(y.size / (len(classes) * k)) for c, k in zip(classes, counts, strict=True)}


def make_estimator(kind: str, seed: int, weights: dict[int, float], threads: int = 1) -> Any:
    """An unfitted scikit-learn-style classifier of ``kind`` (one of :data:`MODEL_KINDS`)."""
    _need()
    if kind == "lgbm":
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            n_estimators=120, learning_rate=0.08, num_leaves=31, min_child_samples=100, max_bin=63,
            subsample=0.8, subsample_freq=1, colsample_bytree=0.8, reg_lambda=1.0,
            class_weight=weights, random_state=seed, n_jobs=threads, deterministic=True,
            force_row_wise=True, verbose=-1,
        )  # fmt: skip
    if kind == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(
            max_iter=120, learning_rate=0.08, max_leaf_nodes=31, min_samples_leaf=100, max_bins=63,
            l2_regularization=1.0, class_weight=weights, random_state=seed, early_stopping=False,
        )  # fmt: skip
    if kind == "logistic":
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(
            SimpleImputer(strategy="median"), StandardScaler(),
            LogisticRegression(C=0.1, class_weight=weights, max_iter=500, random_state=seed),
        )  # fmt: skip
    raise ValueError(f"unknown model {kind!r}; expected one of {', '.join(MODEL_KINDS)}")


def _spread(raw: np.ndarray, classes: Any) -> np.ndarray:
    """Columns of ``raw`` (one per class in ``classes``) placed at their class index; a class
    absent from training gets probability 0."""
    out = np.zeros((raw.shape[0], N_CLASSES))
    for j, c in enumerate(classes):
        out[:, int(c)] = raw[:, j]
    return out


def _full_proba(estimator: Any, x: np.ndarray) -> np.ndarray:
    """Probabilities for all three classes of a fitted scikit-learn-style estimator.

    A LightGBM model is asked through its booster on one thread: the scikit-learn wrapper
    re-validates its parameters on every call, and an OpenMP team spinning on a busy machine
    costs far more than the trees (both measured: milliseconds per bar close)."""
    booster = getattr(estimator, "booster_", None)
    if booster is not None and type(estimator).__name__ == "LGBMClassifier":
        raw = np.asarray(booster.predict(x, num_threads=1), dtype=np.float64)
        if raw.ndim == 1:  # two classes: LightGBM's binary objective gives P(second class)
            raw = np.column_stack([1.0 - raw, raw])
    else:
        raw = np.asarray(estimator.predict_proba(x), dtype=np.float64)
    return _spread(raw, estimator.classes_)


def _softmax_proba(lr: Any, z: np.ndarray) -> np.ndarray:
    """A fitted multinomial LogisticRegression's probabilities, without its input checks."""
    scores = z @ lr.coef_.T + lr.intercept_
    if scores.shape[1] == 1:  # binary: one score for the second class
        scores = np.column_stack([np.zeros(len(z)), scores[:, 0]])
    scores -= scores.max(axis=1, keepdims=True)
    e = np.exp(scores)
    return _spread(e / e.sum(axis=1, keepdims=True), lr.classes_)


@dataclass
class Model:
    """A fitted classifier with its calibrator; what ``store.py`` saves."""

    kind: str
    features: tuple[str, ...]
    seed: int
    base: Any
    calibrator: Any | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def raw_proba(self, x: np.ndarray) -> np.ndarray:
        return _full_proba(self.base, x)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, shape (rows, 3): down, flat, up."""
        p = self.raw_proba(x)
        if self.calibrator is None:
            return p
        return _softmax_proba(self.calibrator, np.log(np.clip(p, 1e-6, 1.0)))

    def importance(self) -> dict[str, float]:
        """Share of the total importance per feature: LightGBM's gain, the logistic model's
        mean absolute (standardised) coefficient; empty for the histogram booster."""
        if self.kind == "lgbm":
            values = np.asarray(self.base.booster_.feature_importance("gain"), dtype=np.float64)
        elif self.kind == "logistic":
            values = np.abs(self.base[-1].coef_).mean(axis=0)
        else:
            return {}
        total = float(values.sum()) or 1.0
        return {f: float(v) / total for f, v in zip(self.features, values, strict=True)}

    def contributions(self, x: np.ndarray, cls: int) -> np.ndarray | None:
        """Per-feature contributions (SHAP values) to the raw score of ``cls``, rows x features;
        None where the model cannot say (only LightGBM and the logistic model can)."""
        if self.kind == "lgbm":
            contrib = np.asarray(self.base.booster_.predict(x, pred_contrib=True, num_threads=1),
                                 dtype=np.float64)
            width = len(self.features) + 1
            classes = list(self.base.classes_)
            if cls not in classes:
                return None
            if contrib.shape[1] == width:  # binary: one block, for the second class
                sign = 1.0 if classes.index(cls) == 1 else -1.0
                return sign * contrib[:, : len(self.features)]
            pos = classes.index(cls)
            return contrib[:, pos * width : pos * width + len(self.features)]
        if self.kind == "logistic":
            *prep, lr = self.base
            z = x
            for step in prep:
                z = step.transform(z)
            classes = list(lr.classes_)
            if cls not in classes:
                return None
            return np.asarray(z * lr.coef_[classes.index(cls)], dtype=np.float64)
        return None


def fit_model(
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    features: tuple[str, ...],
    *,
    seed: int = 7,
    horizon: int = 5,
    calibration: float = 0.2,
    threads: int = 1,
    make: Callable[[str, int, dict[int, float], int], Any] = make_estimator,
) -> Model:
    """Fit ``kind`` on rows ``x`` (time order) with labels ``y`` and calibrate it (module doc).

    ``make`` builds the estimator (tests pass a recorder to see what each fit was given).
    ``threads`` caps every OpenMP/BLAS pool while fitting (docs/ml.md, "Speed")."""
    _need()
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads):
        return _fit(kind, x, y, features, seed, horizon, calibration, threads, make)


def _fit(kind: str, x: np.ndarray, y: np.ndarray, features: tuple[str, ...], seed: int,
         horizon: int, calibration: float, threads: int,
         make: Callable[[str, int, dict[int, float], int], Any]) -> Model:
    n = y.size
    cal = int(n * calibration)
    fit_end = n - cal - horizon  # purge: no fitting label reads a calibration bar
    if cal < 300 or fit_end < 300 or len(np.unique(y[fit_end + horizon :])) < 2:
        base = make(kind, seed, class_weights(y), threads).fit(x, y.astype(np.int64))
        return Model(kind, features, seed, base)
    yf = y[:fit_end].astype(np.int64)
    base = make(kind, seed, class_weights(yf), threads).fit(x[:fit_end], yf)
    model = Model(kind, features, seed, base)
    xc, yc = x[fit_end + horizon :], y[fit_end + horizon :].astype(np.int64)
    from sklearn.linear_model import LogisticRegression

    calibrator = LogisticRegression(C=1.0, max_iter=500)
    calibrator.fit(np.log(np.clip(model.raw_proba(xc), 1e-6, 1.0)), yc)
    model.calibrator = calibrator
    return model
