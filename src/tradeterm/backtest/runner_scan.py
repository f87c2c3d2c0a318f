"""Numpy scans of the fast runner: from an entry, the first bar whose range touches the stop or
the target, and the order of the two inside one bar from a lower-timeframe frame.

The event pass calls these once per trade, so they must cost a few numpy calls, not a Python loop
over bars: the search looks at growing chunks (64 bars, then doubling) with ``np.argmax`` on a
boolean mask, so a trade that ends after 10 bars never compares the 100,000 bars after it, and one
that runs for 50,000 bars costs about a dozen calls.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIRST_CHUNK = 64

STOP = "stop"
TARGET = "target"


def first_touch(
    low: np.ndarray,
    high: np.ndarray,
    start: int,
    end: int,
    stop: float,
    target: float | None,
    long: bool,
) -> int:
    """Index of the first bar in ``[start, end]`` whose range reaches ``stop`` or ``target``
    (long: low <= stop or high >= target; short: high >= stop or low <= target); -1 if none."""
    chunk = FIRST_CHUNK
    lo = start
    while lo <= end:
        hi = min(end + 1, lo + chunk)
        if long:
            hit = low[lo:hi] <= stop
            if target is not None:
                hit |= high[lo:hi] >= target
        else:
            hit = high[lo:hi] >= stop
            if target is not None:
                hit |= low[lo:hi] <= target
        k = int(hit.argmax())  # the method: np.argmax's dispatch costs more than the scan
        if hit[k]:
            return lo + k
        lo = hi
        chunk *= 2
    return -1


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
        beyond the stop (the stop then fills there, worse than the stop), else None. A lower bar touching both, or no lower
        bar covering the range, still gives the stop: the conservative rule at the finer scale."""
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
