"""Predictions for a strategy: from a saved model (live), or walk-forward (backtests).

**Saved model.** ``fresh_model`` loads a stored model and refuses it, with the reason, when it is
older than the strategy allows; ``predict_frame`` computes the manifest's features on the candle
frame and returns calibrated probabilities per bar.

**Walk-forward.** A backtest evaluates a strategy once on the whole history, and a model saved
today has seen most of that history. ``walk_forward_proba`` instead trains one model per window
on the bars before it (purged of every label that reads into the window) and predicts only that
window. Windows are anchored at the frame's first bar, so the prediction at bar t is the same
whatever follows t (the look-ahead guard passes); they are not anchored the same way in a live
window that starts elsewhere, which is why live trading uses a saved model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from tradeterm.ml import models
from tradeterm.ml.features import FeatureSpec, feature_array
from tradeterm.ml.labels import LabelSpec, make_labels
from tradeterm.ml.models import Model, fit_model
from tradeterm.ml.store import MANIFEST_FILE, Saved, load, version_of


class ModelRefused(ValueError):
    """A saved model may not be used (too old, missing, changed); the message says why."""


_cache: dict[tuple[str, str], tuple[tuple[int, int], Model, Saved]] = {}


def _stamp(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)
    return (st.st_ino, st.st_mtime_ns)


def fresh_model(root: Path, name: str, max_age_hours: float, now_s: float | None = None,
                notice: Callable[[str], None] = print) -> tuple[Model, Saved]:
    """The saved model ``name``, refused when older than ``max_age_hours`` (reason in the
    error). Loaded once per process and manifest version; the age is checked on every call.

    A new version (a retrain replaced ``manifest.json``, see ``store.py``) is picked up at the
    next call, with a ``notice``. If it cannot be loaded (missing or changed file, unreadable)
    while an earlier version is in use, that one stays in use, with a notice saying why; it is
    tried again only when the manifest changes again."""
    import time

    key = (str(root), name)
    stamp = _stamp(root / name / MANIFEST_FILE)
    held = _cache.get(key)
    if held is None or held[0] != stamp:
        try:
            model, saved = load(root, name)
        except ValueError as exc:
            if held is None:
                raise ModelRefused(str(exc)) from None
            notice(f"model {name}: its new version cannot be used ({exc}); still using version "
                   f"{version_of(held[2].manifest)}")
            _cache[key] = (stamp, held[1], held[2])
        else:
            if held is not None and version_of(saved.manifest) != version_of(held[2].manifest):
                notice(f"model {name}: now using version {version_of(saved.manifest)} "
                       f"(was {version_of(held[2].manifest)})")
                _memo.pop(id(held[1]), None)
                _why.pop(id(held[1]), None)
            _cache[key] = (stamp, model, saved)
    _, model, saved = _cache[key]
    trained = saved.manifest["trained_at_ms"] / 1000
    age_h = ((now_s if now_s is not None else time.time()) - trained) / 3600
    if age_h > max_age_hours:
        raise ModelRefused(
            f"model {name} is {age_h:.1f} h old, over max_age_hours={max_age_hours:g}; retrain it "
            f"(tradeterm ml train --symbol {saved.manifest.get('symbol', '...')} --timeframe "
            f"{saved.manifest.get('timeframe', '...')}) or raise max_age_hours"
        )
    return model, saved


def feature_matrix(frame: pl.DataFrame, spec: FeatureSpec) -> np.ndarray:
    return feature_array(frame, spec)


def predict_rows(model: Model, x: np.ndarray) -> np.ndarray:
    """Probabilities per row of ``x``; NaN rows where a feature is still missing (warm-up)."""
    out = np.full((x.shape[0], 3), np.nan)
    ok = ~np.isnan(x).any(axis=1)
    if ok.any():
        out[ok] = model.predict_proba(x[ok])
    return out


_memo: dict[int, dict[bytes, np.ndarray]] = {}
MEMO_ROWS = 200_000


def predict_memo(model: Model, x: np.ndarray) -> np.ndarray:
    """:func:`predict_rows` of ``x`` rounded to float32, remembered per rounded row.

    At each close a live window is the previous one shifted by a bar, so all but the newest
    bar's features repeat: after the indicators' seeding has faded they agree to float32 (7
    digits) whatever bar the window starts at, and their probabilities come from the memo. The
    result is still a function of the rows alone (the model always sees the rounded row), so it
    does not depend on what was asked before: the look-ahead guard's verdict is unchanged."""
    memo = _memo.setdefault(id(model), {})
    if len(memo) > MEMO_ROWS:
        memo.clear()
    r = x.astype(np.float32)
    out = np.full((x.shape[0], 3), np.nan)
    keys = [row.tobytes() for row in r]
    todo = [i for i, k in enumerate(keys) if k not in memo and not np.isnan(r[i]).any()]
    if todo:
        fresh = model.predict_proba(r[todo].astype(np.float64))
        for i, p in zip(todo, fresh, strict=True):
            memo[keys[i]] = p
    for i, k in enumerate(keys):
        hit = memo.get(k)
        if hit is not None:
            out[i] = hit
    return out


