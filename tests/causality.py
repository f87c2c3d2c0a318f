"""The prefix (look-ahead) property, shared by every indicator, pattern, SMC and strategy test.

``assert_causal(fn, frame)`` computes ``fn`` on the full frame and on prefixes ``frame[:c]`` cut
at seeded random points; every column's value at a bar < c must be the same in both (nulls equal,
floats equal to 1e-9 relative). A difference means the value at bar t used bars after t: the
failure names the column, the first differing bar, and both values.
"""

from __future__ import annotations

import random
from collections.abc import Callable
import polars as pl

REL_TOL = 1e-9
ABS_TOL = 1e-12


def _mismatch(a: pl.Series, b: pl.Series) -> pl.Series:
    """Boolean Series: True where ``a`` and ``b`` differ (nulls equal; floats to 1e-9 rel)."""
    if a.dtype.is_float() or b.dtype.is_float():
        fa, fb = a.cast(pl.Float64), b.cast(pl.Float64)
        both_null = fa.is_null() & fb.is_null()
        both_nan = fa.is_nan().fill_null(False) & fb.is_nan().fill_null(False)
        tol = (fa.abs().zip_with(fa.abs() > fb.abs(), fb.abs()) * REL_TOL).clip(lower_bound=ABS_TOL)
        close = ((fa - fb).abs() <= tol) | (fa == fb)
        same = both_null | both_nan | close.fill_null(False)
        return ~same.fill_null(False)
    return ~a.eq_missing(b).fill_null(False)


def first_difference(full: pl.DataFrame, prefix: pl.DataFrame) -> tuple[str, int] | None:
    """The first (column, bar) where ``prefix`` disagrees with the same rows of ``full``.

    Columns are checked in ``full``'s order; a column missing from the prefix counts as
    differing at bar 0.
    """
    n = prefix.height
    for name in full.columns:
        if name not in prefix.columns:
            return name, 0
        bad = _mismatch(full.get_column(name).head(n), prefix.get_column(name))
        if bad.any():
            return name, int(bad.arg_true()[0])
    return None


def cut_points(height: int, cuts: int, seed: int, start: int = 1) -> list[int]:
    """``cuts`` distinct prefix lengths in ``[start, height)``, seeded, ascending."""
    lo = max(1, start)
    if height - lo <= 0:
        return []
    population = range(lo, height)
    k = min(cuts, len(population))
    return sorted(random.Random(seed).sample(population, k))


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
