"""Candlestick patterns as signed strength columns ``cdl_<name>`` (Int8).

Value at the pattern's last candle: ``+strength`` bullish, ``-strength`` bearish, ``0`` none,
null during the detector's warm-up (its candle averages need earlier bars). Doji is neutral and
marked with a positive strength; its direction is ``neutral`` in ``PATTERNS``.

Detection (whether the pattern is there) follows TA-Lib's definitions. Five use TA-Lib's own
CDL* function as the detector. Four (inverted hammer, shooting star, morning star, evening star)
are TA-Lib's rules re-implemented with one change: TA-Lib demands a strict gap between real
bodies, and in a 24/7 market the next bar opens at the previous close, so that gap exists only
when the price ticked between bars (about half the bars on Binance 1m) and the textbook
candle was missed at random. Ours accepts a body that touches (``<=``/``>=``); with the strict
gap it reproduces TA-Lib bar for bar (tested).

Strength (1-100) measures how well the candles fit the ideal, from the geometry of the pattern
(ratios of bodies, shadows and ranges, each scored 0..1 on a linear ramp from "barely" to
"ideal") and volume confirmation (the last candle's volume against the mean of the 20 bars
before it): ``strength = max(1, round(100 * (0.8 * geometry + 0.2 * volume)))``. The
components per pattern are listed in ``docs/patterns.md``.

Everything is computed from bars <= t with sums that run from the first bar, so a mark, once
made at a candle's close, never changes when later bars arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import polars as pl
import talib
from talib import abstract

from tradeterm.indicators.ta import Arrays, arrays
from tradeterm.indicators.volume import trailing_mean

Direction = Literal["bullish", "bearish", "neutral"]

AVG_PERIOD = 10  # TA-Lib's default candle-average period (BodyShort, BodyLong, ShadowVeryShort)
PENETRATION = 0.3  # TA-Lib's default: the 3rd star candle closes 30 % into the 1st body
VOLUME_PERIOD = 20  # bars in the volume-confirmation baseline


@dataclass(frozen=True, slots=True)
class Pattern:
    """One pattern: its column suffix, direction, detector source and TA-Lib warm-up function."""

    name: str
    direction: Direction
    source: Literal["talib", "own"]
    talib_function: str  # the CDL* function it is (or mirrors), for the warm-up length

    @property
    def column(self) -> str:
        return f"cdl_{self.name}"


PATTERNS: tuple[Pattern, ...] = (
    Pattern("doji", "neutral", "talib", "CDLDOJI"),
    Pattern("hammer", "bullish", "talib", "CDLHAMMER"),
    Pattern("inverted_hammer", "bullish", "own", "CDLINVERTEDHAMMER"),
    Pattern("shooting_star", "bearish", "own", "CDLSHOOTINGSTAR"),
    Pattern("bullish_engulfing", "bullish", "talib", "CDLENGULFING"),
    Pattern("bearish_engulfing", "bearish", "talib", "CDLENGULFING"),
    Pattern("morning_star", "bullish", "own", "CDLMORNINGSTAR"),
    Pattern("evening_star", "bearish", "own", "CDLEVENINGSTAR"),
    Pattern("three_white_soldiers", "bullish", "talib", "CDL3WHITESOLDIERS"),
    Pattern("three_black_crows", "bearish", "talib", "CDL3BLACKCROWS"),
)
"""Every pattern ``add_patterns`` adds, in column order."""


@cache
def warmup(talib_function: str) -> int:
    """Bars TA-Lib needs before the first mark (its lookback, with its current candle settings)."""
    return int(abstract.Function(talib_function).lookback)  # type: ignore[attr-defined]  # missing from talib's abstract.pyi


def _ramp(x: np.ndarray, bad: float, ideal: float) -> np.ndarray:
    """0 at ``bad``, 1 at ``ideal``, linear between, clipped (works for ``ideal < bad`` too)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.nan_to_num(np.clip((x - bad) / (ideal - bad), 0.0, 1.0))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (a flat candle has no shadows or body to speak of)."""
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _shift(x: np.ndarray, k: int, fill: float = np.nan) -> np.ndarray:
    """x moved ``k`` bars later (x[t - k] at t); the first ``k`` values are ``fill``."""
    out = np.full_like(x, fill, dtype=np.float64)
    if k < x.size:
        out[k:] = x[: x.size - k]
    return out


class _Candles:
    """Per-bar geometry shared by all detectors and scores, computed once."""

    def __init__(self, a: Arrays) -> None:
        self.o, self.h, self.l, self.c, self.v = (a[k] for k in ("open", "high", "low", "close", "volume"))
        self.body = np.abs(self.c - self.o)
        self.range = self.h - self.l
        self.top = np.maximum(self.o, self.c)
        self.bottom = np.minimum(self.o, self.c)
        self.upper = self.h - self.top
        self.lower = self.bottom - self.l
        self.white = self.c >= self.o  # TA-Lib's candle colour: close >= open is white
        # TA-Lib candle averages over the AVG_PERIOD bars before each bar.
        self.avg_body = trailing_mean(self.body, AVG_PERIOD)
        self.avg_range = trailing_mean(self.range, AVG_PERIOD)
        self.volume_base = np.nan_to_num(trailing_mean(self.v, VOLUME_PERIOD))
        self.engulfing = talib.CDLENGULFING(self.o, self.h, self.l, self.c)  # both engulfing columns

    def prev(self, x: np.ndarray, k: int = 1) -> np.ndarray:
        return _shift(x, k)

    def volume_at(self, index: np.ndarray) -> np.ndarray:
        """The volume confirmation score (0..1) at the bars ``index``."""
        return _ramp(_ratio(self.v[index], self.volume_base[index]), 1.0, 2.0)


# --- own detectors (TA-Lib's rules, gap inclusive unless strict=True) ----------------------


def _star_shape(g: _Candles) -> np.ndarray:
    """Small body, long upper shadow, very short lower shadow (TA-Lib's shooting-star shape)."""
    with np.errstate(invalid="ignore"):
        return (g.body < g.avg_body) & (g.upper > g.body) & (g.lower < 0.1 * g.avg_range)


def detect_shooting_star(g: _Candles, strict: bool = False) -> np.ndarray:
    prev_top = g.prev(g.top)
    with np.errstate(invalid="ignore"):
        gap_up = g.bottom > prev_top if strict else g.bottom >= prev_top
    return _star_shape(g) & gap_up


def detect_inverted_hammer(g: _Candles, strict: bool = False) -> np.ndarray:
    prev_bottom = g.prev(g.bottom)
    with np.errstate(invalid="ignore"):
        gap_down = g.top < prev_bottom if strict else g.top <= prev_bottom
    return _star_shape(g) & gap_down


def _three_bars(g: _Candles, first: Callable[[slice], np.ndarray],
                star: Callable[[slice, slice], np.ndarray], third: Callable[[slice, slice], np.ndarray]
                ) -> np.ndarray:
    """A three-candle rule evaluated on aligned slices (bar t-2, t-1, t): the same comparisons
    as on arrays shifted by ``prev`` (false where a bar before the first would be needed),
    without the shifted copies."""
    out = np.zeros(g.c.size, dtype=bool)
    if g.c.size > 2:
        s2, s1, s0 = slice(0, -2), slice(1, -1), slice(2, None)
        with np.errstate(invalid="ignore"):
            out[2:] = first(s2) & star(s1, s2) & third(s0, s2)
    return out


def detect_morning_star(g: _Candles, strict: bool = False) -> np.ndarray:
    def star(s1: slice, s2: slice) -> np.ndarray:
        gap = g.top[s1] < g.bottom[s2] if strict else g.top[s1] <= g.bottom[s2]
        return (g.body[s1] <= g.avg_body[s1]) & gap

    return _three_bars(
        g, lambda s2: (g.body[s2] > g.avg_body[s2]) & ~g.white[s2], star,
        lambda s0, s2: ((g.body[s0] > g.avg_body[s0]) & g.white[s0]
                        & (g.c[s0] > g.c[s2] + g.body[s2] * PENETRATION)))


def detect_evening_star(g: _Candles, strict: bool = False) -> np.ndarray:
    def star(s1: slice, s2: slice) -> np.ndarray:
        gap = g.bottom[s1] > g.top[s2] if strict else g.bottom[s1] >= g.top[s2]
        return (g.body[s1] <= g.avg_body[s1]) & gap

    return _three_bars(
        g, lambda s2: (g.body[s2] > g.avg_body[s2]) & g.white[s2], star,
        lambda s0, s2: ((g.body[s0] > g.avg_body[s0]) & ~g.white[s0]
                        & (g.c[s0] < g.c[s2] - g.body[s2] * PENETRATION)))


# --- geometry scores in [0, 1] ---------------------------------------------------------------
# A score matters only where its pattern fired (a few bars in a hundred), so it is computed on
# those bars alone (:class:`_At`): element for element the same arithmetic as on the whole
# frame, hence the same values, at a fraction of the cost (scoring every bar of every pattern
# was most of the pattern frame's time).


class _At:
    """The geometry of :class:`_Candles` at some bars only: ``get(name, k)`` is the per-bar
    array ``name`` at each of those bars minus ``k`` (NaN before the first bar), as
    ``_Candles.prev`` would give it there."""

    def __init__(self, g: _Candles, index: np.ndarray) -> None:
        self.g, self.index = g, index

    def get(self, name: str, k: int = 0) -> np.ndarray:
        full = getattr(self.g, name)
        if k == 0:
            return np.asarray(full[self.index], dtype=np.float64)
        at = self.index - k
        out = np.full(at.size, np.nan)
        ok = at >= 0
        out[ok] = full[at[ok]]
        return out


def _score_doji(g: _At) -> np.ndarray:
    rng = g.get("range")
    body = _ramp(_ratio(g.get("body"), rng), 0.1, 0.0)
    balance = _ramp(_ratio(np.abs(g.get("upper") - g.get("lower")), rng), 1.0, 0.0)
    return 0.6 * body + 0.4 * balance


def _score_long_lower(g: _At) -> np.ndarray:
    rng = g.get("range")
    return (0.5 * _ramp(_ratio(g.get("lower"), rng), 0.4, 0.75)
            + 0.5 * _ramp(_ratio(g.get("upper"), rng), 0.15, 0.0))


def _score_long_upper(g: _At) -> np.ndarray:
    rng = g.get("range")
    return (0.5 * _ramp(_ratio(g.get("upper"), rng), 0.4, 0.75)
            + 0.5 * _ramp(_ratio(g.get("lower"), rng), 0.15, 0.0))


def _score_engulfing(g: _At) -> np.ndarray:
    body, prev_body = g.get("body"), g.get("body", 1)
    margin = _ramp(_ratio(body, prev_body) + (prev_body == 0), 1.0, 3.0)
    fullness = _ramp(_ratio(body, g.get("range")), 0.3, 0.9)
    return 0.5 * margin + 0.5 * fullness


def _score_star(g: _At) -> np.ndarray:
    b1 = g.get("body", 2)
    first = _ramp(_ratio(b1, g.get("avg_body", 2)), 1.0, 2.0)
    star = _ramp(_ratio(g.get("body", 1), b1), 0.3, 0.0)
    penetration = _ramp(_ratio(np.abs(g.get("c") - g.get("c", 2)), b1), PENETRATION, 1.0)
    return (first + star + penetration) / 3.0


def _score_three(g: _At) -> np.ndarray:
    fills = [_ramp(_ratio(g.get("body", k), g.get("range", k)), 0.5, 0.9) for k in (0, 1, 2)]
    bodies = np.vstack([g.get("body", k) for k in (0, 1, 2)])
    even = _ramp(_ratio(bodies.min(axis=0), bodies.max(axis=0)), 0.3, 1.0)
    return 0.7 * (sum(fills) / 3.0) + 0.3 * even


def _talib(name: str) -> Callable[[_Candles], np.ndarray]:
    fn = getattr(talib, name)
    return lambda g: fn(g.o, g.h, g.l, g.c)


# name -> (detector returning a boolean or TA-Lib int array, sign, geometry score)
_RULES: dict[str, tuple[Callable[[_Candles], np.ndarray], int, Callable[[_At], np.ndarray]]] = {
    "doji": (_talib("CDLDOJI"), 1, _score_doji),
    "hammer": (_talib("CDLHAMMER"), 1, _score_long_lower),
    "inverted_hammer": (detect_inverted_hammer, 1, _score_long_upper),
    "shooting_star": (detect_shooting_star, -1, _score_long_upper),
    "bullish_engulfing": (lambda g: g.engulfing > 0, 1, _score_engulfing),
    "bearish_engulfing": (lambda g: g.engulfing < 0, -1, _score_engulfing),
    "morning_star": (detect_morning_star, 1, _score_star),
    "evening_star": (detect_evening_star, -1, _score_star),
    "three_white_soldiers": (_talib("CDL3WHITESOLDIERS"), 1, _score_three),
    "three_black_crows": (_talib("CDL3BLACKCROWS"), -1, _score_three),
}


def compute_patterns(a: Arrays) -> list[pl.Series]:
    """One Int8 series per pattern in ``PATTERNS`` order (see the module docstring)."""
    g = _Candles(a)
    n = g.c.size
    out = []
    for pattern in PATTERNS:
        detect, sign, score = _RULES[pattern.name]
        w = min(warmup(pattern.talib_function), n)
        hits = np.flatnonzero(detect(g) != 0)
        hits = hits[hits >= w]  # warm-up bars are null whatever the detector says
        at = _At(g, hits)
        strength = np.maximum(1.0, np.round(100.0 * (0.8 * score(at) + 0.2 * g.volume_at(hits))))
        values = np.zeros(n, dtype=np.int8)
        values[hits] = sign * strength
        column = pl.Series(pattern.column, values)
        if w:  # warm-up -> null
            column = pl.concat([pl.Series(pattern.column, [None] * w, dtype=pl.Int8),
                                column.slice(w)], rechunk=True)
        out.append(column)
    return out


def add_patterns(frame: pl.DataFrame) -> pl.DataFrame:
    """Add every ``cdl_<name>`` column of ``PATTERNS`` to a candle frame."""
    return frame.with_columns(compute_patterns(arrays(frame, "open", "high", "low", "close", "volume")))
