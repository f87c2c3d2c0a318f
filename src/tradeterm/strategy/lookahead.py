"""The look-ahead guard: a strategy whose output at bar t changes when later bars arrive peeks
into the future, and would show signals in a backtest that it could never have given live.

The check is the prefix property: compute on the full history, then on prefixes ``frame[:c]``
cut at seeded random points after the warm-up; every column at every bar < c must be the same
(nulls equal, floats to 1e-9 relative). The raw output is compared (before nulls become False),
so ``shift(-1)`` shows at the prefix's last bar as a null where the full history has a value.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import polars as pl

from tradeterm.strategy.api import Strategy

REL_TOL = 1e-9
ABS_TOL = 1e-12


@dataclass(frozen=True, slots=True)
class LookaheadReport:
    """``ok``, or the first offending ``column`` and bar (index and open time) found."""

    ok: bool
    column: str | None = None
    first_bar: int | None = None
    bar_time: int | None = None
    cuts: tuple[int, ...] = ()  # the prefix lengths tried
    full_value: object = None
    prefix_value: object = None

    @property
    def reason(self) -> str:
        if self.ok:
            return "no look-ahead found"
        return (
            f"look-ahead in column {self.column!r} at bar {self.first_bar} "
            f"(open_time {self.bar_time}): {self.full_value!r} with later bars, "
            f"{self.prefix_value!r} without"
        )


def cut_points(height: int, cuts: int, seed: int, warmup: int = 0) -> tuple[int, ...]:
    """``cuts`` distinct prefix lengths in ``(warmup, height)``, seeded, ascending."""
    low = warmup + 1
    if height <= low:
        return ()
    population = range(low, height)
    return tuple(sorted(random.Random(seed).sample(population, min(cuts, len(population)))))


def mismatch(a: pl.Series, b: pl.Series) -> pl.Series:
    """True where ``a`` and ``b`` differ: nulls equal nulls, NaN equals NaN, floats to 1e-9."""
    if a.dtype.is_float() or b.dtype.is_float():
        if not (a.dtype.is_numeric() and b.dtype.is_numeric()):
            return pl.Series([True] * a.len())
        fa, fb = a.cast(pl.Float64), b.cast(pl.Float64)
        both_null = fa.is_null() & fb.is_null()
        both_nan = fa.is_nan().fill_null(False) & fb.is_nan().fill_null(False)
        scale = pl.select(pl.max_horizontal(fa.abs(), fb.abs())).to_series()
        close = ((fa - fb).abs() <= (scale * REL_TOL).clip(lower_bound=ABS_TOL)) | (fa == fb)
        return ~(both_null | both_nan | close.fill_null(False))
    if a.dtype != b.dtype:
        try:
            b = b.cast(a.dtype)
        except pl.exceptions.PolarsError:
            return pl.Series([True] * a.len())
    return ~a.eq_missing(b).fill_null(False)


def first_difference(full: pl.DataFrame, prefix: pl.DataFrame) -> tuple[str, int] | None:
    """The first ``(column, bar)`` where ``prefix`` disagrees with the same rows of ``full``.

    Among several differing columns the one differing earliest wins (ties: ``full``'s column
    order). A column missing from the prefix differs at bar 0.
    """
    best: tuple[str, int] | None = None
    n = prefix.height
    for name in full.columns:
        if name not in prefix.columns:
            bar = 0
        else:
            bad = mismatch(full.get_column(name).head(n), prefix.get_column(name))
            if not bad.any():
                continue
            bar = int(bad.arg_true()[0])
        if best is None or bar < best[1]:
            best = (name, bar)
    return best


def check_lookahead(
    strategy: Strategy, frame: pl.DataFrame, cuts: int = 12, seed: int = 0,
    full: pl.DataFrame | None = None,
) -> LookaheadReport:
    """Compare ``strategy`` on ``frame`` with its output on prefixes; see the module doc.

    ``evaluate`` errors (a broken strategy) propagate: the guard only judges causality.
    Every cut is tried and the earliest offending bar over all of them is reported. ``full``
    is ``strategy.compute(frame)`` if the caller has it already (and has validated it).
    """
    if full is None:
        strategy.evaluate(frame)  # the output must be valid before causality means anything
        full = strategy.compute(frame)
    points = cut_points(frame.height, cuts, seed, strategy.warmup)
    found: tuple[str, int, object, object] | None = None
    for c in points:
        prefix = strategy.compute(frame.head(c))
        diff = first_difference(full, prefix)
        if diff is None:
            continue
        column, bar = diff
        if found is None or bar < found[1]:
            pre = prefix.get_column(column)[bar] if column in prefix.columns else "<missing>"
            found = (column, bar, full.get_column(column)[bar], pre)
    if found is None:
        return LookaheadReport(ok=True, cuts=points)
    column, bar, full_value, prefix_value = found
    return LookaheadReport(
        ok=False,
        column=column,
        first_bar=bar,
        bar_time=int(frame.get_column("open_time")[bar]),
        cuts=points,
        full_value=full_value,
        prefix_value=prefix_value,
    )
