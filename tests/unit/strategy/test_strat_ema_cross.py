"""The shipped ``strategies/ema_cross.py``: loads, passes the guard, gives sane signals."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from causality import assert_causal

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.loader import load_file
from tradeterm.strategy.lookahead import check_lookahead

FILE = Path(__file__).resolve().parents[3] / "strategies" / "ema_cross.py"


@pytest.fixture(scope="module")
def strategy():
    [cls] = load_file(FILE)
    return cls()


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return synthetic_candles(4000, seed=21)


def test_ema_cross_is_causal(strategy, frame):
    assert check_lookahead(strategy, frame, cuts=12, seed=3).ok
    assert_causal(strategy.evaluate, frame, cuts=6, seed=4)


def test_ema_cross_entries_have_stops_and_ordered_targets(strategy, frame):
    out = strategy.evaluate(frame)
    longs = out.filter("entry_long")
    shorts = out.filter("entry_short")
    assert longs.height > 0 and shorts.height > 0
    assert (longs["stop"] < longs["close"]).all()
    assert (longs["close"] < longs["target_1"]).all() and (longs["target_1"] < longs["target_3"]).all()
    assert (shorts["stop"] > shorts["close"]).all() and (shorts["target_3"] < shorts["close"]).all()
    assert (longs["close"] > longs["ema_200"]).all()
    assert longs["reasons"].str.contains("ema9>ema21; close>ema200").all()
    assert out["confidence"].is_between(0, 1).all()
    warm = out.head(strategy.warmup)
    assert not warm.select(pl.any_horizontal("entry_long", "entry_short")).to_series().any()
