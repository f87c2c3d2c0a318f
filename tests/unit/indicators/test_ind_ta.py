"""The TA-Lib-backed indicators equal TA-Lib called directly, bit for bit, with NaN as null."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import talib

from tradeterm.indicators import (
    DEFAULT_COLUMNS,
    add_default_indicators,
    adx,
    atr,
    bollinger,
    ema,
    macd,
    obv,
    relative_volume,
    rsi,
    sma,
    stochastic,
    synthetic_candles,
    vwap,
    wma,
)

FRAME = synthetic_candles(3_000, seed=11)
O, H, L, C, V = (FRAME[k].to_numpy() for k in ("open", "high", "low", "close", "volume"))


def assert_same(series: pl.Series, expected: np.ndarray) -> None:
    """Nulls exactly where TA-Lib gives NaN, identical floats elsewhere."""
    assert series.dtype == pl.Float64
    nan = np.isnan(expected)
    assert (series.is_null().to_numpy() == nan).all(), f"{series.name}: null/NaN positions differ"
    got = series.to_numpy()[~nan]
    assert np.array_equal(got, expected[~nan]), f"{series.name}: values differ from TA-Lib"


CASES = [
    (lambda f: sma(f, n=20), {"sma_20": lambda: talib.SMA(C, 20)}),
    (lambda f: sma(f, n=1), {"sma_1": lambda: talib.SMA(C, 1)}),
    (lambda f: ema(f, n=9), {"ema_9": lambda: talib.EMA(C, 9)}),
    (lambda f: ema(f, n=200), {"ema_200": lambda: talib.EMA(C, 200)}),
    (lambda f: wma(f, n=20), {"wma_20": lambda: talib.WMA(C, 20)}),
    (lambda f: rsi(f, n=14), {"rsi_14": lambda: talib.RSI(C, 14)}),
    (
        lambda f: macd(f),
        {
            "macd_12_26_9": lambda: talib.MACD(C, 12, 26, 9)[0],
            "macd_signal_12_26_9": lambda: talib.MACD(C, 12, 26, 9)[1],
            "macd_hist_12_26_9": lambda: talib.MACD(C, 12, 26, 9)[2],
        },
    ),
    (lambda f: atr(f, n=14), {"atr_14": lambda: talib.ATR(H, L, C, 14)}),
    (
        lambda f: bollinger(f, n=20, k=2.0),
        {
            "bb_upper_20_2": lambda: talib.BBANDS(C, 20, 2.0, 2.0, 0)[0],
            "bb_middle_20_2": lambda: talib.BBANDS(C, 20, 2.0, 2.0, 0)[1],
            "bb_lower_20_2": lambda: talib.BBANDS(C, 20, 2.0, 2.0, 0)[2],
        },
    ),
    (
        lambda f: bollinger(f, n=10, k=2.5),
        {
            "bb_upper_10_2.5": lambda: talib.BBANDS(C, 10, 2.5, 2.5, 0)[0],
            "bb_middle_10_2.5": lambda: talib.BBANDS(C, 10, 2.5, 2.5, 0)[1],
            "bb_lower_10_2.5": lambda: talib.BBANDS(C, 10, 2.5, 2.5, 0)[2],
        },
    ),
    (
        lambda f: stochastic(f),
        {
            "stoch_k_14_3_3": lambda: talib.STOCH(H, L, C, 14, 3, 0, 3, 0)[0],
            "stoch_d_14_3_3": lambda: talib.STOCH(H, L, C, 14, 3, 0, 3, 0)[1],
        },
    ),
    (lambda f: adx(f, n=14), {"adx_14": lambda: talib.ADX(H, L, C, 14)}),
    (lambda f: obv(f), {"obv": lambda: talib.OBV(C, V)}),
]


@pytest.mark.parametrize(("fn", "expected"), CASES, ids=[next(iter(e)) for _, e in CASES])
def test_indicator_equals_talib_called_directly(fn, expected) -> None:
    out = fn(FRAME)
    assert out.columns == FRAME.columns + list(expected), "adds exactly the documented columns"
    assert out.select(FRAME.columns).equals(FRAME), "input columns untouched"
    for name, reference in expected.items():
        assert_same(out[name], reference())


def test_default_indicators_add_the_documented_columns_equal_to_single_calls() -> None:
    out = add_default_indicators(FRAME)
    assert out.columns == FRAME.columns + list(DEFAULT_COLUMNS)
    singles = FRAME
    for n in (9, 21, 50, 200):
        singles = ema(singles, n=n)
    for fn in (sma, rsi, macd, atr, bollinger, stochastic, adx, obv, vwap, relative_volume):
        singles = fn(singles)
    assert out.equals(singles.select(out.columns))
    assert not any(out[c].is_nan().any() for c in DEFAULT_COLUMNS), "warm-up is null, never NaN"


def test_frame_shorter_than_warmup_is_all_null() -> None:
    out = add_default_indicators(FRAME.head(5))
    assert out["ema_200"].null_count() == 5
    assert out["obv"].null_count() == 0


def test_empty_frame_gets_empty_columns() -> None:
    out = add_default_indicators(FRAME.head(0))
    assert out.height == 0 and out.columns == FRAME.columns + list(DEFAULT_COLUMNS)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: sma(FRAME, n=0), "n must be in [1, 100000], got 0"),
        (lambda: ema(FRAME, n=2.5), "n must be an integer"),
        (lambda: wma(FRAME, n=True), "n must be an integer"),
        (lambda: rsi(FRAME, n=1), "n must be in [2, 100000], got 1"),
        (lambda: macd(FRAME, fast=26, slow=12), "fast must be < slow"),
        (lambda: macd(FRAME, signal=0), "signal must be in [1, 100000], got 0"),
        (lambda: atr(FRAME, n=100_001), "n must be in [1, 100000], got 100001"),
        (lambda: bollinger(FRAME, k=0), "k must be a number in (0, 100], got 0"),
        (lambda: bollinger(FRAME, k=float("nan")), "k must be a number in (0, 100]"),
        (lambda: stochastic(FRAME, smooth_k=0), "smooth_k must be in [1, 100000], got 0"),
        (lambda: adx(FRAME, n=1), "n must be in [2, 100000], got 1"),
        (lambda: relative_volume(FRAME, n=-3), "n must be in [1, 100000], got -3"),
        (lambda: vwap(FRAME, anchor="today"), "anchor must be None or an int"),
    ],
)
def test_bad_parameters_raise_value_error_naming_them(call, fragment) -> None:
    with pytest.raises(ValueError) as err:
        call()
    assert fragment in str(err.value)
