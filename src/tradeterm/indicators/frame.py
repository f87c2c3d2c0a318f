"""The candle frame every indicator, pattern, SMC function and strategy works on.

One shape for all of them, so they compose with ``with_columns`` and never need to agree on
anything else: ``open_time`` (Int64, bar open in ms since the epoch, UTC) and ``open``, ``high``,
``low``, ``close``, ``volume`` (Float64), sorted ascending, one row per bar.

``synthetic_candles`` generates realistic OHLCV (random walk with volatility clustering, volume
that rises with volatility, occasional gaps and jumps) so tests never need recorded data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from tradeterm.core.models import Candle

CANDLE_SCHEMA: dict[str, pl.DataType] = {
    "open_time": pl.Int64(),
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "volume": pl.Float64(),
}
"""Column names and dtypes of a candle frame, in order."""

# 2024-01-01 00:00:00 UTC: a midnight, so session VWAP resets fall on round bar counts.
DEFAULT_START_MS = 1_704_067_200_000


def candles_frame(candles: Sequence[Candle]) -> pl.DataFrame:
    """Build a candle frame from ``Candle`` models (assumed in ascending ``open_time`` order)."""
    return pl.DataFrame(
        {
            "open_time": [c.open_time for c in candles],
            "open": [c.open for c in candles],
            "high": [c.high for c in candles],
            "low": [c.low for c in candles],
            "close": [c.close for c in candles],
            "volume": [c.volume for c in candles],
        },
        schema=CANDLE_SCHEMA,
    )


def _smooth(noise: np.ndarray, window: int) -> np.ndarray:
    """Moving average of ``noise`` (same length): a cheap vectorised stand-in for an AR process."""
    kernel = np.ones(window) / window
    return np.convolve(noise, kernel, mode="full")[: noise.size]


def synthetic_candles(
    n: int,
    seed: int = 0,
    *,
    start_ms: int = DEFAULT_START_MS,
    interval_ms: int = 60_000,
    start_price: float = 100.0,
) -> pl.DataFrame:
    """``n`` bars of realistic, seeded OHLCV.

    Log returns are Student-t shocks scaled by a slowly varying volatility (clustering); about
    0.3 % of bars open with a gap from the previous close and 0.2 % carry a jump. High and low
    enclose open and close with random wicks; volume grows with the bar's range. Same seed, same
    frame.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if interval_ms <= 0:
        raise ValueError(f"interval_ms must be > 0, got {interval_ms}")
    rng = np.random.default_rng(seed)
    log_vol = np.log(0.002) + 2.5 * _smooth(rng.standard_normal(n), 60)
    vol = np.exp(log_vol)
    shocks = rng.standard_t(4, n) / np.sqrt(2.0)
    jumps = np.where(rng.random(n) < 0.002, rng.normal(0.0, 8.0, n), 0.0) * vol
    gaps = np.where(rng.random(n) < 0.003, rng.normal(0.0, 3.0, n), 0.0) * vol
    # Each bar: open = previous close (+ gap), close = open * exp(return).
    step = shocks * vol + jumps
    log_close = np.log(start_price) + np.cumsum(gaps + step)
    log_open = log_close - step
    open_ = np.exp(log_open)
    close = np.exp(log_close)
    body_top = np.maximum(open_, close)
    body_bot = np.minimum(open_, close)
    wick_up = np.abs(rng.normal(0.0, 0.6, n)) * vol * body_top
    wick_dn = np.abs(rng.normal(0.0, 0.6, n)) * vol * body_bot
    high = body_top + wick_up
    low = body_bot - wick_dn
    rng_rel = (high - low) / np.maximum(low, 1e-12)
    volume = np.round(rng.lognormal(3.0, 0.5, n) * (1.0 + rng_rel / vol.mean()), 4)
    open_time = start_ms + np.arange(n, dtype=np.int64) * interval_ms
    return pl.DataFrame(
        {
            "open_time": open_time,
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": volume,
        },
        schema=CANDLE_SCHEMA,
    )
