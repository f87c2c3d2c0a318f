"""The prefix (look-ahead) property, shared by every indicator, pattern, SMC and strategy test.

``assert_causal(fn, frame)`` computes ``fn`` on the full frame and on prefixes ``frame[:c]`` cut
at seeded random points; every column's value at a bar < c must be the same in both (nulls equal,
floats equal to 1e-9 relative). A difference means the value at bar t used bars after t: the
failure names the column, the first differing bar, and both values. The comparison is the
look-ahead guard's own (``tradeterm.strategy.lookahead``), so tests and the guard cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from tradeterm.strategy.lookahead import cut_points, first_difference

__all__ = ["assert_causal", "cut_points", "first_difference"]


def assert_causal(
    fn: Callable[[pl.DataFrame], pl.DataFrame],
    frame: pl.DataFrame,
    cuts: int = 8,
    seed: int = 0,
) -> None:
    """Fail (AssertionError) if any output column of ``fn`` at bar t depends on bars after t."""
    full = fn(frame)
    assert full.height == frame.height, f"fn changed the row count: {frame.height} -> {full.height}"
    for c in cut_points(frame.height, cuts, seed):
        prefix = fn(frame.head(c))
        assert prefix.height == c, f"fn changed the row count of a {c}-bar prefix"
        diff = first_difference(full, prefix)
        if diff is not None:
            column, bar = diff
            full_v = full.get_column(column)[bar]
            pre_v = prefix.get_column(column)[bar] if column in prefix.columns else "<missing>"
            raise AssertionError(
                f"look-ahead in column {column!r} at bar {bar}: {full_v!r} on the full frame, "
                f"{pre_v!r} on the prefix of {c} bars"
            )
