"""The shipped ``confluence`` strategy: factor scoring, the 4-factor rule, the R:R rejection,
the confidence grades, and the look-ahead guard.

Each hand-built row sets every indicator column so that each of the five factors is exactly
bullish (+1), bearish (-1) or neutral (0); ``signals`` is then run on those rows.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from causality import assert_causal

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.indicators.patterns import PATTERNS
from tradeterm.strategy.loader import load_file
from tradeterm.strategy.lookahead import check_lookahead

FILE = Path(__file__).resolve().parents[3] / "strategies" / "confluence.py"
ATR = 2.0
CLOSE = 100.0


@pytest.fixture(scope="module")
def cls():
    [strategy_cls] = load_file(FILE)
    strategy_cls.check_definition()
    assert strategy_cls.name == "confluence"
    return strategy_cls


def row(trend=0, momentum=0, volume=0, pattern=0, smc=0) -> dict:
    """Indicator values giving exactly these factor values (close is always 100)."""
    emas = {1: (99.0, 98.0, 97.0), -1: (101.0, 102.0, 103.0), 0: (98.0, 99.0, 97.0)}[trend]
    rsi, hist = {1: (60.0, 0.5), -1: (40.0, -0.5), 0: (60.0, -0.5)}[momentum]
    open_, rvol = {1: (99.0, 2.0), -1: (101.0, 2.0), 0: (99.0, 1.0)}[volume]
    cdl = {p.column: 0 for p in PATTERNS}
    cdl["cdl_doji"] = 40  # neutral: never counts
    if pattern == 1:
        cdl["cdl_hammer"] = 55
    elif pattern == -1:
        cdl["cdl_shooting_star"] = -55
    return {
        "open": open_, "close": CLOSE,
        "ema_21": emas[0], "ema_50": emas[1], "ema_200": emas[2],
        "rsi_14": rsi, "macd_hist_12_26_9": hist, "rvol_20": rvol, "atr_14": ATR,
        **cdl,
        "smc_trend": smc if smc else 1, "smc_bos": 0, "smc_choch": 0,
        "smc_in_bull_ob": smc == 1, "smc_in_bear_ob": smc == -1,
    }  # fmt: skip


def frame_of(rows: list[dict]) -> pl.DataFrame:
    df = pl.DataFrame(rows).with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).mul(60_000).alias("open_time"),
        pl.col("open", "close").cast(pl.Float64),
        high=pl.lit(101.5), low=pl.lit(98.5), volume=pl.lit(10.0),
        smc_trend=pl.col("smc_trend").cast(pl.Int8),
        smc_bos=pl.col("smc_bos").cast(pl.Int8),
        smc_choch=pl.col("smc_choch").cast(pl.Int8),
        **{p.column: pl.col(p.column).cast(pl.Int8) for p in PATTERNS},
    )  # fmt: skip
    return df


ALL_BULL = dict(trend=1, momentum=1, volume=1, pattern=1, smc=1)
ALL_BEAR = dict(trend=-1, momentum=-1, volume=-1, pattern=-1, smc=-1)


def test_factors_are_scored_as_documented(cls):
    out = cls().signals(frame_of([row(**ALL_BULL), row(**ALL_BEAR), row()]))
    factors = out.select(pl.col("f_trend", "f_momentum", "f_volume", "f_pattern", "f_smc"))
    assert factors.rows() == [(1,) * 5, (-1,) * 5, (0,) * 5]
    assert out["reasons"][0] == (
        "trend bullish; momentum bullish; volume bullish; pattern bullish; smc bullish; grade high"
    )
    assert out["reasons"][2] == ""


def test_entry_long_with_stop_and_three_targets(cls):
    out = cls().signals(frame_of([row(**ALL_BULL), row(**ALL_BEAR)]))
    assert out["entry_long"].to_list() == [True, False]
    assert out["entry_short"].to_list() == [False, True]
    long, short = out.row(0, named=True), out.row(1, named=True)
    assert long["stop"] == pytest.approx(CLOSE - 1.5 * ATR)
    assert [long[f"target_{i}"] for i in (1, 2, 3)] == pytest.approx([104.0, 106.0, 108.0])
    assert short["stop"] == pytest.approx(CLOSE + 1.5 * ATR)
    assert [short[f"target_{i}"] for i in (1, 2, 3)] == pytest.approx([96.0, 94.0, 92.0])
    assert long["rr"] == pytest.approx(2.0)  # (2 + 3 + 4) / 3 ATR over 1.5 ATR
    assert long["confidence"] == pytest.approx(1.0) and long["grade"] == "high"


def test_fewer_than_four_agreeing_factors_do_not_enter(cls):
    rows = [
        row(trend=1, momentum=1, volume=1),  # 3 bullish, 2 neutral
        row(trend=1, momentum=1, volume=1, pattern=1),  # 4 bullish: enters
        row(trend=1, momentum=1, volume=1, pattern=1, smc=-1),  # 4 bullish, 1 against
        row(trend=-1, momentum=-1, volume=-1, pattern=1),  # 3 bearish
    ]
    out = cls().signals(frame_of(rows))
    assert out["entry_long"].to_list() == [False, True, False, False]
    assert out["entry_short"].to_list() == [False] * 4
    # min_agree=3 makes the first row enough; max_against=1 admits the third
    loose = cls({"min_agree": 3, "max_against": 1}).signals(frame_of(rows))
    assert loose["entry_long"].to_list() == [True, True, True, False]
    assert loose["entry_short"].to_list() == [False, False, False, True]


def test_risk_reward_below_minimum_is_rejected(cls):
    frame = frame_of([row(**ALL_BULL), row(**ALL_BEAR)])
    assert cls.Params().rr == pytest.approx(2.0)
    wide_stop = cls({"stop_atr": 2.0})  # (2 + 3 + 4) / 3 / 2.0 = 1.5 < 1.8
    out = wide_stop.signals(frame)
    assert out["rr"][0] == pytest.approx(1.5)
    assert not out["entry_long"].any() and not out["entry_short"].any()
    near = cls({"stop_atr": 1.6})  # 3 / 1.6 = 1.875 >= 1.8: accepted
    assert near.signals(frame)["entry_long"].to_list() == [True, False]
    close_targets = cls({"target_1_atr": 1.0, "target_2_atr": 1.5, "target_3_atr": 2.0})
    assert not close_targets.signals(frame)["entry_long"].any()  # 1.5 / 1.5 = 1.0
    assert not cls({"min_rr": 2.1}).signals(frame)["entry_long"].any()


def test_confidence_is_the_weighted_share_and_graded(cls):
    rows = [
        row(**ALL_BULL),  # 1.00
        row(**{**ALL_BULL, "volume": 0}),  # 0.90
        row(**{**ALL_BULL, "smc": 0}),  # 0.75: not above 0.75 -> medium
        row(**{**ALL_BULL, "trend": 0}),  # 0.70 -> medium
    ]
    out = cls().signals(frame_of(rows))
    assert out["entry_long"].all()
    assert out["confidence"].to_list() == pytest.approx([1.0, 0.9, 0.75, 0.7])
    assert out["grade"].to_list() == ["high", "high", "medium", "medium"]
    assert out["reasons"][3].endswith("grade medium")
    # with min_agree=3 a low-grade entry exists: volume, pattern, momentum = 0.45
    low = cls({"min_agree": 3}).signals(frame_of([row(volume=1, pattern=1, momentum=1)]))
    assert low["entry_long"][0] and low["grade"][0] == "low"
    assert low["confidence"][0] == pytest.approx(0.45)


def test_smc_factor_counts_a_recent_break(cls):
    rows = [row(trend=1, momentum=1, volume=1, pattern=1) for _ in range(25)]
    frame = frame_of(rows).with_columns(
        smc_bos=pl.when(pl.int_range(pl.len()) == 2).then(1).otherwise(0).cast(pl.Int8)
    )
    out = cls().signals(frame)
    # a bullish BOS at bar 2 keeps the SMC factor bullish for 20 bars (2..21)
    assert out["f_smc"].to_list() == [0, 0] + [1] * 20 + [0] * 3


def test_params_validate_target_order(cls):
    with pytest.raises(ValueError, match="target_1_atr < target_2_atr"):
        cls({"target_2_atr": 5.0})


def test_confluence_is_causal_and_fires_on_synthetic_candles(cls):
    strategy = cls()
    frame = synthetic_candles(3000, seed=42)
    report = check_lookahead(strategy, frame, cuts=8, seed=1)
    assert report.ok, report.reason
    assert_causal(lambda f: strategy.evaluate(f), frame, cuts=5, seed=2)
    out = strategy.evaluate(frame)
    entries = out.filter(pl.col("entry_long") | pl.col("entry_short"))
    assert entries.height > 0
    agree = pl.when(pl.col("entry_long")).then(pl.col("bulls")).otherwise(pl.col("bears"))
    assert (entries.select(agree).to_series() >= 4).all()
    assert entries["confidence"].min() >= 0.6  # four of five factors always weigh > 0.6