def predict_frame(model: Model, saved: Saved, frame: pl.DataFrame, start: int = 0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """(probabilities, feature matrix) of ``frame`` with the saved model's features; rows
    before ``start`` (the strategy's warm-up) are not predicted (NaN)."""
    spec = FeatureSpec.from_dict(saved.manifest["config"]["features"])
    if tuple(spec.columns) != tuple(model.features):
        raise ModelRefused(f"model {saved.name}: its manifest's features differ from the model's")
    x = feature_matrix(frame, spec)
    proba = np.full((frame.height, 3), np.nan)
    proba[start:] = predict_memo(model, x[start:])
    return proba, x


@dataclass(frozen=True, slots=True)
class Window:
    train_rows: np.ndarray
    test_start: int
    test_end: int
    model: Model


@dataclass(frozen=True, slots=True)
class WalkPrediction:
    proba: np.ndarray  # (bars, 3); NaN before the first window and where features are missing
    x: np.ndarray
    windows: tuple[Window, ...]

    def model_at(self, bar: int) -> Model | None:
        for w in self.windows:
            if w.test_start <= bar < w.test_end:
                return w.model
        return None


def walk_forward_proba(
    frame: pl.DataFrame,
    spec: FeatureSpec,
    labels: LabelSpec,
    *,
    kind: str = "lgbm",
    train_bars: int = 3000,
    test_bars: int = 1000,
    seed: int = 7,
    make: Callable[..., Any] | None = None,
) -> WalkPrediction:
    """One model per window of ``test_bars`` from bar ``train_bars`` on, each fitted on the
    labelled bars of the ``train_bars`` before its window minus the purge (``horizon``)."""
    spec = spec.resolved()
    x = feature_matrix(frame, spec)
    y = make_labels(frame, labels)
    h = labels.horizon
    usable = ~np.isnan(x).any(axis=1) & ~np.isnan(y)
    proba = np.full((frame.height, 3), np.nan)
    windows = []
    for start in range(train_bars, frame.height, test_bars):
        end = min(start + test_bars, frame.height)
        lo = max(0, start - h - train_bars)
        rows = np.arange(lo, start - h)
        rows = rows[usable[rows]]
        if rows.size < 300 or np.unique(y[rows]).size < 2:
            continue
        if int(rows.max()) + h >= start:  # the purge, asserted where it matters
            raise AssertionError("a training label reads into its test window")
        model = fit_model(kind, x[rows], y[rows], spec.columns, seed=seed, horizon=h,
                          make=make or models.make_estimator)
        proba[start:end] = predict_rows(model, x[start:end])
        windows.append(Window(rows, start, end, model))
    return WalkPrediction(proba, x, tuple(windows))


_why: dict[int, dict[tuple[bytes, int], str]] = {}


def explain(model: Model, x_rows: np.ndarray, cls: int, top: int = 2, memo: bool = False
            ) -> list[str]:
    """For each row, the features that pushed ``cls`` most: ``rsi_norm +0.31; ret_5 -0.12``
    (contributions to the class's raw score, one call for all rows); "" where the model cannot
    say. ``memo`` (a saved model, which lives as long as the process): rows are rounded to
    float32 like :func:`predict_memo`'s and each explanation is kept, so an entry still in the
    window at the next close costs nothing (a SHAP row costs milliseconds)."""
    if x_rows.shape[0] == 0:
        return []
    rows = x_rows.astype(np.float32).astype(np.float64) if memo else x_rows
    known = _why.setdefault(id(model), {}) if memo else {}
    if len(known) > MEMO_ROWS:
        known.clear()
    keys = [(r.tobytes(), cls) for r in rows.astype(np.float32)]
    todo = [i for i, k in enumerate(keys) if k not in known]
    if todo:
        contrib = model.contributions(rows[todo], cls)
        if contrib is None:
            texts = [""] * len(todo)
        else:
            order = np.argsort(-np.abs(contrib), axis=1)[:, :top]
            texts = ["; ".join(f"{model.features[i]} {row[i]:+.2f}" for i in idx)
                     for row, idx in zip(contrib, order, strict=True)]
        fresh = dict(zip([keys[i] for i in todo], texts, strict=True))
        if not memo:
            return [fresh[k] for k in keys]
        known.update(fresh)
    return [known[k] for k in keys]
