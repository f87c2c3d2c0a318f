"""Feature matrices for the learned signals, built only from the project's causal indicators.

The default set is the 16 features of the design this module follows (RSI raw and normalised,
MACD line, signal and histogram, EMA 9/21/50, the EMA 9/21 ratio, EMA trend strength, session
VWAP, ATR raw and normalised, and close over EMA 9, EMA 21 and VWAP). Several of them (the EMAs,
VWAP, raw ATR and MACD) are price *levels*: a tree learns thresholds on them that a new price
regime never reaches again. ``scale_free`` keeps only ratios, oscillators and returns, which is
what a walk-forward test usually prefers (docs/ml.md compares both).

Every column at bar t depends on bars ``<= t`` only: the indicators are TA-Lib's recursions
from the first bar; shifted candles look back; a higher timeframe's value on a bar is that of the
last higher-timeframe bar *closed* by the bar's close (``join_asof`` on close times), so a 1h
feature on a 5m bar never sees the hour still forming. :func:`first_leak` proves it the same
way the strategies' look-ahead guard does, by recomputing on prefixes; training runs it before
anything is fitted.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import polars as pl

from tradeterm.core.models import TIMEFRAME_MS
from tradeterm.indicators.ta import arrays, compute_atr, compute_ema, compute_macd, compute_rsi
from tradeterm.indicators.volume import compute_relative_volume
from tradeterm.indicators.vwap import DAY_MS, compute_vwap

DEFAULT_FEATURES: tuple[str, ...] = (
    "rsi", "rsi_norm", "macd", "macd_signal", "macd_hist", "ema_9", "ema_21", "ema_50",
    "ema_ratio", "ema_trend", "vwap", "atr", "atr_norm", "close_ema9", "close_ema21", "close_vwap",
)  # fmt: skip
"""The 16 features of the design, in order."""

SCALE_FREE_FEATURES: tuple[str, ...] = (
    "rsi_norm", "macd_rel", "macd_signal_rel", "macd_hist_rel", "ema_ratio", "ema_trend",
    "atr_norm", "close_ema9", "close_ema21", "close_vwap", "ret_1", "ret_5", "ret_15", "rvol",
)  # fmt: skip
"""Ratios, oscillators and returns only: no price level a new regime leaves behind."""

FEATURE_SETS: dict[str, tuple[str, ...]] = {"default": DEFAULT_FEATURES, "scale_free": SCALE_FREE_FEATURES}

FeatureFn = Callable[[pl.DataFrame], pl.DataFrame]
"""Candle frame in, ``open_time`` plus feature columns out (one row per bar)."""


class LeakageError(ValueError):
    """A feature changes when later bars are added: it sees the future (message names it)."""


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """What to compute: a named base set, shifted copies, higher-timeframe copies.

    ``shifts=(1, 2)`` adds ``<feature>_s1``, ``<feature>_s2`` (the value 1 and 2 bars back);
    ``higher=("1h",)`` adds ``<feature>_1h`` computed on causal 1h bars resampled from the
    frame (``timeframe`` is the frame's own, needed to know when a bar closes).
    """

    set: str = "default"
    timeframe: str = "1m"
    shifts: tuple[int, ...] = ()
    higher: tuple[str, ...] = ()
    columns: tuple[str, ...] = field(default=(), compare=False)  # filled by ``resolved``

    def resolved(self) -> FeatureSpec:
        """The spec with its checked output column names."""
        if self.set not in FEATURE_SETS:
            raise ValueError(f"unknown feature set {self.set!r}; expected one of {', '.join(FEATURE_SETS)}")
        if self.timeframe not in TIMEFRAME_MS:
            raise ValueError(f"unknown timeframe {self.timeframe!r}")
        base_ms = TIMEFRAME_MS[self.timeframe]
        for tf in self.higher:
            if tf not in TIMEFRAME_MS or TIMEFRAME_MS[tf] <= base_ms or TIMEFRAME_MS[tf] % base_ms:
                raise ValueError(f"higher timeframe {tf!r} must be a multiple of {self.timeframe}")
        if any(s < 1 for s in self.shifts):
            raise ValueError(f"shifts must be >= 1, got {self.shifts}")
        base = FEATURE_SETS[self.set]
        cols = list(base)
        cols += [f"{c}_s{s}" for s in self.shifts for c in base]
        cols += [f"{c}_{tf}" for tf in self.higher for c in base]
        return FeatureSpec(self.set, self.timeframe, tuple(self.shifts), tuple(self.higher), tuple(cols))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self.resolved())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(set=data["set"], timeframe=data["timeframe"], shifts=tuple(data["shifts"]),
                   higher=tuple(data["higher"])).resolved()


def _base_features(frame: pl.DataFrame, names: Sequence[str]) -> pl.DataFrame:
    """``open_time`` and the named base features of ``frame`` (any subset of both sets)."""
    open_time, cols = _base_arrays(frame, names)
    series = [pl.Series("open_time", open_time, dtype=pl.Int64)]
    series += [pl.Series(n, arr, dtype=pl.Float64).fill_nan(None) for n, arr in cols.items()]
    return pl.DataFrame(series)


def _base_arrays(frame: pl.DataFrame, names: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``open_time`` and the named base features as float64 arrays (NaN = missing)."""
    a = arrays(frame, "high", "low", "close", "volume")
    open_time = frame.get_column("open_time").cast(pl.Int64).to_numpy()
    values: dict[str, np.ndarray] = {}
    for period in (9, 21, 50):
        values |= compute_ema(a, period)
    values |= compute_rsi(a, 14)
    values |= compute_macd(a, 12, 26, 9)
    values |= compute_atr(a, 14)
    values |= compute_vwap(a, open_time)
    if open_time.size and open_time[0] % DAY_MS:
        # The frame starts mid-session: its first session's VWAP would cover only the bars in
        # the frame, not the day's. A live window (1,000 bars; under a day at 1m) would then
        # feed the model a VWAP it was never trained on, different at every close: missing
        # instead (those bars get no prediction).
        values["vwap"][open_time // DAY_MS == open_time[0] // DAY_MS] = np.nan
    values |= compute_relative_volume(a, 20)
    c, v = a["close"], values

    def ret(k: int) -> np.ndarray:
        out = np.full(c.size, np.nan)
        out[k:] = c[k:] / c[:-k] - 1.0
        return out

    e9, e21, e50, atr = v["ema_9"], v["ema_21"], v["ema_50"], v["atr_14"]
    macd, sig, hist = v["macd_12_26_9"], v["macd_signal_12_26_9"], v["macd_hist_12_26_9"]
    exprs: dict[str, Callable[[], np.ndarray]] = {
        "rsi": lambda: v["rsi_14"],
        "rsi_norm": lambda: (v["rsi_14"] - 50.0) / 50.0,
        "macd": lambda: macd, "macd_signal": lambda: sig, "macd_hist": lambda: hist,
        "macd_rel": lambda: macd / c, "macd_signal_rel": lambda: sig / c,
        "macd_hist_rel": lambda: hist / c,
        "ema_9": lambda: e9, "ema_21": lambda: e21, "ema_50": lambda: e50,
        "ema_ratio": lambda: e9 / e21,
        "ema_trend": lambda: (e9 - e50) / atr,  # trend strength: short over long EMA, in ATRs
        "vwap": lambda: v["vwap"],
        "atr": lambda: atr, "atr_norm": lambda: atr / c,
        "close_ema9": lambda: c / e9, "close_ema21": lambda: c / e21,
        "close_vwap": lambda: c / v["vwap"],
        "ret_1": lambda: ret(1), "ret_5": lambda: ret(5), "ret_15": lambda: ret(15),
        "rvol": lambda: v["rvol_20"],
    }  # fmt: skip
    columns: dict[str, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for n in names:
            arr = np.array(exprs[n](), dtype=np.float64)  # a copy: the inputs stay untouched
            arr[~np.isfinite(arr)] = np.nan  # inf (x / 0) and NaN: "missing", never a huge number
            columns[n] = arr
    return open_time, columns


def feature_array(frame: pl.DataFrame, spec: FeatureSpec) -> np.ndarray:
    """The feature matrix of ``build_features`` (without ``open_time``) as float64, NaN for
    missing; straight from numpy when no higher timeframe is asked (what a bar close runs)."""
    spec = spec.resolved()
    if spec.higher:
        return build_features(frame, spec).drop("open_time").cast(pl.Float64).to_numpy()
    names = FEATURE_SETS[spec.set]
    _, cols = _base_arrays(frame, names)
    base = np.column_stack([cols[n] for n in names]) if frame.height else np.zeros((0, len(names)))
    blocks = [base]
    for k in spec.shifts:
        shifted = np.full_like(base, np.nan)
        shifted[k:] = base[:-k] if k < len(base) else shifted[k:]
        blocks.append(shifted)
    return np.ascontiguousarray(np.hstack(blocks))


def resample(frame: pl.DataFrame, timeframe: str) -> pl.DataFrame:
    """OHLCV bars of ``timeframe`` (aligned to the epoch) from a lower-timeframe frame."""
    step = TIMEFRAME_MS[timeframe]
    return (
        frame.with_columns((pl.col("open_time") // step * step).alias("bucket"))
        .group_by("bucket", maintain_order=True)
        .agg(pl.col("open").first(), pl.col("high").max(), pl.col("low").min(),
             pl.col("close").last(), pl.col("volume").sum())
        .rename({"bucket": "open_time"})
        .sort("open_time")
    )


def _higher(frame: pl.DataFrame, names: Sequence[str], base_tf: str, tf: str) -> pl.DataFrame:
    """The base features of ``tf`` bars, on each ``frame`` bar: the last ``tf`` bar that closed
    at or before the frame bar's close. A ``tf`` bar still forming is never used."""
    base_ms, step = TIMEFRAME_MS[base_tf], TIMEFRAME_MS[tf]
    hi = _base_features(resample(frame, tf), names)
    hi = hi.with_columns((pl.col("open_time") + step).alias("_avail")).drop("open_time")
    hi = hi.rename({n: f"{n}_{tf}" for n in names})
    left = frame.select("open_time").with_columns((pl.col("open_time") + base_ms).alias("_avail"))
    joined = left.join_asof(hi, on="_avail", strategy="backward")
    return joined.drop("_avail")


def build_features(frame: pl.DataFrame, spec: FeatureSpec) -> pl.DataFrame:
    """``open_time`` plus ``spec.resolved().columns``, one row per bar of ``frame``."""
    spec = spec.resolved()
    names = FEATURE_SETS[spec.set]
    out = _base_features(frame, names)
    if spec.shifts:
        out = out.with_columns(
            pl.col(n).shift(s).alias(f"{n}_s{s}") for s in spec.shifts for n in names
        )
    for tf in spec.higher:
        out = out.with_columns(_higher(frame, names, spec.timeframe, tf).drop("open_time"))
    return out.select("open_time", *spec.columns)


def feature_fn(spec: FeatureSpec) -> FeatureFn:
    spec = spec.resolved()
    return lambda frame: build_features(frame, spec)


def first_leak(
    features: FeatureFn, frame: pl.DataFrame, cuts: int = 6, seed: int = 0, warmup: int = 100
) -> tuple[str, int] | None:
    """The first ``(column, bar)`` whose value changes when bars after it are added, or None.

    Features on the whole frame against features on prefixes cut at seeded points (values at
    every bar before the cut must agree: nulls equal, floats to 1e-9 relative). A feature that
    reads a later bar (a label, a forward return, a centred window) differs at the prefix's
    last bars, where the future it read is missing.
    """
    full = features(frame)
    n = frame.height
    if n <= warmup + 2:
        return None
    points = sorted(random.Random(seed).sample(range(warmup + 1, n), min(cuts, n - warmup - 1)))
    found: tuple[str, int] | None = None
    for c in points:
        prefix = features(frame.head(c))
        for name in full.columns:
            a = full.get_column(name).head(c).cast(pl.Float64).to_numpy()
            if name not in prefix.columns:
                bad = np.array([0])
            else:
                b = prefix.get_column(name).cast(pl.Float64).to_numpy()
                same = (np.isnan(a) & np.isnan(b)) | np.isclose(a, b, rtol=1e-9, atol=1e-12)
                bad = np.flatnonzero(~same)
            if bad.size and (found is None or int(bad[0]) < found[1]):
                found = (name, int(bad[0]))
    return found


def require_causal(features: FeatureFn, frame: pl.DataFrame, cuts: int = 6, seed: int = 0) -> None:
    """Raise :class:`LeakageError` naming the column and bar if any feature sees the future."""
    leak = first_leak(features, frame, cuts=cuts, seed=seed)
    if leak is not None:
        column, bar = leak
        when = int(frame.get_column("open_time")[bar])
        raise LeakageError(
            f"feature {column!r} looks ahead: its value at bar {bar} (open_time {when}) changes "
            "when later bars are added; features may use only bars up to their own"
        )
