"""The candles the lockstep replays trade in tests (the parity test, the replay sandbox)."""

from __future__ import annotations

import numpy as np
import polars as pl

START = 1_704_067_200_000  # 2024-01-01 00:00 UTC
MINUTE = 60_000
TICK = 0.01


def tick_walk(bars: int, seed: int = 11, *, time_column: str = "open_time") -> pl.DataFrame:
    """A continuous 1m random walk near 100.00 in whole ticks: quiet stretches that break into
    loud, trending ones (with volume), and a few ticks of wick, so that every shipped strategy
    trades; every bar's path is short enough to print tick by tick. Volumes are whole units
    (exact in the simulator's lot steps)."""
    rng = np.random.default_rng(seed)
    i = np.arange(bars)
    loud = np.sin(i / 25.0) > 0.3
    sigma = np.where(loud, 4.0, 1.2)
    drift = np.where(loud, 1.5 * np.sign(np.sin(i / 110.0 + 1.0)), 0.0)
    moves = np.round(rng.normal(drift, sigma)).astype(np.int64)
    close = 10_000 + np.cumsum(moves)
    open_ = np.concatenate(([10_000], close[:-1]))
    high = np.maximum(open_, close) + rng.poisson(1.2, bars)
    low = np.minimum(open_, close) - rng.poisson(1.2, bars)
    as_price = lambda ticks: np.round(ticks * TICK, 2)  # noqa: E731
    volume = 40_000 + 25_000 * np.abs(moves) + rng.integers(0, 20_000, bars)
    return pl.DataFrame({
        time_column: START + i * MINUTE,
        "open": as_price(open_), "high": as_price(high), "low": as_price(low),
        "close": as_price(close), "volume": volume.astype(np.float64),
    })
