"""Session and anchored VWAP, and relative volume, on small hand-worked frames."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tradeterm.indicators import relative_volume, synthetic_candles, vwap
from tradeterm.indicators.frame import CANDLE_SCHEMA

DAY = 86_400_000
MIN = 60_000
T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC


def frame(times: list[int], hlc: list[tuple[float, float, float]], volume: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "open_time": times,
            "open": [c for _, _, c in hlc],
            "high": [h for h, _, _ in hlc],
            "low": [lo for _, lo, _ in hlc],
            "close": [c for _, _, c in hlc],
            "volume": volume,
        },
        schema=CANDLE_SCHEMA,
    )


# typical prices: 1, 3, 2 | 5, (zero volume), 4
HAND = frame(
    [T0 + DAY - 3 * MIN, T0 + DAY - 2 * MIN, T0 + DAY - MIN, T0 + DAY, T0 + DAY + MIN, T0 + DAY + 2 * MIN],
    [(2, 0, 1), (4, 2, 3), (3, 1, 2), (6, 4, 5), (6, 4, 5), (5, 3, 4)],
    [1, 1, 2, 0, 3, 1],
)


def test_session_vwap_resets_at_midnight_utc_and_is_null_without_volume() -> None:
    # day 1: (1*1)/1 = 1; (1+3)/2 = 2; (1+3+2*2)/4 = 2
    # day 2 starts at T0 + DAY: volume 0 -> null; then (5*3)/3 = 5; (15+4)/4 = 4.75
    assert vwap(HAND)["vwap"].to_list() == [1.0, 2.0, 2.0, None, 5.0, 4.75]


def test_anchored_vwap_accumulates_from_the_anchor_bar_across_midnight() -> None:
    out = vwap(HAND, anchor=T0 + DAY - 2 * MIN)["vwap_anchored"].to_list()
    # from bar 1: 3/1 = 3; (3+4)/3; (3+4+0)/3; (7+15)/6; (22+4)/7
    assert out == [None, 3.0, 7 / 3, 7 / 3, 22 / 6, 26 / 7]


def test_anchor_between_bars_starts_at_the_next_bar_and_after_the_end_is_all_null() -> None:
    assert vwap(HAND, anchor=T0 + DAY + 1)["vwap_anchored"].to_list()[:5] == [None] * 4 + [5.0]
    assert vwap(HAND, anchor=T0 + 10 * DAY)["vwap_anchored"].null_count() == HAND.height


def naive_session_vwap(f: pl.DataFrame) -> list[float | None]:
    out: list[float | None] = []
    pv = v = 0.0
    day = None
    for t, h, lo, c, vol in f.select("open_time", "high", "low", "close", "volume").iter_rows():
        if t // DAY != day:
            day, pv, v = t // DAY, 0.0, 0.0
        pv += (h + lo + c) / 3 * vol
        v += vol
        out.append(pv / v if v > 0 else None)
    return out


@pytest.mark.parametrize("layout", ["regular", "missing_bars", "uneven_sessions"])
def test_session_vwap_equals_a_plain_per_session_loop(layout: str) -> None:
    f = synthetic_candles(4_000, seed=5, start_ms=T0 + 7 * 60 * MIN, interval_ms=MIN)
    if layout == "missing_bars":
        f = f.filter(pl.int_range(pl.len()) % 7 != 3)
    if layout == "uneven_sessions":  # one long session, then one bar per day: padded grid too big
        times = np.concatenate([f["open_time"][:3_000].to_numpy(), T0 + DAY * np.arange(10, 1_010)])
        f = f.with_columns(pl.Series("open_time", times))
    got = vwap(f)["vwap"].to_list()
    want = naive_session_vwap(f)
    assert [g is None for g in got] == [w is None for w in want]
    assert np.allclose([g for g in got if g is not None], [w for w in want if w is not None],
                       rtol=1e-12, atol=0)


def test_relative_volume_divides_by_the_mean_of_the_previous_n_bars() -> None:
    f = frame([T0 + i * MIN for i in range(6)], [(1, 1, 1)] * 6, [2, 4, 6, 0, 0, 3])
    # n=2: bar 2: 6 / mean(2, 4) = 2; bar 3: 0 / 5 = 0; bar 4: 0 / mean(6, 0) = 0;
    # bar 5: mean(0, 0) = 0 -> null
    assert relative_volume(f, n=2)["rvol_2"].to_list() == [None, None, 2.0, 0.0, 0.0, None]
    assert relative_volume(f, n=1)["rvol_1"].to_list() == [None, 2.0, 1.5, 0.0, None, None]
    assert relative_volume(f, n=6)["rvol_6"].null_count() == 6
