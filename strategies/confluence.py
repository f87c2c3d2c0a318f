"""Confluence: score five independent factors per bar (trend, momentum, volume, candlestick
patterns, Smart Money Concepts), each bullish (+1), bearish (-1) or neutral (0), and enter when
at least four agree and none is against. Stop at 1.5 ATR, targets at 2, 3 and 4 ATR; a setup
whose risk/reward (to the average of the three targets) is under 1.8 is rejected. Confidence is
the weighted share of agreeing factors, graded high (> 0.75) / medium (> 0.60) / low.
Every rule is spelled out in docs/strategies.md.
"""

from __future__ import annotations

import polars as pl
from pydantic import Field, model_validator

from tradeterm.indicators.patterns import PATTERNS, compute_patterns
from tradeterm.indicators.smc import add_smc
from tradeterm.indicators.ta import (
    arrays,
    compute_atr,
    compute_ema,
    compute_macd,
    compute_rsi,
    to_columns,
)
from tradeterm.indicators.volume import compute_relative_volume
from tradeterm.strategy import Strategy

FACTORS: tuple[str, ...] = ("trend", "momentum", "volume", "pattern", "smc")
"""Factor names, in the order they appear in ``reasons``; column ``f_<name>`` (Int8 -1/0/+1)."""

WEIGHTS: dict[str, float] = {
    "trend": 0.30,
    "momentum": 0.20,
    "volume": 0.10,
    "pattern": 0.15,
    "smc": 0.25,
}
"""Confidence weights (sum 1): the structural factors (trend, SMC) count most."""

HIGH, MEDIUM = 0.75, 0.60
"""Confidence grade thresholds: ``high`` above 0.75, ``medium`` above 0.60, else ``low``."""

BULLISH_PATTERNS = tuple(p.column for p in PATTERNS if p.direction == "bullish")
BEARISH_PATTERNS = tuple(p.column for p in PATTERNS if p.direction == "bearish")

MACD_HIST = "macd_hist_12_26_9"


def reward_to_risk(stop_atr: float, targets_atr: tuple[float, float, float]) -> float:
    """R:R of a position scaled out in equal thirds at the three targets: the average target
    distance over the stop distance (2, 3, 4 ATR against 1.5 ATR: 3 / 1.5 = 2.0)."""
    return sum(targets_atr) / len(targets_atr) / stop_atr


def grade(confidence: pl.Expr) -> pl.Expr:
    """``high`` above 0.75, ``medium`` above 0.60, else ``low``."""
    return (
        pl.when(confidence > HIGH).then(pl.lit("high"))
        .when(confidence > MEDIUM).then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )


