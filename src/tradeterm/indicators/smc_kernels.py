"""Vectorised numpy kernels behind the Smart Money Concepts detector (``smc.py``).

SMC needs two questions answered many times over a long series, and answering them with a Python
loop per bar would blow the 1 s / 1,000,000-bar budget:

* "from bar ``start``, what is the first bar whose value is at or below ``threshold``?" (when an
  order block is mitigated or invalidated, when a fair value gap is filled, when an equal-highs
  pool is taken). :func:`first_at_or_below` answers a whole batch of such queries at once with a
  blocked sparse table: O(n) to build, O(block + log n) per query, all in numpy.
* "at each bar, which is the most recent zone that is still alive?" (the per-bar order-block
  columns). :func:`latest_alive` walks a stack once over the zones, O(zones) Python steps, never
  O(bars).
"""

from __future__ import annotations

import numpy as np

_BLOCK = 16  # bars per block: small enough that a (queries x block) gather stays cheap
_CHUNK = 65_536  # queries gathered at once, bounding temporary memory to a few MB


def ffill_index(positions: np.ndarray, n: int) -> np.ndarray:
    """Per bar, the largest k with ``positions[k] <= bar`` (-1 before the first).

    ``positions`` must be non-decreasing and < n: where each item became known, in item order.
    A scatter plus a running maximum, O(n).
    """
    out = np.full(n, -1, dtype=np.int64)
    if positions.size:
        last = np.ones(positions.size, dtype=bool)
        last[:-1] = positions[1:] != positions[:-1]  # of items known on the same bar, the last
        out[positions[last]] = np.flatnonzero(last)
        np.maximum.accumulate(out, out=out)
    return out


def window_max(values: np.ndarray, width: int) -> np.ndarray:
    """``out[j] = max(values[j : j + width])`` for every full window (length n - width + 1).

    Doubling: the max over a power-of-two span is built in log2(width) passes, and any window is
    two overlapping such spans; O(n log width) and contiguous, unlike a strided reduction.
    """
    span, acc = 1, values
    while span * 2 <= width:
        acc = np.maximum(acc[:-span], acc[span:])
        span *= 2
    size = values.size - width + 1
    return np.maximum(acc[:size], acc[width - span : width - span + size])


def last_true_index(mask: np.ndarray) -> np.ndarray:
    """Per bar, the index of the latest bar at or before it where ``mask`` is true (-1 if none)."""
    idx = np.where(mask, np.arange(mask.size), -1)
    return np.maximum.accumulate(idx) if idx.size else idx


def first_at_or_below(values: np.ndarray, start: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """For each query q, the smallest ``u >= start[q]`` with ``values[u] <= threshold[q]``, else -1.

    For "strictly below" pass ``np.nextafter(threshold, -inf)``; for "at or above" pass negated
    values and thresholds. ``values`` must be finite.
    """
    n = values.size
    start = np.asarray(start, dtype=np.int64)
    threshold = np.asarray(threshold, dtype=np.float64)
    result = np.full(start.size, -1, dtype=np.int64)
    if n == 0 or start.size == 0:
        return result
    nblocks = -(-n // _BLOCK)
    padded = np.full(nblocks * _BLOCK, np.inf)
    padded[:n] = values
    blocks = padded.reshape(nblocks, _BLOCK)
    # table[k][b] = min of block minima b .. b + 2**k - 1
    table = [blocks.min(axis=1)]
    while (1 << len(table)) <= nblocks:
        prev, half = table[-1], 1 << (len(table) - 1)
        table.append(np.minimum(prev[:-half], prev[half:]))
    offsets = np.arange(_BLOCK)
    for lo in range(0, start.size, _CHUNK):
        sl = slice(lo, lo + _CHUNK)
        result[sl] = _query_chunk(blocks, table, offsets, start[sl], threshold[sl], n)
    return result


def _query_chunk(
    blocks: np.ndarray,
    table: list[np.ndarray],
    offsets: np.ndarray,
    start: np.ndarray,
    threshold: np.ndarray,
    n: int,
) -> np.ndarray:
    """:func:`first_at_or_below` for one bounded batch of queries."""
    nblocks = blocks.shape[0]
    out = np.full(start.size, -1, dtype=np.int64)
    live = np.flatnonzero(start < n)
    if live.size == 0:
        return out
    s, thr = start[live], threshold[live]
    home = s // _BLOCK
    # 1. the rest of the block the query starts in
    hit = (blocks[home] <= thr[:, None]) & (offsets[None, :] >= (s % _BLOCK)[:, None])
    found = hit.any(axis=1)
    out[live[found]] = home[found] * _BLOCK + hit[found].argmax(axis=1)
    rest = ~found
    live, thr, pos = live[rest], thr[rest], home[rest] + 1
    # 2. binary lifting over block minima: skip every run of blocks whose minimum stays above
    for k in range(len(table) - 1, -1, -1):
        level = table[k]
        fits = pos < level.size
        skip = fits & (level[np.minimum(pos, level.size - 1)] > thr)
        pos = np.where(skip, pos + (1 << k), pos)
    # 3. inside the first block whose minimum reaches the threshold
    ok = pos < nblocks
    live, thr, pos = live[ok], thr[ok], pos[ok]
    first = (blocks[pos] <= thr[:, None]).argmax(axis=1)
    out[live] = pos * _BLOCK + first
    return out


def latest_alive(born: np.ndarray, dies: np.ndarray, n: int) -> np.ndarray:
    """Per bar t, the zone k with the largest ``born[k] <= t`` among those with ``dies[k] > t``.

    ``born`` must be strictly increasing (one zone per bar and direction); ``dies[k] > born[k]``,
    with ``n`` (or more) for "never". Returns -1 where no zone is alive. A stack of zones by birth
    is popped lazily when its top dies, so the work is O(zones), not O(bars).
    """
    change_at: list[int] = []
    change_to: list[int] = []
    stack: list[int] = []

    def pop_dead(until: int) -> None:
        """Retire tops that die at or before ``until``, recording who takes over and when."""
        while stack and dies[stack[-1]] <= until:
            died = int(dies[stack.pop()])
            while stack and dies[stack[-1]] <= died:  # died earlier, while buried
                stack.pop()
            change_at.append(died)
            change_to.append(stack[-1] if stack else -1)

    for k in range(born.size):
        pop_dead(int(born[k]))
        stack.append(k)
        change_at.append(int(born[k]))
        change_to.append(k)
    pop_dead(n - 1)
    if not change_at:
        return np.full(n, -1, dtype=np.int64)
    at = np.asarray(change_at, dtype=np.int64)
    to = np.asarray(change_to, dtype=np.int64)
    which = np.searchsorted(at, np.arange(n), side="right") - 1  # last change at or before t
    return np.where(which >= 0, to[np.maximum(which, 0)], -1)
