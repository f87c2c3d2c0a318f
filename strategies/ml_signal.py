"""ML signal: trade a gradient-boosted model's up/down predictions through the risk engine.

Two ways to get predictions (docs/ml.md):

- ``model = "<name>"`` (live and backtests): a model saved by ``tradeterm ml train``. A model
  older than ``max_age_hours`` is refused: the strategy fails with the reason (its age, the
  limit, the command that retrains it) rather than trading on a stale picture of the market.
- ``model = ""`` (the default; backtests): walk-forward. One model per window of ``test_bars``,
  trained on the ``train_bars`` before the window (purged of every label that reads into it),
  predicting only that window; nothing before the first window trades. Live, a window that
  starts elsewhere would train other models, so go live with a saved model.

A long opens when the calibrated probability of "up" is the highest and at least
``min_confidence``, a short on the mirror; a position closes when the model predicts the other
way. Stop at ``stop_atr`` ATRs, targets at 1, 2 and 3 times ``target_r`` R. ``confidence`` is
the predicted class's probability; ``reasons`` name the class and the features that pushed it.
``status`` holds every bar's three probabilities (the signals panel shows the newest one).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from pydantic import Field

from tradeterm.core.models import TIMEFRAME_MS
from tradeterm.indicators.ta import atr
from tradeterm.ml.features import FeatureSpec
from tradeterm.ml.labels import CLASS_NAMES, DOWN, FLAT, UP, LabelSpec
from tradeterm.ml.predict import ModelRefused, explain, fresh_model, predict_frame, walk_forward_proba
from tradeterm.ml.store import models_dir, version_of
from tradeterm.strategy import Strategy


def _default_models_dir() -> Path:
    from tradeterm.config import ConfigError, default_data_dir, load_settings

    try:
        return models_dir(load_settings(None).data_dir)
    except ConfigError:
        return models_dir(default_data_dir())


class MlSignal(Strategy):
    name = "ml_signal"
    timeframe = "5m"
    # EMA 50 seeds on its first bars and fades below float32 after ~400: until then a bar's
    # features depend on where the window starts (ml/predict.py predict_memo)
    warmup = 400

    class Params(Strategy.Params):
        model: str = Field("", description="Saved model name; empty: walk-forward (backtests).")
        models_dir: str = Field("", description="Folder of saved models; default <data_dir>/models.")
        max_age_hours: float = Field(168.0, gt=0, description="Refuse a saved model older than this.")
        min_confidence: float = Field(0.5, ge=0.34, le=1, description="Least probability to enter.")
        stop_atr: float = Field(1.5, gt=0, le=10, description="Stop distance in ATR(14).")
        target_r: float = Field(1.0, gt=0, le=10, description="First target in R (then 2x, 3x).")
        kind: str = Field("lgbm", description="Walk-forward model: lgbm, hgb or logistic.")
        features: str = Field("scale_free", description="Walk-forward feature set.")
        train_bars: int = Field(3000, ge=500, le=1_000_000, description="Walk-forward training bars.")
        test_bars: int = Field(1000, ge=50, le=1_000_000, description="Walk-forward window bars.")
        horizon: int = Field(5, ge=1, le=500, description="Label horizon in bars.")
        threshold: float = Field(0.005, gt=0, le=0.5, description="Label threshold (fraction).")
        seed: int = Field(7, description="Training seed.")
        explain: bool = Field(True, description="Name the features behind each entry (SHAP; "
                              "~1-2 ms per entry in the window at every close).")

    def indicators(self, frame: pl.DataFrame) -> pl.DataFrame:
        return atr(frame, 14)

    def _predict(self, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, list, str]:
        """(probabilities, features, the model of each bar or None, the saved model's version).

        A saved model retrained meanwhile (``[ml] retrain_every_hours``) is picked up here, at
        the next close; one whose new version cannot be loaded keeps the old version running
        (``fresh_model``, the notice goes to the engine's log)."""
        p = self.params
        if p.model:
            root = Path(p.models_dir).expanduser() if p.models_dir else _default_models_dir()
            try:
                model, saved = fresh_model(root, p.model, p.max_age_hours)
            except ModelRefused as exc:
                raise RuntimeError(f"ml_signal: {exc}") from None
            step = TIMEFRAME_MS.get(saved.manifest.get("timeframe", ""), 0)
            times = frame.get_column("open_time")
            if frame.height >= 2 and step and int(times[-1] - times[-2]) != step:
                raise RuntimeError(f"ml_signal: model {p.model} is for {saved.manifest['timeframe']} "
                                   f"candles, these are {int(times[-1] - times[-2]) // 60_000}m apart")
            proba, x = predict_frame(model, saved, frame, start=self.warmup)
            self.recheck_epoch = version_of(saved.manifest)  # a retrain is not look-ahead
            return proba, x, [model] * frame.height, f" @{version_of(saved.manifest)}"
        tf = next((k for k, v in TIMEFRAME_MS.items() if frame.height >= 2
                   and v == int(frame["open_time"][1] - frame["open_time"][0])), self.timeframe)
        walk = walk_forward_proba(
            frame, FeatureSpec(p.features, tf), LabelSpec(p.horizon, p.threshold), kind=p.kind,
            train_bars=p.train_bars, test_bars=p.test_bars, seed=p.seed,
        )
        per_bar: list = [None] * frame.height
        for w in walk.windows:
            per_bar[w.test_start : w.test_end] = [w.model] * (w.test_end - w.test_start)
        return walk.proba, walk.x, per_bar, ""

    def signals(self, frame: pl.DataFrame) -> pl.DataFrame:
        p = self.params
        proba, x, per_bar, version = self._predict(frame)
        known = ~np.isnan(proba).any(axis=1)
        cls = np.where(known, np.nan_to_num(proba).argmax(axis=1), -1)
        conf = np.where(known, np.nan_to_num(proba).max(axis=1), np.nan)
        long = known & (cls == UP) & (conf >= p.min_confidence)
        short = known & (cls == DOWN) & (conf >= p.min_confidence)
        prev_long = np.concatenate(([False], long[:-1]))
        prev_short = np.concatenate(([False], short[:-1]))
        entry_long, entry_short = long & ~prev_long, short & ~prev_short
        exit_long, exit_short = known & (cls == DOWN), known & (cls == UP)
        reasons: list[str | None] = [None] * frame.height
        entries = np.flatnonzero(entry_long | entry_short)
        groups: dict[tuple[int, int], list[int]] = {}  # (model, class) -> its entry bars
        for i in entries if p.explain else ():
            if per_bar[i] is not None:
                groups.setdefault((id(per_bar[i]), int(cls[i])), []).append(int(i))
        why: dict[int, str] = {}
        for (_, c), rows in groups.items():
            texts = explain(per_bar[rows[0]], x[rows], c, memo=bool(p.model))
            why.update(zip(rows, texts, strict=True))
        for i in np.flatnonzero(entry_long | entry_short | exit_long | exit_short):
            text = f"ml {CLASS_NAMES[cls[i]]} {conf[i]:.2f}{version}"
            reasons[i] = f"{text}; {why[i]}" if why.get(i) else text
        sign = pl.when(pl.col("entry_long")).then(1.0).when(pl.col("entry_short")).then(-1.0)
        risk = pl.col("atr_14") * p.stop_atr
        close = pl.col("close")
        pct = np.rint(np.nan_to_num(proba) * 100).astype(np.int64)
        return frame.with_columns(
            # every bar's three probabilities: the signals panel shows the newest at each close
            pl.when(pl.Series(known)).then(pl.format(
                f"↓{{}}% →{{}}% ↑{{}}%{version}", pl.Series(pct[:, DOWN]),
                pl.Series(pct[:, FLAT]), pl.Series(pct[:, UP]))).alias("status"),
            pl.Series("entry_long", entry_long), pl.Series("entry_short", entry_short),
            pl.Series("exit_long", exit_long), pl.Series("exit_short", exit_short),
            pl.Series("confidence", conf, dtype=pl.Float64).fill_nan(None),
            pl.Series("reasons", reasons, dtype=pl.String),
        ).with_columns(
            stop=close - sign * risk,
            target_1=close + sign * risk * p.target_r,
            target_2=close + sign * risk * (2 * p.target_r),
            target_3=close + sign * risk * (3 * p.target_r),
        )
