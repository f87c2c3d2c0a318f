"""No repainting: SMC computed on a prefix ``frame[:c]`` agrees with the full frame.

For ``add_smc`` every column at every bar < c must match (the shared ``assert_causal``). For the
event tables, the marks known before c must be the same marks with the same prices; their
follow-up facts (``mitigated_at``, ``invalidated_at``, ``filled_at``) must match wherever they
happened before c and be null (not yet) otherwise.
"""

from __future__ import annotations

import polars as pl
import pytest
from causality import assert_causal, cut_points

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.indicators.smc import SmcResult, add_smc, smc

FOLLOW_UPS = {"order_blocks": ("mitigated_at", "invalidated_at"), "fvgs": ("filled_at",)}


def as_of(result: SmcResult, c: int) -> dict[str, pl.DataFrame]:
    """The full frame's tables restricted to what was known by the close of bar c - 1."""
    out = {}
    for name in ("swings", "structure", "order_blocks", "fvgs", "sweeps"):
        table = getattr(result, name).filter(pl.col("known_at") < c)
        cols = FOLLOW_UPS.get(name, ())
        table = table.with_columns(
            pl.when(pl.col(col) < c).then(pl.col(col)).otherwise(None).alias(col) for col in cols
        )
        if name == "order_blocks":
            table = table.with_columns(
                state=pl.when(pl.col("invalidated_at").is_not_null())
                .then(pl.lit("invalidated"))
                .when(pl.col("mitigated_at").is_not_null())
                .then(pl.lit("mitigated"))
                .otherwise(pl.lit("active"))
            )
        if name == "fvgs":
            table = table.with_columns(
                state=pl.when(pl.col("filled_at").is_not_null())
                .then(pl.lit("filled"))
                .otherwise(pl.lit("open"))
            )
        out[name] = table
    return out


@pytest.mark.parametrize(("seed", "length"), [(11, 5), (12, 2), (13, 10)])
def test_add_smc_columns_never_change_when_later_bars_arrive(seed: int, length: int) -> None:
    frame = synthetic_candles(4_000, seed=seed)
    assert_causal(lambda f: add_smc(f, swing_length=length), frame, cuts=12, seed=seed)


@pytest.mark.parametrize(("seed", "length"), [(21, 5), (22, 1), (23, 3)])
def test_event_tables_known_before_a_cut_are_identical_on_the_prefix(
    seed: int, length: int
) -> None:
    frame = synthetic_candles(4_000, seed=seed)
    full = smc(frame, swing_length=length)
    for c in [*cut_points(frame.height, 12, seed), frame.height - 1]:
        prefix = smc(frame.head(c), swing_length=length)
        expected = as_of(full, c)
        for name, table in expected.items():
            got = getattr(prefix, name)
            assert got.equals(table), f"{name} differs on the prefix of {c} bars"


def test_marks_are_never_known_before_the_bar_they_refer_to() -> None:
    result = smc(synthetic_candles(5_000, seed=31))
    for name in ("swings", "structure", "order_blocks", "fvgs", "sweeps"):
        table = getattr(result, name)
        assert table.height > 0, name
        assert (table["known_at"] >= table["bar"]).all(), name
        assert table["known_at"].is_sorted(), name
    swings = result.swings
    assert (swings["known_at"] - swings["bar"] == 5).all()
    for col in ("mitigated_at", "invalidated_at"):
        later = result.order_blocks.drop_nulls(col)
        assert (later[col] > later["known_at"]).all()
