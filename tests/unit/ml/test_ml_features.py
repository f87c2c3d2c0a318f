"""Features: the 16 defaults, causal copies across timeframes and shifts, and the prefix check
that catches any feature reading a later bar (a label-derived one included)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.ml.features import (
    DEFAULT_FEATURES,
    FeatureSpec,
    LeakageError,
    _base_features,
    build_features,
    feature_fn,
    first_leak,
    require_causal,
    resample,
)
from tradeterm.ml.labels import LabelSpec, make_labels

FIVE_MIN = 300_000


def test_the_default_set_is_the_16_of_the_design():
    frame = synthetic_candles(600, seed=1)
    feats = build_features(frame, FeatureSpec())
    assert feats.columns == ["open_time", *DEFAULT_FEATURES] and len(DEFAULT_FEATURES) == 16
    last = feats.row(-1, named=True)
    close = frame.get_column("close")[-1]
    assert last["rsi_norm"] == pytest.approx((last["rsi"] - 50) / 50)
    assert last["close_ema9"] == pytest.approx(close / last["ema_9"])
    assert last["atr_norm"] == pytest.approx(last["atr"] / close)
    assert last["ema_ratio"] == pytest.approx(last["ema_9"] / last["ema_21"])


@pytest.mark.parametrize("spec", [
    FeatureSpec(),
    FeatureSpec("scale_free", "5m", shifts=(1, 3), higher=("1h",)),
])
def test_every_feature_passes_the_prefix_check(spec):
    frame = synthetic_candles(2500, seed=4, interval_ms=FIVE_MIN)
    assert first_leak(feature_fn(FeatureSpec(spec.set, "5m", spec.shifts, spec.higher)), frame,
                      cuts=8) is None


def test_a_1h_feature_on_a_5m_bar_uses_only_closed_hours():
    frame = synthetic_candles(24 * 12 * 3, seed=2, interval_ms=FIVE_MIN)
    feats = build_features(frame, FeatureSpec("default", "5m", higher=("1h",)))
    hours = _base_features(resample(frame, "1h"), ["rsi"])
    by_open = dict(zip(hours["open_time"].to_list(), hours["rsi"].to_list(), strict=True))
    times = feats.get_column("open_time").to_list()
    values = feats.get_column("rsi_1h").to_list()
    for i in range(200, len(times)):
        t = times[i]
        closed_hour = (t + FIVE_MIN) // 3_600_000 * 3_600_000 - 3_600_000  # last hour closed by t's close
        assert values[i] == by_open[closed_hour], i


def test_a_feature_derived_from_the_label_is_caught():
    frame = synthetic_candles(3000, seed=5)
    spec = FeatureSpec()

    def leaky(f: pl.DataFrame) -> pl.DataFrame:
        base = build_features(f, spec)
        return base.with_columns(pl.Series("next_move", make_labels(f, LabelSpec())))

    with pytest.raises(LeakageError, match="'next_move' looks ahead"):
        require_causal(leaky, frame)
    require_causal(feature_fn(spec), frame)  # the honest set passes the same check


def test_a_one_bar_peek_and_a_centred_window_are_caught():
    frame = synthetic_candles(1500, seed=6)
    peek = lambda f: f.select("open_time", pl.col("close").shift(-1).alias("tomorrow"))  # noqa: E731
    centred = lambda f: f.select(  # noqa: E731
        "open_time", pl.col("close").rolling_mean(5, center=True).alias("centred"))
    assert first_leak(peek, frame)[0] == "tomorrow"
    assert first_leak(centred, frame)[0] == "centred"


def test_no_inf_reaches_the_models():
    frame = synthetic_candles(400, seed=3).with_columns(pl.lit(0.0).alias("volume"))
    feats = build_features(frame, FeatureSpec("scale_free"))
    values = feats.drop("open_time").to_numpy()
    assert not np.isinf(values).any()


def test_a_session_the_frame_starts_inside_has_no_vwap():
    """A live window that starts mid-day must not give the model a VWAP of part of the day."""
    frame = synthetic_candles(3 * 1440, seed=7)  # 1m, from midnight
    full = build_features(frame, FeatureSpec())
    window = build_features(frame.slice(1000, 1000), FeatureSpec())  # starts 16:40 on day one
    first_day = window.filter(pl.col("open_time") < 1440 * 60_000 + frame["open_time"][0])
    assert first_day.height == 440 and first_day["vwap"].null_count() == 440
    assert first_day["close_vwap"].null_count() == 440
    later = window.slice(440)
    assert later["vwap"].to_list() == full.slice(1440, 560)["vwap"].to_list()
    assert full["vwap"].null_count() == 0  # a frame starting at midnight keeps its first day


@pytest.mark.parametrize("spec", [FeatureSpec("default", "5m"),
                                  FeatureSpec("scale_free", "5m", shifts=(1, 4)),
                                  FeatureSpec("scale_free", "5m", higher=("1h",))])
def test_the_fast_matrix_is_the_frame_of_features(spec):
    from tradeterm.ml.features import feature_array

    frame = synthetic_candles(700, seed=3, interval_ms=FIVE_MIN).slice(5)  # starts mid-day
    expected = build_features(frame, spec).drop("open_time").cast(pl.Float64).to_numpy()
    assert np.array_equal(feature_array(frame, spec), expected, equal_nan=True)
