"""EMA cross: long when the fast EMA crosses above the slow one while price is above the trend
EMA; short on the mirror image. Exits on the opposite cross. Stop at 1.5 ATR, targets at 1, 2
and 3 times the risk. Confidence grows with the distance from the trend EMA (in ATRs).
"""

from __future__ import annotations

import polars as pl
from pydantic import Field

from tradeterm.indicators.ta import atr, ema
from tradeterm.strategy import Strategy


class EmaCross(Strategy):
    name = "ema_cross"
    timeframe = "1h"
    warmup = 200  # the trend EMA seeds on its first 200 bars
    constraints = ("fast < slow",)  # the optimiser never runs a fast EMA slower than the slow

    class Params(Strategy.Params):
        fast: int = Field(9, ge=2, le=50, description="Fast EMA period.")
        slow: int = Field(21, ge=5, le=100, description="Slow EMA period.")
        trend: int = Field(200, ge=50, le=400, description="Trend filter EMA period.")
        atr_n: int = Field(14, ge=5, le=50, description="ATR period for the stop.")
        stop_atr: float = Field(1.5, gt=0, le=5, description="Stop distance in ATRs.")
        target_r: float = Field(1.0, gt=0, le=10,
                                description="First target in R (the second and third at 2x, 3x).")

    def indicators(self, frame: pl.DataFrame) -> pl.DataFrame:
        p = self.params
        return atr(ema(ema(ema(frame, p.fast), p.slow), p.trend), p.atr_n)

    def signals(self, frame: pl.DataFrame) -> pl.DataFrame:
        p = self.params
        fast, slow = pl.col(f"ema_{p.fast}"), pl.col(f"ema_{p.slow}")
        trend, risk = pl.col(f"ema_{p.trend}"), pl.col(f"atr_{p.atr_n}") * p.stop_atr
        above = fast > slow
        was_above = fast.shift(1) > slow.shift(1)
        cross_up = above & ~was_above
        cross_down = ~above & was_above
        up_trend = pl.col("close") > trend
        long = cross_up & up_trend
        short = cross_down & ~up_trend
        sign = pl.when(long).then(1.0).when(short).then(-1.0).otherwise(None)
        close = pl.col("close")
        distance = ((close - trend).abs() / pl.col(f"atr_{p.atr_n}")).fill_nan(None)
        reasons = pl.concat_str(
            [
                pl.when(above).then(pl.lit(f"ema{p.fast}>ema{p.slow}"))
                .otherwise(pl.lit(f"ema{p.fast}<ema{p.slow}")),
                pl.when(up_trend).then(pl.lit(f"close>ema{p.trend}"))
                .otherwise(pl.lit(f"close<ema{p.trend}")),
            ],
            separator="; ",
        )
        return frame.with_columns(
            entry_long=long,
            entry_short=short,
            exit_long=cross_down,
            exit_short=cross_up,
            stop=close - sign * risk,
            target_1=close + sign * p.target_r * risk,
            target_2=close + sign * 2 * p.target_r * risk,
            target_3=close + sign * 3 * p.target_r * risk,
            confidence=(0.5 + distance.clip(0, 5) / 10).fill_null(0.5),
            reasons=reasons,
        )