class Confluence(Strategy):
    name = "confluence"
    timeframe = "1h"
    warmup = 200  # the EMA 200 of the trend factor seeds on its first 200 bars

    class Params(Strategy.Params):
        min_agree: int = Field(4, ge=3, le=5, description="Factors that must agree to enter.")
        max_against: int = Field(0, ge=0, le=1, description="Factors allowed against.")
        exit_against: int = Field(3, ge=2, le=5, description="Exit at this many against.")
        min_rvol: float = Field(1.5, gt=0, le=10, description="Volume factor: rvol_20 above this.")
        structure_lookback: int = Field(20, ge=1, le=200, description="Bars a BOS/CHoCH counts.")
        swing_length: int = Field(5, ge=1, le=50, description="SMC swing length.")
        stop_atr: float = Field(1.5, gt=0, le=10, description="Stop distance in ATR 14.")
        target_1_atr: float = Field(2.0, gt=0, le=20, description="First target in ATR 14.")
        target_2_atr: float = Field(3.0, gt=0, le=20, description="Second target in ATR 14.")
        target_3_atr: float = Field(4.0, gt=0, le=20, description="Third target in ATR 14.")
        min_rr: float = Field(1.8, ge=0, le=10, description="Reject setups with a lower R:R.")

        @model_validator(mode="after")
        def _targets_ordered(self) -> Confluence.Params:
            if not self.target_1_atr < self.target_2_atr < self.target_3_atr:
                raise ValueError(
                    "need target_1_atr < target_2_atr < target_3_atr, got "
                    f"{self.target_1_atr}, {self.target_2_atr}, {self.target_3_atr}"
                )
            return self

        @property
        def rr(self) -> float:
            return reward_to_risk(
                self.stop_atr, (self.target_1_atr, self.target_2_atr, self.target_3_atr)
            )

    def indicators(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Only what the factors read, each input column converted to numpy once."""
        a = arrays(frame, "open", "high", "low", "close", "volume")
        values: dict = {}
        for n in (21, 50, 200):
            values |= compute_ema(a, n)
        values |= compute_rsi(a, 14)
        values |= compute_macd(a, 12, 26, 9)
        values |= compute_atr(a, 14)
        values |= compute_relative_volume(a, 20)
        frame = frame.with_columns(*to_columns(values), *compute_patterns(a))
        return add_smc(frame, swing_length=self.params.swing_length)

    def signals(self, frame: pl.DataFrame) -> pl.DataFrame:
        p = self.params
        col, close = pl.col, pl.col("close")
        e21, e50, e200 = col("ema_21"), col("ema_50"), col("ema_200")

        def signed(bull: pl.Expr, bear: pl.Expr) -> pl.Expr:
            return (
                pl.when(bull & ~bear).then(1).when(bear & ~bull).then(-1).otherwise(0)
                .fill_null(0).cast(pl.Int8)
            )

        def recent(column: str, direction: int) -> pl.Expr:
            hit = (col(column) == direction).cast(pl.Int8)
            return hit.rolling_max(p.structure_lookback, min_samples=1) == 1

        up_candle, down_candle = close > col("open"), close < col("open")
        loud = col("rvol_20") > p.min_rvol
        bull_break = recent("smc_bos", 1) | recent("smc_choch", 1)
        bear_break = recent("smc_bos", -1) | recent("smc_choch", -1)
        factors = {
            "trend": signed(
                (e21 > e50) & (e50 > e200) & (close > e200),
                (e21 < e50) & (e50 < e200) & (close < e200),
            ),
            "momentum": signed(
                (col("rsi_14") > 50) & (col(MACD_HIST) > 0),
                (col("rsi_14") < 50) & (col(MACD_HIST) < 0),
            ),
            "volume": signed(loud & up_candle, loud & down_candle),
            "pattern": signed(
                pl.any_horizontal(col(c).fill_null(0) > 0 for c in BULLISH_PATTERNS),
                pl.any_horizontal(col(c).fill_null(0) < 0 for c in BEARISH_PATTERNS),
            ),
            "smc": signed(
                (col("smc_trend") == 1) & (bull_break | col("smc_in_bull_ob")),
                (col("smc_trend") == -1) & (bear_break | col("smc_in_bear_ob")),
            ),
        }
        frame = frame.with_columns(v.alias(f"f_{k}") for k, v in factors.items())

        f = {k: col(f"f_{k}") for k in FACTORS}
        # Staged with_columns: each stage reads the previous stage's columns instead of
        # repeating their expressions (one big tree costs more to plan than to run).
        frame = frame.with_columns(
            bulls=pl.sum_horizontal((f[k] == 1).cast(pl.Int8) for k in FACTORS),
            bears=pl.sum_horizontal((f[k] == -1).cast(pl.Int8) for k in FACTORS),
            bull_conf=pl.sum_horizontal((f[k] == 1) * WEIGHTS[k] for k in FACTORS),
            bear_conf=pl.sum_horizontal((f[k] == -1) * WEIGHTS[k] for k in FACTORS),
        )
        bulls, bears = col("bulls"), col("bears")
        rr_ok = pl.lit(p.rr >= p.min_rr)
        frame = frame.with_columns(
            entry_long=(bulls >= p.min_agree) & (bears <= p.max_against) & rr_ok,
            entry_short=(bears >= p.min_agree) & (bulls <= p.max_against) & rr_ok,
        )
        long, short = col("entry_long"), col("entry_short")
        frame = frame.with_columns(
            confidence=pl.when(long).then(col("bull_conf")).when(short).then(col("bear_conf"))
            .otherwise(pl.max_horizontal("bull_conf", "bear_conf"))
            .round(9),  # sums of weights: 0.75 must grade as 0.75, not 0.7500000000000001
            side=pl.when(long).then(1.0).when(short).then(-1.0),
        )
        sign, atr14 = col("side"), col("atr_14")
        frame = frame.with_columns(grade=grade(col("confidence")))
        fired = [
            pl.when(f[k] == 1).then(pl.lit(f"{k} bullish"))
            .when(f[k] == -1).then(pl.lit(f"{k} bearish"))
            for k in FACTORS
        ]
        fired.append(pl.when(long | short).then(pl.concat_str(pl.lit("grade "), col("grade"))))
        return frame.with_columns(
            exit_long=bears >= p.exit_against,
            exit_short=bulls >= p.exit_against,
            stop=close - sign * p.stop_atr * atr14,
            target_1=close + sign * p.target_1_atr * atr14,
            target_2=close + sign * p.target_2_atr * atr14,
            target_3=close + sign * p.target_3_atr * atr14,
            rr=pl.lit(p.rr),
            reasons=pl.concat_str(fired, separator="; ", ignore_nulls=True),
        )
