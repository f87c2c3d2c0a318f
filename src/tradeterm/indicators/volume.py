"""Relative volume: how this bar's volume compares with the recent normal.

``rvol_{n}`` at bar t = volume[t] / mean(volume[t-n .. t-1]). The mean excludes bar t, so a
volume spike is measured against what came before it rather than diluting its own baseline.
Null for the first ``n`` bars (no full window yet) and where the previous ``n`` bars traded
nothing.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import talib

from tradeterm.indicators.ta import Arrays, arrays, check_period, to_columns


def trailing_mean(values: np.ndarray, n: int) -> np.ndarray:
    """Mean of the ``n`` values before each index (NaN for the first ``n``).

    TA-Lib's SMA keeps a sliding window total (add the new value, drop the oldest), so the error
    stays relative to the window rather than to the whole history; shifted one bar so the mean
    ends at t-1. Deterministic from the first bar, hence causal.
    """
    out = np.full(values.size, np.nan)
    if values.size > n:
        out[1:] = talib.SMA(values, timeperiod=n)[:-1]
    return out


def compute_relative_volume(a: Arrays, n: int) -> dict[str, np.ndarray]:
    base = trailing_mean(a["volume"], n)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = a["volume"] / base
    out[~(base > 0)] = np.nan
    return {f"rvol_{n}": out}


def relative_volume(frame: pl.DataFrame, n: int = 20) -> pl.DataFrame:
    """Add ``rvol_{n}``: volume over the mean volume of the previous ``n`` bars."""
    n = check_period("n", n, 1)
    return frame.with_columns(to_columns(compute_relative_volume(arrays(frame, "volume"), n)))
