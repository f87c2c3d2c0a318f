"""The shipped ml_signal strategy: walk-forward in a backtest (no model sees its test window),
a saved model live (refused when too old, with the reason), causal either way."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from tradeterm.backtest.runner import BacktestConfig, run_backtest
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.ml import models
from tradeterm.ml.features import FeatureSpec
from tradeterm.ml.labels import LabelSpec
from tradeterm.ml.predict import feature_matrix
from tradeterm.ml.store import save
from tradeterm.ml.train import TrainConfig, train_final
from tradeterm.strategy.loader import load_file
from tradeterm.strategy.lookahead import check_lookahead

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"
FIVE_MIN = 300_000
WF = {"train_bars": 1500, "test_bars": 500, "threshold": 0.003, "kind": "logistic"}


def strategy_class() -> Any:
    [cls] = load_file(STRATEGIES / "ml_signal.py")
    cls.check_definition()
    return cls


@pytest.fixture(scope="module")
def candles() -> pl.DataFrame:
    return synthetic_candles(4200, seed=21, interval_ms=FIVE_MIN)


class Seen:
    """Wraps each estimator the strategy builds; keeps the rows it was fitted on and asked."""

    made: list[Seen] = []

    def __init__(self, inner: Any) -> None:
        self.inner, self.fit_x, self.asked = inner, None, []
        Seen.made.append(self)

    def fit(self, x: np.ndarray, y: np.ndarray) -> Seen:
        self.fit_x = x.copy()
        self.inner.fit(x, y)
        self.classes_ = self.inner.classes_
        return self

    def __getitem__(self, i: int) -> Any:
        return self.inner[i]

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        self.asked.append(x.copy())
        return self.inner.predict_proba(x)


def _rows(matrix: np.ndarray) -> set[bytes]:
    return {r.tobytes() for r in matrix}


def test_a_backtest_trains_one_model_per_window_none_on_its_test_window(candles, monkeypatch):
    real = models.make_estimator
    monkeypatch.setattr(models, "make_estimator", lambda *a: Seen(real(*a)))
    Seen.made = []
    strategy = strategy_class()(WF)
    result = run_backtest(strategy, candles, BacktestConfig(), symbol="TEST/USDT", timeframe="5m")
    x = feature_matrix(candles, FeatureSpec("scale_free", "5m"))
    starts = list(range(1500, candles.height, 500))
    assert len(Seen.made) == len(starts) == 6  # one model per walk-forward window
    for seen, start in zip(Seen.made, starts, strict=True):
        end = min(start + 500, candles.height)
        # the rows it was fitted on are, value for value, bars before the window minus the purge
        before = _rows(x[max(0, start - 5 - 1500) : start - 5])
        assert _rows(seen.fit_x) <= before
        assert not _rows(seen.fit_x) & _rows(x[start - 5 :])  # nothing of the window or after
        # it predicted its calibration bars (training bars) and then only its own window
        *calibration, window = seen.asked
        assert all(_rows(c) <= before for c in calibration)
        assert np.array_equal(window, x[start:end])
    assert len(result.trades) > 0  # and the backtest traded on those predictions
    assert all(t.signal_bar >= 1500 for t in result.trades)  # nothing before the first window


def test_walk_forward_mode_passes_the_look_ahead_guard(candles):
    strategy = strategy_class()({**WF, "train_bars": 600, "test_bars": 300})
    report = check_lookahead(strategy, candles.head(1800), cuts=4, seed=3)
    assert report.ok, report.reason


def _saved(tmp_path: Path, candles: pl.DataFrame, age_hours: float) -> str:
    config = TrainConfig(model="lgbm", features=FeatureSpec("scale_free", "5m"),
                         labels=LabelSpec(5, 0.0015))
    model = train_final(candles.head(3000), config)
    trained = int((time.time() - age_hours * 3600) * 1000)
    save(tmp_path, "m5", model, {"trained_at_ms": trained, "config": config.as_dict(),
                                 "symbol": "BTC/USDT", "timeframe": "5m"})
    return "m5"


def test_a_saved_model_trades_its_predictions_with_stops_and_reasons(tmp_path, candles):
    name = _saved(tmp_path, candles, age_hours=1)
    strategy = strategy_class()({"model": name, "models_dir": str(tmp_path), "min_confidence": 0.4})
    live = candles.tail(1000)
    out = strategy.evaluate(live)
    longs, shorts = out.filter("entry_long"), out.filter("entry_short")
    assert longs.height > 0 and shorts.height > 0
    assert (longs["stop"] < longs["close"]).all() and (longs["target_1"] > longs["close"]).all()
    assert (shorts["stop"] > shorts["close"]).all() and (shorts["target_1"] < shorts["close"]).all()
    assert (longs["confidence"] >= 0.4).all()
    reason = longs["reasons"][0]
    assert reason.startswith("ml up ") and reason.count(";") == 2  # class, p, two features
    report = check_lookahead(strategy, live, cuts=5, seed=1)
    assert report.ok, report.reason


def test_a_model_older_than_allowed_is_refused_with_the_reason(tmp_path, candles):
    name = _saved(tmp_path, candles, age_hours=200)
    strategy = strategy_class()({"model": name, "models_dir": str(tmp_path)})
    with pytest.raises(RuntimeError, match=r"model m5 is 200\.0 h old, over max_age_hours=168; "
                                           r"retrain it \(tradeterm ml train --symbol BTC/USDT"):
        strategy.evaluate(candles.tail(500))
    fresh = strategy_class()({"model": name, "models_dir": str(tmp_path), "max_age_hours": 300})
    assert fresh.evaluate(candles.tail(500)).height == 500


def test_a_model_for_another_timeframe_is_refused(tmp_path, candles):
    name = _saved(tmp_path, candles, age_hours=1)
    one_minute = synthetic_candles(500, seed=2)
    strategy = strategy_class()({"model": name, "models_dir": str(tmp_path)})
    with pytest.raises(RuntimeError, match="model m5 is for 5m candles, these are 1m apart"):
        strategy.evaluate(one_minute)


USER_FILE = '''
from ml_signal import MlSignal


class MlBtc(MlSignal):
    name = "ml_btc"
    timeframe = "5m"

    class Params(MlSignal.Params):
        model: str = "m5"
        models_dir: str = {models!r}
'''


async def test_the_workstation_fails_a_stale_model_with_the_reason(tmp_path, candles):
    """A user's strategy file naming a saved model, in the engine's real worker process: the
    look-ahead guard evaluates it, the model is too old, and the health says why."""
    from tradeterm.config import StrategySettings
    from tradeterm.core.models import StrategyState
    from tradeterm.strategy.engine import StrategyEngine

    models_root = tmp_path / "models"
    _saved(models_root, candles, age_hours=200)
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "ml_signal.py").write_text((STRATEGIES / "ml_signal.py").read_text())
    (folder / "ml_btc.py").write_text(USER_FILE.format(models=str(models_root)))
    settings = StrategySettings(dir=folder, enabled=["ml_btc"], lookahead_cuts=2)
    engine = StrategyEngine(settings, lambda event: None, lambda: 1_000, guard_bars=900)
    try:
        await engine.load()
        [health] = [h for h in engine.health() if h.name == "ml_btc"]
        assert health.state == StrategyState.FAILED
        assert "model m5 is 200.0 h old, over max_age_hours=168" in (health.last_error or "")
    finally:
        await engine.close()
