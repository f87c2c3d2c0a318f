"""Candlestick patterns on constructed candles: found where built, with the right sign, not on
a near miss; strength rises with volume; own detectors agree with TA-Lib when the gap is strict."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import talib

from tradeterm.indicators import PATTERNS, add_patterns, synthetic_candles
from tradeterm.indicators.frame import CANDLE_SCHEMA
from tradeterm.indicators.patterns import (
    _Candles,
    detect_evening_star,
    detect_inverted_hammer,
    detect_morning_star,
    detect_shooting_star,
    warmup,
)
from tradeterm.indicators.ta import arrays

T0 = 1_704_067_200_000
WHITE = (100.0, 101.5, 99.5, 101.0)  # body 1, range 2
BLACK = (101.0, 101.5, 99.5, 100.0)


def candles(tail: list[tuple[float, float, float, float]], volume: float = 10.0) -> pl.DataFrame:
    """26 alternating context bars (average body 1, range 2, volume 10, the last one BLACK), then
    ``tail`` (volume 10, the last candle ``volume``)."""
    ohlc = [WHITE if i % 2 == 0 else BLACK for i in range(26)] + tail
    vols = [10.0] * (len(ohlc) - 1) + [volume]
    return pl.DataFrame(
        {
            "open_time": [T0 + 60_000 * i for i in range(len(ohlc))],
            "open": [b[0] for b in ohlc],
            "high": [b[1] for b in ohlc],
            "low": [b[2] for b in ohlc],
            "close": [b[3] for b in ohlc],
            "volume": vols,
        },
        schema=CANDLE_SCHEMA,
    )


# pattern -> (candles ending in the pattern, near miss, expected sign). The context ends BLACK.
BUILT = {
    "doji": ([(100.0, 101.5, 98.5, 100.02)], [(100.0, 101.5, 98.5, 101.0)], 1),
    "hammer": ([(99.2, 99.75, 97.2, 99.7)], [(101.2, 101.75, 99.2, 101.7)], 1),
    "inverted_hammer": ([(100.0, 101.5, 99.55, 99.6)], [(100.0, 101.5, 98.5, 99.6)], 1),
    "shooting_star": ([WHITE, (101.0, 103.0, 100.95, 101.4)], [WHITE, (101.0, 103.0, 100.95, 102.5)], -1),
    "bullish_engulfing": ([(99.9, 101.6, 99.8, 101.5)], [(99.9, 101.0, 99.8, 100.8)], 1),
    "bearish_engulfing": ([WHITE, (101.1, 101.2, 99.4, 99.5)], [WHITE, (101.1, 101.2, 100.2, 100.3)], -1),
    "morning_star": (
        [(102.0, 102.1, 98.9, 99.0), (99.0, 99.2, 98.4, 98.7), (98.8, 101.1, 98.7, 101.0)],
        [(102.0, 102.1, 98.9, 99.0), (99.0, 99.2, 98.4, 98.7), (98.8, 99.6, 98.7, 99.5)],
        1,
    ),
    "evening_star": (
        [(99.0, 102.1, 98.9, 102.0), (102.0, 102.6, 101.8, 102.3), (102.2, 102.3, 99.9, 100.0)],
        [(99.0, 102.1, 98.9, 102.0), (102.0, 102.6, 101.8, 102.3), (102.2, 102.3, 101.4, 101.5)],
        -1,
    ),
    "three_white_soldiers": (
        [(100.0, 101.55, 99.9, 101.5), (101.5, 103.05, 101.4, 103.0), (103.0, 104.55, 102.9, 104.5)],
        [(100.0, 101.55, 99.9, 101.5), (101.5, 103.05, 101.4, 103.0), (103.0, 106.0, 102.9, 104.5)],
        1,
    ),
    "three_black_crows": (
        [(103.0, 104.2, 102.9, 104.0), (104.0, 104.05, 102.45, 102.5), (102.6, 102.65, 100.95, 101.0),
         (101.1, 101.15, 99.45, 99.5)],
        [(103.0, 104.2, 102.9, 104.0), (104.0, 104.05, 102.45, 102.5), (102.6, 102.65, 100.95, 101.0),
         (101.1, 101.15, 99.45, 101.05)],
        -1,
    ),
}  # fmt: skip


def test_every_pattern_has_a_constructed_case() -> None:
    assert {p.name for p in PATTERNS} == set(BUILT)


@pytest.mark.parametrize("name", list(BUILT))
def test_pattern_is_marked_on_its_last_candle_with_its_direction(name: str) -> None:
    tail, _, sign = BUILT[name]
    out = add_patterns(candles(tail))
    value = out[f"cdl_{name}"][-1]
    assert value != 0 and np.sign(value) == sign
    assert 1 <= abs(value) <= 100


@pytest.mark.parametrize("name", list(BUILT))
def test_near_miss_is_not_marked(name: str) -> None:
    _, miss, _ = BUILT[name]
    assert add_patterns(candles(miss))[f"cdl_{name}"][-1] == 0


@pytest.mark.parametrize("name", list(BUILT))
def test_double_volume_adds_the_full_volume_confirmation(name: str) -> None:
    tail, _, _ = BUILT[name]
    quiet = add_patterns(candles(tail, volume=10.0))[f"cdl_{name}"][-1]
    loud = add_patterns(candles(tail, volume=20.0))[f"cdl_{name}"][-1]
    assert abs(loud) - abs(quiet) == 20


def gapped(n: int, seed: int) -> pl.DataFrame:
    """Synthetic bars whose opens jump a little from the previous close, so real-body gaps occur."""
    f = synthetic_candles(n, seed=seed)
    jitter = np.random.default_rng(seed).normal(0.0, 0.0008, n) * f["close"].to_numpy()
    o = f["open"].to_numpy() + jitter
    return f.with_columns(
        pl.Series("open", o),
        pl.Series("high", np.maximum(f["high"].to_numpy(), o)),
        pl.Series("low", np.minimum(f["low"].to_numpy(), o)),
    )


def test_columns_are_int8_null_in_warmup_and_signed_by_direction() -> None:
    out = add_patterns(gapped(20_000, seed=4))
    for p in PATTERNS:
        col = out[p.column]
        assert col.dtype == pl.Int8
        assert col.head(warmup(p.talib_function)).null_count() == warmup(p.talib_function)
        assert col.slice(warmup(p.talib_function)).null_count() == 0
        if p.direction == "bearish":
            assert col.max() == 0 and col.min() < 0
        else:
            assert col.min() == 0 and col.max() > 0


def test_talib_backed_patterns_fire_exactly_where_talib_does() -> None:
    f = synthetic_candles(20_000, seed=8)
    o, h, lo, c = (f[k].to_numpy() for k in ("open", "high", "low", "close"))
    out = add_patterns(f)
    engulf = talib.CDLENGULFING(o, h, lo, c)
    expected = {
        "doji": talib.CDLDOJI(o, h, lo, c) != 0,
        "hammer": talib.CDLHAMMER(o, h, lo, c) != 0,
        "bullish_engulfing": engulf > 0,
        "bearish_engulfing": engulf < 0,
        "three_white_soldiers": talib.CDL3WHITESOLDIERS(o, h, lo, c) != 0,
        "three_black_crows": talib.CDL3BLACKCROWS(o, h, lo, c) != 0,
    }
    for name, hits in expected.items():
        assert np.array_equal(out[f"cdl_{name}"].fill_null(0).to_numpy() != 0, hits), name


@pytest.mark.parametrize(
    ("detect", "talib_fn"),
    [
        (detect_inverted_hammer, "CDLINVERTEDHAMMER"),
        (detect_shooting_star, "CDLSHOOTINGSTAR"),
        (detect_morning_star, "CDLMORNINGSTAR"),
        (detect_evening_star, "CDLEVENINGSTAR"),
    ],
)
def test_own_detectors_with_a_strict_gap_reproduce_talib(detect, talib_fn) -> None:
    f = gapped(30_000, seed=2)
    a = arrays(f, "open", "high", "low", "close", "volume")
    ref = getattr(talib, talib_fn)(a["open"], a["high"], a["low"], a["close"]) != 0
    ours = detect(_Candles(a), strict=True)
    ours[: warmup(talib_fn)] = False
    assert ref.sum() > 20, "the generated data must contain the pattern"
    assert np.array_equal(ours, ref)
    relaxed = detect(_Candles(a))
    assert relaxed[ref].all(), "the inclusive gap only adds marks"


def _ramp_ref(x: np.ndarray, bad: float, ideal: float) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(np.clip((x - bad) / (ideal - bad), 0.0, 1.0))


def _ratio_ref(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _geometry_on_every_bar(g: _Candles) -> dict[str, np.ndarray]:
    """The documented geometry scores computed on every bar of the frame (the straightforward
    form; ``compute_patterns`` scores only the bars where a pattern fired)."""
    r, p = _ratio_ref, g.prev
    long_lower = (0.5 * _ramp_ref(r(g.lower, g.range), 0.4, 0.75)
                  + 0.5 * _ramp_ref(r(g.upper, g.range), 0.15, 0.0))
    long_upper = (0.5 * _ramp_ref(r(g.upper, g.range), 0.4, 0.75)
                  + 0.5 * _ramp_ref(r(g.lower, g.range), 0.15, 0.0))
    engulfing = (0.5 * _ramp_ref(r(g.body, p(g.body)) + (p(g.body) == 0), 1.0, 3.0)
                 + 0.5 * _ramp_ref(r(g.body, g.range), 0.3, 0.9))
    b1 = p(g.body, 2)
    star = (_ramp_ref(r(b1, p(g.avg_body, 2)), 1.0, 2.0) + _ramp_ref(r(p(g.body), b1), 0.3, 0.0)
            + _ramp_ref(r(np.abs(g.c - p(g.c, 2)), b1), 0.3, 1.0)) / 3.0
    bodies = np.vstack([p(g.body, k) if k else g.body for k in (0, 1, 2)])
    fills = sum(_ramp_ref(r(p(g.body, k), p(g.range, k)) if k else r(g.body, g.range), 0.5, 0.9)
                for k in (0, 1, 2))
    three = 0.7 * (fills / 3.0) + 0.3 * _ramp_ref(r(bodies.min(axis=0), bodies.max(axis=0)),
                                                  0.3, 1.0)
    doji = (0.6 * _ramp_ref(r(g.body, g.range), 0.1, 0.0)
            + 0.4 * _ramp_ref(r(np.abs(g.upper - g.lower), g.range), 1.0, 0.0))
    return {"doji": doji, "hammer": long_lower, "inverted_hammer": long_upper,
            "shooting_star": long_upper, "bullish_engulfing": engulfing,
            "bearish_engulfing": engulfing, "morning_star": star, "evening_star": star,
            "three_white_soldiers": three, "three_black_crows": three}


def test_strengths_equal_the_scores_computed_on_every_bar() -> None:
    """Scored only where a pattern fired, the strengths are those of the formula evaluated on
    the whole frame (the bars before, at their offsets), on generated candles and on their
    mirror image (so the bearish three-candle patterns fire too)."""
    frame = synthetic_candles(60_000, seed=7)
    mirror = frame.with_columns(open=300_000 - pl.col("open"), high=300_000 - pl.col("low"),
                                low=300_000 - pl.col("high"), close=300_000 - pl.col("close"))
    hits: dict[str, int] = {}
    for candles_ in (frame, mirror):
        a = arrays(candles_, "open", "high", "low", "close", "volume")
        g = _Candles(a)
        base = np.nan_to_num(np.concatenate(([np.nan], talib.SMA(a["volume"], 20)[:-1])))
        volume = _ramp_ref(_ratio_ref(a["volume"], base), 1.0, 2.0)
        geometry = _geometry_on_every_bar(g)
        out = add_patterns(candles_)
        for pattern in PATTERNS:
            col = out[pattern.column].to_numpy()
            hit = np.flatnonzero(np.nan_to_num(col.astype(float)) != 0)
            hits[pattern.name] = hits.get(pattern.name, 0) + hit.size
            expected = np.maximum(1.0, np.round(100.0 * (0.8 * geometry[pattern.name][hit]
                                                          + 0.2 * volume[hit])))
            assert (np.abs(col[hit]) == expected).all(), pattern.name
    # TA-Lib's three black crows (a white candle first, closes near the lows) does not fire on
    # these candles; its score is the three white soldiers' one, checked here
    hits.pop("three_black_crows")
    assert min(hits.values()) >= 5, hits
