"""Numpy scans of the fast runner: for every entry candidate at once, the first bar whose range
touches its stop or its target; and the order of the two inside one bar from a lower-timeframe
frame.

Why all candidates at once: a scan per trade costs a dozen numpy calls (tens of microseconds),
more than the trade's exact arithmetic. Here each round gathers the next ``width`` bars of every
unresolved candidate into one 2-D array and takes the first hit per row with ``argmax``; rows
that hit drop out and the width doubles, so a million bars with tens of thousands of trades cost
a few rounds. Rounds can be capped (``rounds``): candidates that no position will reach (those
inside another trade) then cost at most the capped bars, and the few long holds are finished one
by one, uncapped, when the event pass reaches them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIRST_WIDTH = 16
BLOCK = 1 << 20
"""Largest gathered array of one step (elements): rows are processed in blocks below it."""

STOP = "stop"
TARGET = "target"


def first_touches(
    low: np.ndarray,
    high: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    stop: np.ndarray,
    target: np.ndarray,
    long: bool,
    rounds: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per row i (all long, or all short): the first index in ``[start[i], end[i]]`` whose range
    reaches the stop or the target (long: ``low <= stop`` or ``high >= target``; short: ``high
    >= stop`` or ``low <= target``), -1 if none; and where the scan stopped (> ``end[i]``: the
    range is done; else the row ran out of ``rounds`` and is unresolved). A missing level is an
    infinity on its far side: never touched."""
    adverse, favour = (low, high) if long else (high, low)
    worse, better = (np.less_equal, np.greater_equal) if long else (np.greater_equal,
                                                                   np.less_equal)
    rows_total = start.size
    touch = np.full(rows_total, -1, dtype=np.int64)
    lo = start.astype(np.int64, copy=True)
    last = adverse.size - 1
    rows = np.flatnonzero(lo <= end)
    width = FIRST_WIDTH
    done = 0
    while rows.size and (rounds is None or done < rounds):
        steps = np.arange(width)
        per_block = max(1, BLOCK // width)
        for b in range(0, rows.size, per_block):
            r = rows[b:b + per_block]
            idx = lo[r, None] + steps
            valid = idx <= end[r, None]
            np.minimum(idx, last, out=idx)
            hit = worse(adverse[idx], stop[r, None]) | better(favour[idx], target[r, None])
            hit &= valid
            first = hit.argmax(axis=1)
            got = hit[np.arange(r.size), first]
            touch[r[got]] = lo[r[got]] + first[got]
            lo[r[got]] = end[r[got]] + 1  # resolved: nothing left to scan
        lo[rows] += width
        rows = rows[(touch[rows] < 0) & (lo[rows] <= end[rows])]
        width *= 2
        done += 1
    return touch, lo


@dataclass(frozen=True, slots=True)
class LowerFrame:
    """A lower-timeframe candle frame as numpy arrays, to order a stop and a target that are
    both inside one bar of the backtest's timeframe."""

    open_time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray

    def resolve(
        self, bar_open_ms: int, bar_ms: int, stop: float, target: float, long: bool
    ) -> tuple[str, float | None]:
        """(STOP or TARGET, gap price) for the bar opening at ``bar_open_ms``: the first lower bar
        that touches either level decides. The gap price is that lower bar's open when it opened
        beyond the stop (the stop then fills there, worse than the stop), else None. A lower bar
        touching both, or no lower bar covering the range, still gives the stop: the conservative
        rule at the finer scale."""
        lo = int(self.open_time.searchsorted(bar_open_ms))
        hi = int(self.open_time.searchsorted(bar_open_ms + bar_ms))
        sign = 1.0 if long else -1.0
        for j in range(lo, hi):
            o = float(self.open[j])
            if sign * (o - stop) <= 0:
                return STOP, o
            if sign * (o - target) >= 0:
                return TARGET, None
            adverse = self.low[j] if long else self.high[j]
            favourable = self.high[j] if long else self.low[j]
            stop_hit = sign * (adverse - stop) <= 0
            target_hit = sign * (favourable - target) >= 0
            if stop_hit:
                return STOP, None
            if target_hit:
                return TARGET, None
        return STOP, None
