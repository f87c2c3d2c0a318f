"""Bollinger breakout: after a squeeze (the band width among the narrowest of the last N bars),
trade the first close outside the bands when volume confirms it. Exits on a close back through
the middle band. Stop at the middle band or k ATR, whichever is farther; targets at 1R, 2R, 3R.
See docs/strategies.md.
"""

from __future__ import annotations

import polars as pl
from pydantic import Field

from tradeterm.indicators.ta import atr, bollinger, format_number
from tradeterm.indicators.volume import relative_volume
from tradeterm.strategy import Strategy


class BollingerBreakout(Strategy):
    name = "bollinger_breakout"
    timeframe = "1h"
    # The band width is null for 19 bars and its 120-bar rolling quantile for 119 more (139);
    # 150 leaves a few bars of the squeeze look-back and lets ATR (Wilder) settle.
    warmup = 150

    class Params(Strategy.Params):
        bb_n: int = Field(20, ge=5, le=100, description="Bollinger period.")
        bb_k: float = Field(2.0, gt=0, le=4, description="Band width in standard deviations.")
        squeeze_window: int = Field(120, ge=20, le=1000, description="Bars the width is ranked in.")
        squeeze_quantile: float = Field(0.2, gt=0, lt=1, description="Squeeze quantile.")
        squeeze_recent: int = Field(5, ge=1, le=50, description="Squeeze recency (bars).")
        rvol_n: int = Field(20, ge=5, le=100, description="Relative volume baseline (bars).")
        min_rvol: float = Field(1.5, ge=0, le=10, description="Minimum relative volume.")
        atr_n: int = Field(14, ge=5, le=50, description="ATR period for the stop.")
        stop_atr: float = Field(1.5, gt=0, le=5, description="Minimum stop distance in ATRs.")
        target_r: float = Field(1.0, gt=0, le=10,
                                description="First target in R (the second and third at 2x, 3x).")

    def indicators(self, frame: pl.DataFrame) -> pl.DataFrame:
        p = self.params
        frame = relative_volume(atr(bollinger(frame, p.bb_n, p.bb_k), p.atr_n), p.rvol_n)
        tag = f"{p.bb_n}_{format_number(p.bb_k)}"
        upper, middle, lower = (pl.col(f"bb_{s}_{tag}") for s in ("upper", "middle", "lower"))
        width = ((upper - lower) / middle).alias("bb_width")
        # Rolling window ending at t: only bars <= t; null until the window is full of widths.
        threshold = width.rolling_quantile(
            p.squeeze_quantile, interpolation="linear", window_size=p.squeeze_window
        )
        squeeze = width <= threshold
        return frame.with_columns(width, squeeze.alias("bb_squeeze"))

    def signals(self, frame: pl.DataFrame) -> pl.DataFrame:
        p = self.params
        tag = f"{p.bb_n}_{format_number(p.bb_k)}"
        upper, middle, lower = (pl.col(f"bb_{s}_{tag}") for s in ("upper", "middle", "lower"))
        close = pl.col("close")
        rvol = pl.col(f"rvol_{p.rvol_n}")
        # A squeeze on any of the previous `squeeze_recent` bars (the breakout bar itself widens
        # the bands, so it is not asked to be narrow).
        recent_squeeze = (
            pl.col("bb_squeeze").cast(pl.Int8).shift(1).rolling_max(p.squeeze_recent, min_samples=1)
            == 1
        )
        loud = rvol > p.min_rvol
        first_above = (close > upper) & (close.shift(1) <= upper.shift(1))
        first_below = (close < lower) & (close.shift(1) >= lower.shift(1))
        long = first_above & recent_squeeze & loud
        short = first_below & recent_squeeze & loud
        atr_risk = pl.col(f"atr_{p.atr_n}") * p.stop_atr
        stop = (
            pl.when(long).then(pl.min_horizontal(middle, close - atr_risk))
            .when(short).then(pl.max_horizontal(middle, close + atr_risk))
        )
        risk = (close - stop).abs()
        sign = pl.when(long).then(1.0).when(short).then(-1.0).otherwise(None)
        # Confidence: 0.5, + up to 0.25 as rvol reaches twice the threshold, + up to 0.25 as the
        # close gets 1 ATR beyond the band.
        beyond = pl.when(long).then(close - upper).otherwise(lower - close)
        confidence = (
            0.5
            + 0.25 * (rvol / max(p.min_rvol, 1e-9) - 1).clip(0, 1)
            + 0.25 * (beyond / pl.col(f"atr_{p.atr_n}")).fill_nan(None).clip(0, 1)
        )
        reasons = pl.when(long).then(
            pl.lit(f"squeeze; close>bb_upper; rvol>{p.min_rvol:g}")
        ).when(short).then(pl.lit(f"squeeze; close<bb_lower; rvol>{p.min_rvol:g}"))
        return frame.with_columns(
            entry_long=long,
            entry_short=short,
            exit_long=close < middle,
            exit_short=close > middle,
            stop=stop,
            target_1=close + sign * p.target_r * risk,
            target_2=close + sign * 2 * p.target_r * risk,
            target_3=close + sign * 3 * p.target_r * risk,
            confidence=pl.when(long | short).then(confidence.fill_null(0.5)).otherwise(0.5),
            reasons=reasons,
        )
