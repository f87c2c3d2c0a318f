"""SMC on small hand-worked candle sequences: every expected value below was worked out by hand
from the definitions in ``docs/smc.md`` (the ASCII pictures there draw the same bars)."""

from __future__ import annotations

import polars as pl
import pytest

from tradeterm.indicators.frame import CANDLE_SCHEMA
from tradeterm.indicators.smc import add_smc, smc

T0 = 1_704_067_200_000
MINUTE = 60_000


def bars(*ohlc: tuple[float, float, float, float]) -> pl.DataFrame:
    """A candle frame from (open, high, low, close) tuples, one minute apart."""
    return pl.DataFrame(
        {
            "open_time": [T0 + i * MINUTE for i in range(len(ohlc))],
            "open": [b[0] for b in ohlc],
            "high": [b[1] for b in ohlc],
            "low": [b[2] for b in ohlc],
            "close": [b[3] for b in ohlc],
            "volume": [1.0] * len(ohlc),
        },
        schema=CANDLE_SCHEMA,
    )


def mirror(frame: pl.DataFrame, k: float = 30.0) -> pl.DataFrame:
    """The same market upside down (price -> k - price): every bullish mark becomes bearish."""
    return frame.with_columns(
        open=k - pl.col("open"),
        high=k - pl.col("low"),
        low=k - pl.col("high"),
        close=k - pl.col("close"),
    )


# A CHoCH up, a BOS up, a CHoCH down; two bullish order blocks, one bearish; FVGs both ways.
# swing_length = 1. Bar:   open  high  low   close
STORY = bars(
    (10.0, 11.0, 9.0, 10.0),  # 0
    (10.0, 13.0, 10.0, 12.0),  # 1  swing high 13, known at 2
    (12.0, 12.5, 11.0, 11.0),  # 2  down
    (11.0, 11.5, 9.5, 10.0),  # 3  down
    (10.0, 10.5, 8.0, 9.0),  # 4  down: swing low 8 (known at 5); bearish FVG [10.5, 11] known
    (9.0, 12.0, 9.0, 11.5),  # 5  up: fills that bearish FVG (high 12 >= 11)
    (11.5, 14.0, 11.0, 13.5),  # 6  close 13.5 > 13: bullish CHoCH; OB = bar 4 [8, 10.5]; bull FVG
    (13.5, 15.0, 13.0, 14.5),  # 7  swing high 15 (known at 8); bull FVG [12, 13]
    (14.5, 14.8, 12.0, 12.5),  # 8  fills FVG [12, 13]; swing low 12 (known at 9)
    (12.5, 16.0, 12.4, 15.5),  # 9  close 15.5 > 15: bullish BOS; OB = bar 8 [12, 14.8]
    (15.5, 15.8, 13.0, 13.2),  # 10 trades into OB [12, 14.8]: mitigated
    (13.2, 13.5, 11.0, 11.5),  # 11 close 11.5 < 12: bearish CHoCH; OB [12, 14.8] invalidated;
    #                               bearish OB = bar 9 [12.4, 16]
    (11.5, 12.0, 10.0, 10.5),  # 12 low 10 trades into OB [8, 10.5]; fills FVG [10.5, 11];
    #                               bearish FVG [12, 13]
    (10.5, 10.8, 7.5, 7.8),  # 13 close 7.8 < 8: OB [8, 10.5] invalidated; bearish FVG [10.8, 11]
)


def test_swing_high_is_known_exactly_length_bars_later_not_before() -> None:
    frame = bars(
        (1.0, 1.0, 0.5, 1.0),
        (1.0, 2.0, 0.5, 1.5),
        (1.5, 3.0, 0.5, 2.5),
        (2.5, 5.0, 2.0, 4.0),  # 3: the swing high
        (4.0, 4.0, 3.0, 3.5),
        (3.0, 3.0, 2.0, 2.5),
        (2.0, 2.0, 1.0, 1.5),
    )
    table = smc(frame, swing_length=2).swings.filter(pl.col("kind") == "high")
    assert table.select("bar", "known_at", "price").rows() == [(3, 5, 5.0)]
    assert table["time"].to_list() == [T0 + 3 * MINUTE]
    assert smc(frame.head(5), swing_length=2).swings.filter(pl.col("kind") == "high").is_empty()
    col = add_smc(frame, swing_length=2)["smc_swing_high"].to_list()
    assert col == [None] * 5 + [5.0, 5.0]


