"""RSI reversion: buy when RSI climbs back above the oversold level, sell short when it falls
back below the overbought level; optionally only in the direction of a trend EMA. Exits when RSI
crosses 50 (the mean it reverts to). Stop at k ATR, targets at 1R and 2R. See docs/strategies.md.
"""

from __future__ import annotations

import polars as pl
from pydantic import Field, model_validator

from tradeterm.indicators.ta import atr, ema, rsi
from tradeterm.strategy import Strategy


class RsiReversion(Strategy):
    name = "rsi_reversion"
    timeframe = "1h"
    # RSI/ATR are Wilder recursions: after ~100 bars the seed's weight is (13/14)^86 < 0.2 %.
    # With the trend filter on, the trend EMA is null for its first trend-1 bars, which blocks
    # entries there by itself.
    warmup = 100

    class Params(Strategy.Params):
        rsi_n: int = Field(14, ge=2, le=50, description="RSI period.")
        oversold: float = Field(30.0, ge=5, le=45, description="Oversold level.")
        overbought: float = Field(70.0, ge=55, le=95, description="Overbought level.")
        exit_level: float = Field(50.0, ge=30, le=70, description="Exit level.")
        trend_filter: bool = Field(False, description="Trade with EMA(trend).")
        trend: int = Field(200, ge=20, le=400, description="Trend EMA period (if trend_filter).")
        atr_n: int = Field(14, ge=5, le=50, description="ATR period for the stop.")
        stop_atr: float = Field(1.5, gt=0, le=5, description="Stop distance in ATRs (1R).")
        depth_bars: int = Field(5, ge=1, le=50, description="Dip depth bars.")
        target_r: float = Field(1.0, gt=0, le=10,
                                description="First target in R (the second at 2x).")

        @model_validator(mode="after")
        def _levels_ordered(self) -> RsiReversion.Params:
            if not self.oversold < self.exit_level < self.overbought:
                raise ValueError(
                    f"need oversold < exit_level < overbought, got {self.oversold}, "
                    f"{self.exit_level}, {self.overbought}"
                )
            return self

    def indicators(self, frame: pl.DataFrame) -> pl.DataFrame:
        p = self.params
        frame = atr(rsi(frame, p.rsi_n), p.atr_n)
        return ema(frame, p.trend) if p.trend_filter else frame

    def signals(self, frame: pl.DataFrame) -> pl.DataFrame:
        p = self.params
        r = pl.col(f"rsi_{p.rsi_n}")
        prev = r.shift(1)
        close = pl.col("close")
        long = (prev < p.oversold) & (r >= p.oversold)
        short = (prev > p.overbought) & (r <= p.overbought)
        if p.trend_filter:
            above = close > pl.col(f"ema_{p.trend}")
            long, short = long & above, short & ~above
        sign = pl.when(long).then(1.0).when(short).then(-1.0).otherwise(None)
        risk = pl.col(f"atr_{p.atr_n}") * p.stop_atr
        # Confidence: 0.5 plus up to 0.5 for how deep RSI went beyond the level (20 points = full).
        depth = (
            pl.when(long).then(p.oversold - r.rolling_min(p.depth_bars, min_samples=1))
            .when(short).then(r.rolling_max(p.depth_bars, min_samples=1) - p.overbought)
            .otherwise(0.0)
        )
        reasons = [
            pl.when(long).then(pl.lit(f"rsi{p.rsi_n} crossed above {p.oversold:g}"))
            .when(short).then(pl.lit(f"rsi{p.rsi_n} crossed below {p.overbought:g}")),
        ]
        if p.trend_filter:
            reasons.append(
                pl.when(long).then(pl.lit(f"close>ema{p.trend}"))
                .when(short).then(pl.lit(f"close<ema{p.trend}"))
            )
        return frame.with_columns(
            entry_long=long,
            entry_short=short,
            exit_long=(prev < p.exit_level) & (r >= p.exit_level),
            exit_short=(prev > p.exit_level) & (r <= p.exit_level),
            stop=close - sign * risk,
            target_1=close + sign * p.target_r * risk,
            target_2=close + sign * 2 * p.target_r * risk,
            confidence=(0.5 + (depth / 40).clip(0, 0.5)).fill_null(0.5),
            reasons=pl.concat_str(reasons, separator="; ", ignore_nulls=True),
        )
