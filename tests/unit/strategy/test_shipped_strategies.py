"""The shipped strategies rsi_reversion, macd_trend, bollinger_breakout and smc_order_blocks:
each loads through the real loader, passes the look-ahead guard, fires on a hand-built setup on
the right bar with the right stop/targets, and stays silent on a near miss.

Hand-built setups call ``signals`` on a frame whose indicator columns are written by hand, so
the rule itself is what is tested; the full pipeline (``evaluate``) is covered on synthetic
candles, checked against the same rule recomputed from TA-Lib / SMC columns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
import talib
from causality import assert_causal

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.loader import load_file
from tradeterm.strategy.lookahead import check_lookahead

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"
NAMES = ("rsi_reversion", "macd_trend", "bollinger_breakout", "smc_order_blocks")


def load(name: str):
    [cls] = load_file(STRATEGIES / f"{name}.py")
    cls.check_definition()
    assert cls.name == name
    return cls


def candles(close: list[float], open_: list[float] | None = None) -> pl.DataFrame:
    """A minimal candle frame around the given closes (one minute apart)."""
    c = np.asarray(close, dtype=float)
    o = np.asarray(open_ if open_ is not None else close, dtype=float)
    return pl.DataFrame(
        {
            "open_time": np.arange(c.size, dtype=np.int64) * 60_000,
            "open": o,
            "high": np.maximum(o, c) + 0.5,
            "low": np.minimum(o, c) - 0.5,
            "close": c,
            "volume": np.full(c.size, 10.0),
        }
    )


def entries(out: pl.DataFrame, column: str) -> list[int]:
    return out.with_row_index().filter(pl.col(column).fill_null(False))["index"].to_list()


@pytest.fixture(scope="module")
def synthetic() -> pl.DataFrame:
    return synthetic_candles(3000, seed=7)


# -- every strategy: loads, causal, sane output ------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_loads_and_is_causal(name, synthetic):
    strategy = load(name)()
    report = check_lookahead(strategy, synthetic, cuts=10, seed=5)
    assert report.ok, report.reason
    assert_causal(lambda f: strategy.evaluate(f), synthetic, cuts=5, seed=11)


@pytest.mark.parametrize("name", NAMES)
def test_entries_have_protective_stops_and_ordered_targets(name, synthetic):
    strategy = load(name)()
    out = strategy.evaluate(synthetic)
    longs, shorts = out.filter("entry_long"), out.filter("entry_short")
    assert longs.height > 0 and shorts.height > 0, "synthetic candles should give both sides"
    assert (longs["stop"] < longs["close"]).all() and (longs["target_1"] > longs["close"]).all()
    assert (shorts["stop"] > shorts["close"]).all() and (shorts["target_1"] < shorts["close"]).all()
    assert out["confidence"].is_between(0, 1).all()
    assert longs["reasons"].str.len_chars().min() > 0
    head = out.head(strategy.warmup)
    assert not head.select(pl.any_horizontal("entry_long", "entry_short")).to_series().any()


# -- rsi_reversion -----------------------------------------------------------------------------


def rsi_frame(rsi: list[float], trend: float | None = None) -> pl.DataFrame:
    frame = candles([100.0] * len(rsi)).with_columns(
        rsi_14=pl.Series(rsi, dtype=pl.Float64), atr_14=pl.lit(2.0)
    )
    return frame if trend is None else frame.with_columns(ema_200=pl.lit(trend))


RSI_PATH = [40, 35, 28, 25, 29, 31, 45, 51, 60, 72, 75, 69, 55, 48]
#            0   1   2   3   4   5   6   7   8   9  10  11  12  13


def test_rsi_reversion_hand_built_setup():
    strategy = load("rsi_reversion")()
    out = strategy.signals(rsi_frame(RSI_PATH))
    assert entries(out, "entry_long") == [5]  # 29 -> 31 crosses back above 30
    assert entries(out, "entry_short") == [11]  # 75 -> 69 crosses back below 70
    assert entries(out, "exit_long") == [7]  # 45 -> 51 crosses 50 upwards
    assert entries(out, "exit_short") == [13]  # 55 -> 48
    row = out.row(5, named=True)
    assert row["stop"] == pytest.approx(97.0)  # 100 - 1.5 x ATR 2
    assert (row["target_1"], row["target_2"]) == (pytest.approx(103.0), pytest.approx(106.0))
    assert "target_3" not in out.columns  # two targets only
    # deepest RSI of the last 5 bars is 25: 5 points below 30 -> 0.5 + 5/40
    assert row["confidence"] == pytest.approx(0.625)
    assert row["reasons"] == "rsi14 crossed above 30"
    short = out.row(11, named=True)
    assert short["stop"] == pytest.approx(103.0) and short["target_2"] == pytest.approx(94.0)


def test_rsi_reversion_near_misses():
    strategy = load("rsi_reversion")()
    # touches 30 without going below it, then dips and recovers to 29.9 without crossing
    out = strategy.signals(rsi_frame([40, 31, 30.0, 35, 25, 29.9, 29.0, 29.5]))
    assert entries(out, "entry_long") == []
    # rises to 69.9, then above 70 without coming back below
    out = strategy.signals(rsi_frame([60, 69.9, 69, 71, 72, 70.5]))
    assert entries(out, "entry_short") == []


def test_rsi_reversion_trend_filter():
    cls = load("rsi_reversion")
    below = cls({"trend_filter": True}).signals(rsi_frame(RSI_PATH, trend=105.0))
    assert entries(below, "entry_long") == [] and entries(below, "entry_short") == [11]
    above = cls({"trend_filter": True}).signals(rsi_frame(RSI_PATH, trend=95.0))
    assert entries(above, "entry_long") == [5] and entries(above, "entry_short") == []
    assert above.row(5, named=True)["reasons"] == "rsi14 crossed above 30; close>ema200"


def test_rsi_reversion_pipeline_matches_talib(synthetic):
    out = load("rsi_reversion")().evaluate(synthetic)
    r = talib.RSI(synthetic["close"].to_numpy(), 14)
    want = np.zeros(r.size, dtype=bool)
    want[1:] = (r[:-1] < 30) & (r[1:] >= 30)
    want[:100] = False
    assert out["entry_long"].to_numpy().tolist() == want.tolist()


# -- macd_trend --------------------------------------------------------------------------------


def macd_frame(line: list[float], signal: list[float], trend: float = 90.0) -> pl.DataFrame:
    return candles([100.0] * len(line)).with_columns(
        macd_12_26_9=pl.Series(line, dtype=pl.Float64),
        macd_signal_12_26_9=pl.Series(signal, dtype=pl.Float64),
        ema_200=pl.lit(trend),
        atr_14=pl.lit(2.0),
    )


def test_macd_trend_hand_built_setup():
    strategy = load("macd_trend")()
    out = strategy.signals(macd_frame([0.5, 0.6, 0.9, 1.2, 0.7], [0.8, 0.8, 0.85, 1.0, 0.9]))
    assert entries(out, "entry_long") == [2]
    assert entries(out, "exit_long") == [4]  # the opposite cross
    row = out.row(2, named=True)
    assert row["stop"] == pytest.approx(97.0)  # 1.5 ATR
    assert row["target_1"] == pytest.approx(107.5)  # 2.5R
    assert row["target_2"] == pytest.approx(112.0)  # 4R
    # mirrored: below zero, close under the EMA
    out = strategy.signals(macd_frame([-0.5, -0.6, -0.9], [-0.8, -0.8, -0.85], trend=110.0))
    assert entries(out, "entry_short") == [2]
    assert out.row(2, named=True)["target_2"] == pytest.approx(88.0)


def test_macd_trend_near_misses():
    strategy = load("macd_trend")()
    # the cross happens with the signal line still below zero
    out = strategy.signals(macd_frame([-0.1, 0.1], [-0.05, -0.05]))
    assert entries(out, "exit_short") == [1] and entries(out, "entry_long") == []
    # both above zero but price below the trend EMA
    out = strategy.signals(macd_frame([0.5, 0.6, 0.9], [0.8, 0.8, 0.85], trend=101.0))
    assert entries(out, "entry_long") == [] and entries(out, "entry_short") == []


# -- bollinger_breakout ------------------------------------------------------------------------


def bb_frame(close: list[float], squeeze: list[bool], rvol: list[float], atr: float = 1.0):
    return candles(close).with_columns(
        bb_upper_20_2=pl.lit(101.0),
        bb_middle_20_2=pl.lit(100.0),
        bb_lower_20_2=pl.lit(99.0),
        bb_squeeze=pl.Series(squeeze),
        rvol_20=pl.Series(rvol, dtype=pl.Float64),
        atr_14=pl.lit(atr),
    )


CLOSES = [100.5, 100.5, 100.5, 100.5, 100.5, 102.0, 102.5, 99.8]
SQUEEZE = [False, False, False, True, False, False, False, False]


def test_bollinger_breakout_hand_built_setup():
    strategy = load("bollinger_breakout")()
    out = strategy.signals(bb_frame(CLOSES, SQUEEZE, [1.0] * 5 + [2.0, 2.0, 1.0]))
    assert entries(out, "entry_long") == [5]  # bar 6 is above the band but not the first close
    assert entries(out, "exit_long") == [7]  # a close back below the middle band
    row = out.row(5, named=True)
    # stop: the farther of the middle band (100) and close - 1.5 ATR (100.5): 100; risk 2
    assert row["stop"] == pytest.approx(100.0)
    assert [row[f"target_{i}"] for i in (1, 2, 3)] == pytest.approx([104.0, 106.0, 108.0])
    # a wide ATR puts the stop at k ATR instead: 102 - 1.5 x 2 = 99
    wide = strategy.signals(bb_frame(CLOSES, SQUEEZE, [1.0] * 5 + [2.0, 2.0, 1.0], atr=2.0))
    assert wide.row(5, named=True)["stop"] == pytest.approx(99.0)
    short = strategy.signals(bb_frame([99.5, 99.5, 97.0], [True, False, False], [1, 1, 3.0]))
    assert entries(short, "entry_short") == [2]
    assert short.row(2, named=True)["stop"] == pytest.approx(100.0)


def test_bollinger_breakout_near_misses():
    strategy = load("bollinger_breakout")()
    quiet = strategy.signals(bb_frame(CLOSES, SQUEEZE, [1.0] * 5 + [1.4, 2.0, 1.0]))
    assert entries(quiet, "entry_long") == []  # volume 1.4 <= 1.5 on the breakout bar
    stale = [True] + [False] * 8  # squeeze 6 bars before the breakout: older than 5 bars
    late = [100.5, *CLOSES]
    assert entries(strategy.signals(bb_frame(late, stale, [2.0] * 9)), "entry_long") == []
    recent = [False, True] + [False] * 7  # 5 bars before: still recent
    assert entries(strategy.signals(bb_frame(late, recent, [2.0] * 9)), "entry_long") == [6]
    # squeeze only on the breakout bar itself does not count
    same_bar = [False] * 5 + [True, False, False]
    assert entries(strategy.signals(bb_frame(CLOSES, same_bar, [2.0] * 8)), "entry_long") == []


def test_bollinger_squeeze_is_a_trailing_quantile(synthetic):
    out = load("bollinger_breakout")().evaluate(synthetic)
    width = out["bb_width"].to_numpy()
    t = 500
    window = width[t - 119 : t + 1]
    assert out["bb_squeeze"][t] == bool(width[t] <= np.quantile(window, 0.2))


# -- smc_order_blocks --------------------------------------------------------------------------


def smc_frame(
    close: list[float],
    trend: list[int],
    in_bull: list[bool],
    bull_zone: list[tuple[float, float] | None],
    open_: list[float] | None = None,
) -> pl.DataFrame:
    n = len(close)
    tops = [z[0] if z else None for z in bull_zone]
    bottoms = [z[1] if z else None for z in bull_zone]
    return candles(close, open_).with_columns(
        smc_trend=pl.Series(trend, dtype=pl.Int8),
        smc_choch=pl.Series([0] * n, dtype=pl.Int8),
        smc_bull_ob_top=pl.Series(tops, dtype=pl.Float64),
        smc_bull_ob_bottom=pl.Series(bottoms, dtype=pl.Float64),
        smc_in_bull_ob=pl.Series(in_bull),
        smc_bear_ob_top=pl.lit(None, dtype=pl.Float64),
        smc_bear_ob_bottom=pl.lit(None, dtype=pl.Float64),
        smc_in_bear_ob=pl.lit(False),
        atr_14=pl.lit(2.0),
    )


def test_smc_order_blocks_first_touch_only():
    strategy = load("smc_order_blocks")()
    a, b = (98.0, 95.0), (90.0, 88.0)
    frame = smc_frame(
        close=[100, 99, 100, 97, 96, 100, 89, 89, 89],
        open_=[100, 100, 99, 96, 97, 99, 90, 90, 88],
        trend=[1, 1, 1, 1, 1, 1, -1, 1, 1],
        in_bull=[False, False, False, True, True, False, True, True, False],
        bull_zone=[None, a, a, a, a, a, b, b, b],
    )
    out = strategy.signals(frame)
    # bar 3: first touch of block A with trend up -> buy; bar 4 touches A again -> nothing;
    # bar 6: first touch of block B against the trend -> nothing, and bar 7's touch is the second
    assert entries(out, "entry_long") == [3]
    row = out.row(3, named=True)
    assert row["stop"] == pytest.approx(95.0 - 0.1 * 2.0)  # below the block by 0.1 ATR
    risk = 97.0 - 94.8
    assert row["target_1"] == pytest.approx(97.0 + 2 * risk)  # 2R
    assert "target_2" not in out.columns  # a single target
    assert row["confidence"] == pytest.approx(0.8)  # closed inside the zone, up candle
    assert row["reasons"] == "smc_trend=+1; first touch of bullish OB; candle in favour"


def test_smc_order_blocks_pipeline_rule(synthetic):
    out = load("smc_order_blocks")().evaluate(synthetic)
    seen: set[tuple[float, float]] = set()
    want = []
    for i, r in enumerate(out.iter_rows(named=True)):
        fire = False
        if r["smc_in_bull_ob"]:
            zone = (r["smc_bull_ob_top"], r["smc_bull_ob_bottom"])
            fire = zone not in seen and r["smc_trend"] == 1
            seen.add(zone)
        want.append(fire and i >= 50)
    assert out["entry_long"].to_list() == want
