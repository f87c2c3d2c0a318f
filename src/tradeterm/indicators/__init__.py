"""Indicators, candlestick patterns and Smart Money Concepts (``smc``) on candle frames.

Every function takes a candle frame (see ``frame``) and returns it with columns added; warm-up
values are null; every output at bar t depends only on bars <= t. ``add_default_indicators``
and ``add_patterns`` are the entry points strategies and benchmarks use.
"""

from __future__ import annotations

import polars as pl

from tradeterm.indicators.frame import CANDLE_SCHEMA, candles_frame, synthetic_candles
from tradeterm.indicators.patterns import PATTERNS, Pattern, add_patterns
from tradeterm.indicators.ta import (
    adx,
    arrays,
    atr,
    bollinger,
    compute_adx,
    compute_atr,
    compute_bollinger,
    compute_ema,
    compute_macd,
    compute_obv,
    compute_rsi,
    compute_sma,
    compute_stochastic,
    ema,
    macd,
    obv,
    rsi,
    sma,
    stochastic,
    to_columns,
    wma,
)
from tradeterm.indicators.smc import SmcResult, add_smc, smc
from tradeterm.indicators.volume import compute_relative_volume, relative_volume
from tradeterm.indicators.vwap import compute_vwap, vwap

DEFAULT_EMAS = (9, 21, 50, 200)

DEFAULT_COLUMNS: tuple[str, ...] = (
    *(f"ema_{n}" for n in DEFAULT_EMAS),
    "sma_20",
    "rsi_14",
    "macd_12_26_9",
    "macd_signal_12_26_9",
    "macd_hist_12_26_9",
    "atr_14",
    "bb_upper_20_2",
    "bb_middle_20_2",
    "bb_lower_20_2",
    "stoch_k_14_3_3",
    "stoch_d_14_3_3",
    "adx_14",
    "obv",
    "vwap",
    "rvol_20",
)
"""Columns ``add_default_indicators`` adds, in order."""


def add_default_indicators(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the default set (``DEFAULT_COLUMNS``): EMA 9/21/50/200, SMA 20, RSI 14, MACD 12/26/9,
    ATR 14, Bollinger 20/2, Stochastic 14/3/3, ADX 14, OBV, session VWAP and RVOL 20.

    Each input column is converted to numpy once and every result is added in one
    ``with_columns``; values are identical to calling each indicator on its own.
    """
    a = arrays(frame, "high", "low", "close", "volume")
    open_time = frame.get_column("open_time").cast(pl.Int64).to_numpy()
    values: dict = {}
    for n in DEFAULT_EMAS:
        values |= compute_ema(a, n)
    values |= compute_sma(a, 20)
    values |= compute_rsi(a, 14)
    values |= compute_macd(a, 12, 26, 9)
    values |= compute_atr(a, 14)
    values |= compute_bollinger(a, 20, 2.0)
    values |= compute_stochastic(a, 14, 3, 3)
    values |= compute_adx(a, 14)
    values |= compute_obv(a)
    values |= compute_vwap(a, open_time)
    values |= compute_relative_volume(a, 20)
    return frame.with_columns(to_columns(values))


__all__ = [
    "CANDLE_SCHEMA",
    "DEFAULT_COLUMNS",
    "PATTERNS",
    "Pattern",
    "SmcResult",
    "add_default_indicators",
    "add_patterns",
    "add_smc",
    "adx",
    "atr",
    "bollinger",
    "candles_frame",
    "ema",
    "macd",
    "obv",
    "relative_volume",
    "rsi",
    "sma",
    "smc",
    "stochastic",
    "synthetic_candles",
    "vwap",
    "wma",
]