def test_flat_top_marks_its_first_bar_only() -> None:
    highs = [1.0, 2.0, 5.0, 5.0, 3.0, 2.0]
    frame = bars(*[(h - 0.5, h, h - 1.0, h - 0.5) for h in highs])
    table = smc(frame, swing_length=2).swings.filter(pl.col("kind") == "high")
    assert table.select("bar", "known_at").rows() == [(2, 4)]


def test_story_structure_bos_and_choch_with_their_levels() -> None:
    table = smc(STORY, swing_length=1).structure
    assert table.select("bar", "known_at", "kind", "direction", "level", "swing_bar").rows() == [
        (6, 6, "choch", 1, 13.0, 1),
        (9, 9, "bos", 1, 15.0, 7),
        (11, 11, "choch", -1, 12.0, 8),
    ]
    out = add_smc(STORY, swing_length=1)
    assert out["smc_trend"].to_list() == [None] * 6 + [1] * 5 + [-1] * 3
    assert out["smc_choch"].to_list() == [0] * 6 + [1] + [0] * 4 + [-1, 0, 0]
    assert out["smc_bos"].to_list() == [0] * 9 + [1] + [0] * 4


def test_story_order_blocks_zone_mitigation_and_invalidation_bars() -> None:
    table = smc(STORY, swing_length=1).order_blocks
    cols = (
        "bar",
        "known_at",
        "direction",
        "bottom",
        "top",
        "mitigated_at",
        "invalidated_at",
        "state",
    )
    assert table.select(cols).rows() == [
        (4, 6, 1, 8.0, 10.5, 12, 13, "invalidated"),
        (8, 9, 1, 12.0, 14.8, 10, 11, "invalidated"),
        (9, 11, -1, 12.4, 16.0, None, None, "active"),
    ]


def test_story_per_bar_order_block_columns_show_only_what_was_known() -> None:
    out = add_smc(STORY, swing_length=1)
    # newest live block wins; when it is invalidated (bar 11) the older live one returns
    expected_top = [None] * 6 + [10.5] * 3 + [14.8] * 2 + [10.5] * 2 + [None]
    assert out["smc_bull_ob_top"].to_list() == expected_top
    assert out["smc_bull_ob_bottom"].to_list()[6:13] == [8.0] * 3 + [12.0] * 2 + [8.0] * 2
    assert out["smc_in_bull_ob"].to_list() == [False] * 10 + [True, False, True, False]
    assert out["smc_bear_ob_top"].to_list() == [None] * 11 + [16.0] * 3
    assert out["smc_bear_ob_bottom"].to_list() == [None] * 11 + [12.4] * 3
    assert not out["smc_in_bear_ob"].any()


def test_story_fair_value_gaps_and_fill_bars() -> None:
    table = smc(STORY, swing_length=1).fvgs
    cols = ("bar", "known_at", "direction", "bottom", "top", "filled_at", "state")
    assert table.select(cols).rows() == [
        (3, 4, -1, 10.5, 11.0, 5, "filled"),
        (5, 6, 1, 10.5, 11.0, 12, "filled"),
        (6, 7, 1, 12.0, 13.0, 8, "filled"),
        (11, 12, -1, 12.0, 13.0, None, "open"),
        (12, 13, -1, 10.8, 11.0, None, "open"),
    ]
    out = add_smc(STORY, swing_length=1)
    assert out["smc_bull_fvg"].to_list() == [0] * 6 + [1, 1] + [0] * 6
    assert out["smc_bear_fvg"].to_list() == [0] * 4 + [1] + [0] * 7 + [1, 1]


