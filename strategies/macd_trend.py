"""MACD trend: follow a fresh MACD/signal cross when both lines are already on the trend's side
of zero and price is on the same side of the 200 EMA. Exits on the opposite cross. Stop at k ATR,
targets at 2.5R and 4R. See docs/strategies.md.
"""

from __future__ import annotations

import polars as pl
from pydantic import Field, model_validator

from tradeterm.indicators.ta import atr, ema, macd
from tradeterm.strategy import Strategy


class MacdTrend(Strategy):
    name = "macd_trend"
    timeframe = "1h"
    warmup = 200  # the trend EMA seeds on its first 200 bars (MACD needs 33)

    class Params(Strategy.Params):
        fast: int = Field(12, ge=2, le=50, description="MACD fast EMA period.")
        slow: int = Field(26, ge=5, le=100, description="MACD slow EMA period.")
        signal: int = Field(9, ge=2, le=50, description="MACD signal EMA period.")
        trend: int = Field(200, ge=50, le=400, description="Trend filter EMA period.")
        atr_n: int = Field(14, ge=5, le=50, description="ATR period for the stop.")
        stop_atr: float = Field(1.5, gt=0, le=5, description="Stop distance in ATRs (1R).")
        target_1_r: float = Field(2.5, gt=0, le=10, description="First target in R.")
        target_2_r: float = Field(4.0, gt=0, le=20, description="Second target in R.")

        @model_validator(mode="after")
        def _ordered(self) -> MacdTrend.Params:
            if self.fast >= self.slow:
                raise ValueError(f"fast must be < slow, got fast={self.fast}, slow={self.slow}")
            if self.target_1_r >= self.target_2_r:
                raise ValueError(
                    f"target_1_r must be < target_2_r, got {self.target_1_r}, {self.target_2_r}"
                )
            return self

    def indicators(self, frame: pl.DataFrame) -> pl.DataFrame:
        p = self.params
        return atr(ema(macd(frame, p.fast, p.slow, p.signal), p.trend), p.atr_n)

    def signals(self, frame: pl.DataFrame) -> pl.DataFrame:
        p = self.params
        suffix = f"{p.fast}_{p.slow}_{p.signal}"
        line, sig = pl.col(f"macd_{suffix}"), pl.col(f"macd_signal_{suffix}")
        close, atr_col = pl.col("close"), pl.col(f"atr_{p.atr_n}")
        above = line > sig
        was_above = line.shift(1) > sig.shift(1)
        cross_up = above & ~was_above
        cross_down = ~above & was_above
        up_trend = close > pl.col(f"ema_{p.trend}")
        down_trend = close < pl.col(f"ema_{p.trend}")
        long = cross_up & (line > 0) & (sig > 0) & up_trend
        short = cross_down & (line < 0) & (sig < 0) & down_trend
        sign = pl.when(long).then(1.0).when(short).then(-1.0).otherwise(None)
        risk = atr_col * p.stop_atr
        # Confidence: 0.5 plus up to 0.5 as the MACD line's distance from zero reaches 1 ATR.
        strength = (line.abs() / atr_col).fill_nan(None).clip(0, 1)
        reasons = pl.when(long).then(
            pl.lit(f"macd crossed above signal; macd>0; signal>0; close>ema{p.trend}")
        ).when(short).then(
            pl.lit(f"macd crossed below signal; macd<0; signal<0; close<ema{p.trend}")
        )
        return frame.with_columns(
            entry_long=long,
            entry_short=short,
            exit_long=cross_down,
            exit_short=cross_up,
            stop=close - sign * risk,
            target_1=close + sign * p.target_1_r * risk,
            target_2=close + sign * p.target_2_r * risk,
            confidence=(0.5 + strength / 2).fill_null(0.5),
            reasons=reasons,
        )
