"""Volume-weighted average price: per UTC day (session) or from an anchor bar.

VWAP at bar t = sum(typical * volume) / sum(volume) over the session's bars up to and including
t, with typical = (high + low + close) / 3. The session starts at 00:00 UTC of the bar's
``open_time`` day; an anchored VWAP starts at the first bar whose ``open_time >= anchor`` and
never resets. Zero cumulative volume gives null (no trade, no price).

Sums are plain sequential float64 cumulative sums restarted at each session (never a global
running sum minus an offset, which would lose ~1e-9 of relative precision over a million bars),
so the value at bar t is the same bits whatever follows t.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tradeterm.indicators.ta import Arrays, arrays, to_columns

DAY_MS = 86_400_000


def _session_starts(open_time: np.ndarray) -> np.ndarray:
    """Index of the first bar of each UTC day present in ``open_time`` (sorted ascending).

    A binary search per midnight, instead of a pass over every bar."""
    first_day = int(open_time[0]) // DAY_MS
    last_day = int(open_time[-1]) // DAY_MS
    midnights = np.arange(first_day + 1, last_day + 1, dtype=np.int64) * DAY_MS
    starts = np.concatenate(([0], np.searchsorted(open_time, midnights, side="left")))
    return np.unique(starts)  # days without bars give repeated indices


def _session_cumsum(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``values`` restarting at each index in ``starts`` (ascending, from 0).

    Bars are laid out as rows of a zero-padded (sessions x longest session) grid, the first
    session right-aligned, so one vectorised ``cumsum`` along the rows is the same sequential
    sum a per-session loop would do. With regular bars every middle session is full and the
    bars fill the grid contiguously (a copy in, a view out); otherwise they are scattered.
    """
    n = values.size
    lengths = np.diff(np.append(starts, n))
    width = int(lengths.max())
    rows = starts.size
    if rows * width > 4 * n + 1024:  # very uneven sessions: a per-session loop stays exact
        out = np.empty_like(values)
        for lo, size in zip(starts, lengths, strict=True):
            np.cumsum(values[lo : lo + size], out=out[lo : lo + size])
        return out
    grid = np.zeros(rows * width, dtype=np.float64)
    offset = width - int(lengths[0])
    if rows <= 2 or bool((lengths[1:-1] == width).all()):
        grid[offset : offset + n] = values
        np.cumsum(grid.reshape(rows, width), axis=1, out=grid.reshape(rows, width))
        return grid[offset : offset + n]
    row = np.repeat(np.arange(rows), lengths)
    flat = row * width + (np.arange(n) - starts[row])
    flat[: lengths[0]] += offset
    grid[flat] = values
    np.cumsum(grid.reshape(rows, width), axis=1, out=grid.reshape(rows, width))
    return grid[flat]


def compute_vwap(a: Arrays, open_time: np.ndarray, anchor: int | None = None) -> dict[str, np.ndarray]:
    """``{"vwap": ...}`` per UTC day, or ``{"vwap_anchored": ...}`` from ``anchor`` (NaN = null).

    Zero cumulative volume is 0/0, i.e. NaN, hence null."""
    pv = a["high"] + a["low"]
    pv += a["close"]
    pv /= 3.0
    pv *= a["volume"]
    out = np.full(open_time.size, np.nan)
    first = 0 if anchor is None else int(np.searchsorted(open_time, anchor, side="left"))
    if first < open_time.size:
        with np.errstate(invalid="ignore", divide="ignore"):
            if anchor is None:
                starts = _session_starts(open_time)
                out = _session_cumsum(pv, starts) / _session_cumsum(a["volume"], starts)
            else:
                out[first:] = np.cumsum(pv[first:]) / np.cumsum(a["volume"][first:])
    return {"vwap" if anchor is None else "vwap_anchored": out}


def vwap(frame: pl.DataFrame, anchor: int | None = None) -> pl.DataFrame:
    """Add ``vwap`` (session VWAP, reset at 00:00 UTC) or, with ``anchor`` (ms since the epoch),
    ``vwap_anchored``: cumulative from the first bar opening at or after ``anchor``, null before.
    """
    if anchor is not None and (isinstance(anchor, bool) or not isinstance(anchor, (int, np.integer))):
        raise ValueError(f"anchor must be None or an int of ms since the epoch, got {anchor!r}")
    a = arrays(frame, "high", "low", "close", "volume")
    open_time = frame.get_column("open_time").cast(pl.Int64).to_numpy()
    return frame.with_columns(to_columns(compute_vwap(a, open_time, anchor)))
