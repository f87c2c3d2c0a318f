"""What the event pass needs to know about each entry candidate (a bar with an entry signal)
before it walks: its side, levels on the tick grid, entry fill, the first exit signal after it
and whether the rules refuse it outright, computed with numpy for all candidates at once.

None of this depends on the account, so it is done in bulk; the compiled walk (:mod:`kernel`)
then does only what depends on the account: sizing, the exit scan of the trades it takes,
money, the daily limit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradeterm.backtest.codes import NO_STOP, WRONG_STOP
from tradeterm.backtest.grid import Bars, Grid, column
from tradeterm.core.money import dec


@dataclass(slots=True)
class Candidates:
    """Per entry candidate, in bar order (the kernel's ``c*`` arrays)."""

    bar: np.ndarray  # the signal bar
    long: np.ndarray
    both: np.ndarray  # long and short signals on one bar
    invalid: np.ndarray  # 0, or the kernel's WRONG_STOP / NO_STOP skip reason
    signal: np.ndarray  # the first exit signal of the side at or after the entry bar, or -1
    ref: np.ndarray  # the reference price the risk engine sizes from (float; NaN -> close)
    has_stop: np.ndarray
    stop_t: np.ndarray  # ticks (0 when missing)
    stop_f: np.ndarray  # the stop as a float; -inf for a long without one (+inf short)
    has_target: np.ndarray  # False also when the target is not beyond the reference
    target_t: np.ndarray
    target_f: np.ndarray  # +inf for a long without one (-inf short)
    fill_t: np.ndarray  # the entry fill: the next bar's open on the tick, plus slippage
    # one column per leg (scale-outs: target_1, target_2, target_3; else target_1 alone)
    leg_has_target: np.ndarray
    leg_target_t: np.ndarray
    leg_target_f: np.ndarray

    @property
    def size(self) -> int:
        return int(self.bar.size)


def candidates(bars: Bars, flags: dict[str, np.ndarray], grid: Grid, *, require_stop: bool,
               legs: int = 1) -> Candidates:
    """The entry candidates; ``legs`` > 1: the targets of ``target_1`` .. ``target_<legs>``
    (each leg of a scale-out exits at its own)."""
    n = bars.n
    cand = np.flatnonzero(flags["entry_long"] | flags["entry_short"])
    long = flags["entry_long"][cand].astype(bool)
    e = np.minimum(cand + 1, n - 1)  # the last bar's candidate has no next bar: never used
    sign = np.where(long, 1, -1)

    ref = bars.entry_ref[cand]
    ref = np.where(np.isnan(ref), bars.c[cand], ref)
    stop_raw, target_raw = bars.stop[cand], bars.target[cand]
    for name, values in (("stop", stop_raw), ("target_1", target_raw), ("entry", ref)):
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(~(np.isnan(values) | (np.abs(values) / grid.tick_f < 2**52)))
        if bad.size:  # a signal's level no market could have: the strategy's bug, say where
            i = int(bad[0])
            raise ValueError(f"{name} at bar {int(cand[i])} is {values[i]}: a signal's prices "
                             "must be finite (or null) and within 2**52 ticks")
    has_stop = ~np.isnan(stop_raw)
    stop_t = np.where(has_stop, grid.snap(stop_raw), 0)
    stop_f = grid.floats(stop_t)
    stop_ok = _beyond(grid, ref, stop_f, stop_t, long)  # the reference is beyond the stop
    levels = [_target(grid, target_raw, ref, long, sign)]
    for leg in range(2, legs + 1):
        raw = column(bars.frame, f"target_{leg}")[cand]
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(~(np.isnan(raw) | (np.abs(raw) / grid.tick_f < 2**52)))
        if bad.size:
            i = int(bad[0])
            raise ValueError(f"target_{leg} at bar {int(cand[i])} is {raw[i]}: a signal's prices "
                             "must be finite (or null) and within 2**52 ticks")
        levels.append(_target(grid, raw, ref, long, sign))
    has_target, target_t, target_f = levels[0]

    both = flags["entry_long"][cand] & flags["entry_short"][cand]
    invalid = np.where(has_stop, np.where(stop_ok, 0, WRONG_STOP),
                       NO_STOP if require_stop else 0).astype(np.int8)
    signal = np.full(cand.size, -1, dtype=np.int64)
    for side, name in ((True, "exit_long"), (False, "exit_short")):
        rows, at = np.flatnonzero(long == side), np.flatnonzero(flags[name])
        if at.size:
            j = at.searchsorted(e[rows])
            signal[rows] = np.where(j < at.size, at[np.minimum(j, at.size - 1)], -1)
    return Candidates(
        bar=cand.astype(np.int64), long=long, both=both.astype(bool), invalid=invalid,
        signal=signal, ref=ref, has_stop=has_stop, stop_t=stop_t,
        stop_f=np.where(has_stop, stop_f, -np.inf * sign), has_target=has_target,
        target_t=target_t, target_f=target_f, fill_t=grid.market(bars.o[e], long),
        leg_has_target=np.column_stack([v[0] for v in levels]),
        leg_target_t=np.column_stack([v[1] for v in levels]),
        leg_target_f=np.column_stack([v[2] for v in levels]),
    )


def _target(grid: Grid, raw: np.ndarray, ref: np.ndarray, long: np.ndarray, sign: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A target column: (there and beyond the reference, ticks, float: an infinity beyond
    reach where it is not)."""
    has = ~np.isnan(raw)
    ticks = np.where(has, grid.snap(raw), 0)
    floats = grid.floats(ticks)
    has &= _beyond(grid, floats, ref, ticks, long, ticks_first=True)
    return has, ticks, np.where(has, floats, np.inf * sign)


def _beyond(grid: Grid, a: np.ndarray, b: np.ndarray, ticks: np.ndarray, long: np.ndarray,
            ticks_first: bool = False) -> np.ndarray:
    """``a > b`` for longs, ``a < b`` for shorts, as the exact Decimals would compare: one of them
    is the float of a snapped level (exact ``Decimal`` ticks x tick), the other a float whose
    ``Decimal`` is its repr. Rounding to the nearest float is monotonic, so unequal floats order
    their Decimals alike; equal floats (rare) are compared as Decimals."""
    out = np.where(long, a > b, a < b)
    for i in np.flatnonzero(a == b).tolist():
        level = grid.decimal(int(ticks[i]))
        other = dec(float(b[i] if ticks_first else a[i]))
        x, y = (level, other) if ticks_first else (other, level)
        out[i] = x > y if long[i] else x < y
    return out