def test_mirrored_story_gives_mirrored_marks() -> None:
    up, down = smc(STORY, swing_length=1), smc(mirror(STORY), swing_length=1)
    flip = pl.col("direction") * -1
    assert down.structure.drop("level").equals(up.structure.drop("level").with_columns(flip))
    assert down.order_blocks["bar"].to_list() == up.order_blocks["bar"].to_list()
    assert (down.order_blocks["top"] + up.order_blocks["bottom"]).to_list() == [30.0] * 3


EQUAL_HIGHS = [
    (10.0, 10.5, 9.5, 10.0),  # 0
    (10.0, 12.0, 10.0, 11.5),  # 1  swing high 12 (known at 2)
    (11.5, 11.6, 10.5, 10.8),  # 2
    (10.8, 11.0, 10.0, 10.5),  # 3
    (10.5, 12.005, 10.4, 11.8),  # 4  swing high 12.005 (known at 5): equal highs, pool 12.005
    (11.8, 11.9, 11.0, 11.2),  # 5
    (11.2, 11.5, 10.8, 11.4),  # 6
]


def test_bar_that_pokes_above_equal_highs_and_closes_back_below_is_a_bearish_sweep() -> None:
    frame = bars(*EQUAL_HIGHS, (11.4, 12.3, 11.3, 11.7))  # 7: high 12.3 > 12.005, close below
    table = smc(frame, swing_length=1, eq_tolerance=0.001).sweeps
    cols = ("bar", "known_at", "direction", "level", "pool_first_bar", "pool_last_bar")
    assert table.select(cols).rows() == [(7, 7, -1, 12.005, 1, 4)]
    assert add_smc(frame, swing_length=1)["smc_sweep"].to_list() == [0] * 7 + [-1]
    mirrored = smc(mirror(frame), swing_length=1).sweeps
    assert mirrored.select("bar", "direction", "pool_first_bar").rows() == [(7, 1, 1)]


def test_close_beyond_the_pool_is_a_breakout_not_a_sweep() -> None:
    frame = bars(*EQUAL_HIGHS, (11.4, 12.3, 11.3, 12.2))
    assert smc(frame, swing_length=1).sweeps.is_empty()


def test_highs_further_apart_than_the_tolerance_are_no_pool() -> None:
    frame = bars(*EQUAL_HIGHS, (11.4, 12.3, 11.3, 11.7))
    assert smc(frame, swing_length=1, eq_tolerance=0.0001).sweeps.is_empty()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"swing_length": 0}, "swing_length must be in"),
        ({"swing_length": 2.5}, "swing_length must be an integer"),
        ({"eq_tolerance": -0.1}, "eq_tolerance must be a number in"),
        ({"eq_tolerance": 0.5}, "eq_tolerance must be a number in \\[0, 0.1\\], got 0.5"),
    ],
)
def test_bad_parameters_are_rejected_with_their_name_and_value(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        smc(STORY, **kwargs)
    with pytest.raises(ValueError, match=message):
        add_smc(STORY, **kwargs)


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_frames_too_short_for_any_mark_give_empty_tables_and_quiet_columns(n: int) -> None:
    frame = STORY.head(n)
    result = smc(frame, swing_length=5)
    assert all(
        t.is_empty() for t in (result.swings, result.structure, result.order_blocks, result.sweeps)
    )
    out = add_smc(frame)
    assert out.height == n
    assert out["smc_trend"].null_count() == n
    assert out.columns[:6] == list(CANDLE_SCHEMA)


def test_fvg_min_size_drops_gaps_smaller_than_that_fraction_of_price() -> None:
    # STORY's gaps are 0.5, 1.0, 0.5, 1.0 and 0.2 high; 0.05 x bottom keeps only the 1.0 ones
    table = smc(STORY, swing_length=1, fvg_min_size=0.05).fvgs
    assert table.select("known_at", "bottom", "top").rows() == [(7, 12.0, 13.0), (12, 12.0, 13.0)]
    with pytest.raises(ValueError, match="fvg_min_size must be a number in"):
        add_smc(STORY, fvg_min_size=True)
