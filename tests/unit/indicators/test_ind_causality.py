"""The prefix property for every indicator and every pattern column: a value at bar t never
changes when later bars are added (TA-Lib's recursive indicators included)."""

from __future__ import annotations

import pytest
from causality import assert_causal

from tradeterm.indicators import (
    add_default_indicators,
    add_patterns,
    adx,
    atr,
    bollinger,
    ema,
    macd,
    obv,
    relative_volume,
    rsi,
    sma,
    stochastic,
    synthetic_candles,
    vwap,
    wma,
)

# Three days of 1m bars starting mid-day: cuts land inside sessions and warm-ups alike.
FRAME = synthetic_candles(4_500, seed=21, start_ms=1_704_067_200_000 + 13 * 3_600_000)
ANCHOR = int(FRAME["open_time"][1_000])

FUNCTIONS = {
    "sma": lambda f: sma(f, n=20),
    "ema": lambda f: ema(f, n=50),
    "wma": lambda f: wma(f, n=20),
    "rsi": lambda f: rsi(f, n=14),
    "macd": lambda f: macd(f),
    "atr": lambda f: atr(f, n=14),
    "bollinger": lambda f: bollinger(f, n=20, k=2.0),
    "stochastic": lambda f: stochastic(f),
    "adx": lambda f: adx(f, n=14),
    "obv": obv,
    "vwap": vwap,
    "vwap_anchored": lambda f: vwap(f, anchor=ANCHOR),
    "relative_volume": lambda f: relative_volume(f, n=20),
    "add_default_indicators": add_default_indicators,
    "add_patterns": add_patterns,
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_output_at_bar_t_depends_only_on_bars_up_to_t(name: str) -> None:
    assert_causal(FUNCTIONS[name], FRAME, cuts=10, seed=3)


def test_short_prefixes_inside_the_warmup_are_causal_too() -> None:
    for fn in (add_default_indicators, add_patterns):
        for c in (1, 2, 13, 27, 34, 199, 200, 201):
            full = fn(FRAME)
            assert fn(FRAME.head(c)).equals(full.head(c))
