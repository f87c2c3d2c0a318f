"""Smart Money Concepts detection on plain numpy arrays (the definitions live in ``docs/smc.md``).

Each detector returns a dict of equal-length numpy arrays, one entry per mark, always with
``bar`` (the bar the mark refers to) and ``known_at`` (the bar at whose close it became known).
Nothing here looks at a bar after ``known_at`` to decide whether a mark exists or what its
prices are; later facts (``mitigated_at``, ``invalidated_at``, ``filled_at``) are recorded as
separate indexes (-1 = not yet), which is what keeps the per-bar columns causal.
``smc.py`` wraps these into polars tables and columns.
"""

from __future__ import annotations

import numpy as np

from tradeterm.indicators.smc_kernels import (
    ffill_index,
    first_at_or_below,
    last_true_index,
    window_max,
)

Arrays = dict[str, np.ndarray]
_I64 = np.int64


def _below(values: np.ndarray, start: np.ndarray, level: np.ndarray) -> np.ndarray:
    """First bar >= start strictly below level (-1 if none)."""
    return first_at_or_below(values, start, np.nextafter(level, -np.inf))


def _above(values: np.ndarray, start: np.ndarray, level: np.ndarray) -> np.ndarray:
    """First bar >= start strictly above level (-1 if none)."""
    return first_at_or_below(-values, start, np.nextafter(-level, -np.inf))


def swings(high: np.ndarray, low: np.ndarray, length: int) -> tuple[Arrays, Arrays]:
    """Swing highs and lows: (highs, lows), each with ``bar``, ``known_at`` and ``price``.

    Bar i is a swing high when ``high[i]`` is strictly above each of the ``length`` highs before
    it and at or above each of the ``length`` highs after it (so on a flat top the first bar of
    the plateau is the swing); it is known at bar ``i + length``. Swing lows mirror this.
    """
    n = high.size
    empty = {"bar": np.empty(0, _I64), "known_at": np.empty(0, _I64), "price": np.empty(0)}
    if n < 2 * length + 1:
        return dict(empty), dict(empty)
    idx = np.arange(length, n - length)
    hmax = window_max(high, length)  # hmax[j] = max(high[j : j + length])
    lmin = -window_max(-low, length)
    is_high = (high[idx] > hmax[idx - length]) & (high[idx] >= hmax[idx + 1])
    is_low = (low[idx] < lmin[idx - length]) & (low[idx] <= lmin[idx + 1])
    out = []
    for mask, price in ((is_high, high), (is_low, low)):
        bars = idx[mask].astype(_I64)
        out.append({"bar": bars, "known_at": bars + length, "price": price[bars]})
    return out[0], out[1]


def _breaks(close: np.ndarray, swing: Arrays, sign: int) -> Arrays:
    """Closes beyond the most recent known swing (sign +1: above highs, -1: below lows).

    At each bar the reference is the latest swing known at that bar; the first close beyond it
    breaks it, and a broken swing is never broken again (the next break needs a newer swing).
    """
    n = close.size
    if swing["bar"].size == 0:
        none = np.empty(0, _I64)
        return {
            "bar": none,
            "level": np.empty(0),
            "swing_bar": none,
            "direction": none.astype(np.int8),
        }
    ref = ffill_index(swing["known_at"], n)
    has = ref >= 0
    level = np.where(has, swing["price"][np.maximum(ref, 0)], np.nan)
    beyond = (close > level) if sign > 0 else (close < level)
    cand = np.flatnonzero(has & beyond)
    cand = cand[cand > swing["known_at"][ref[cand]]]
    first = np.ones(cand.size, dtype=bool)
    first[1:] = ref[cand[1:]] != ref[cand[:-1]]  # refs are non-decreasing in time
    bars = cand[first].astype(_I64)
    k = ref[bars]
    return {
        "bar": bars,
        "level": swing["price"][k],
        "swing_bar": swing["bar"][k],
        "direction": np.full(bars.size, sign, dtype=np.int8),
    }


def structure(close: np.ndarray, highs: Arrays, lows: Arrays) -> Arrays:
    """BOS/CHoCH events sorted by bar: ``bar`` = ``known_at`` = the breaking bar.

    A break in the direction of the previous break is a BOS; against it, or the very first, a
    CHoCH. Should a bullish and a bearish break fall on the same bar, the bearish one is ordered
    first, so the trend after that bar is bullish.
    """
    up, down = _breaks(close, highs, +1), _breaks(close, lows, -1)
    ev = {key: np.concatenate([down[key], up[key]]) for key in up}
    order = np.lexsort((ev["direction"], ev["bar"]))
    ev = {key: val[order] for key, val in ev.items()}
    choch = np.ones(ev["bar"].size, dtype=bool)
    choch[1:] = ev["direction"][1:] != ev["direction"][:-1]
    ev["choch"] = choch
    ev["known_at"] = ev["bar"].copy()
    return ev


def order_blocks(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    events: Arrays,
) -> Arrays:
    """One order block per structure break that has an opposite candle before it.

    For a bullish break at bar t of the swing at bar s, the block is the last down-close candle
    (close < open) in s <= j < t, zone [low[j], high[j]], known at t; bearish mirrors it with the
    last up-close candle. Mitigated: first bar after t that trades into the zone; invalidated:
    first bar after t that closes beyond the far side (below the bottom for a bullish block).
    """
    last_down = last_true_index(close < open_)
    last_up = last_true_index(close > open_)
    t, s, d = events["bar"], events["swing_bar"], events["direction"]
    prev = np.maximum(t - 1, 0)
    j = np.where(d > 0, last_down[prev], last_up[prev])
    keep = (t >= 1) & (j >= s)
    t, j, d, choch = t[keep], j[keep].astype(_I64), d[keep], events["choch"][keep]
    top, bottom = high[j], low[j]
    nxt = t + 1
    bull = d > 0
    mitigated = np.where(
        bull,
        first_at_or_below(low, nxt, top),
        first_at_or_below(-high, nxt, -bottom),
    )
    invalidated = np.where(bull, _below(close, nxt, bottom), _above(close, nxt, top))
    return {
        "bar": j,
        "known_at": t.astype(_I64),
        "direction": d,
        "top": top,
        "bottom": bottom,
        "choch": choch,
        "mitigated_at": mitigated,
        "invalidated_at": invalidated,
    }


def fair_value_gaps(high: np.ndarray, low: np.ndarray, min_size: float = 0.0) -> Arrays:
    """Three-candle gaps, sorted by ``known_at``; ``bar`` is the middle candle.

    Bullish at bar i when ``low[i] > high[i-2]``: zone [high[i-2], low[i]], known at i, filled
    at the first later bar whose low reaches the bottom. Bearish when ``high[i] < low[i-2]``:
    zone [high[i], low[i-2]], filled when a later high reaches the top. Gaps whose height is
    below ``min_size`` times their bottom price are dropped.
    """
    i = np.arange(2, high.size, dtype=_I64)
    bull = low[2:] > high[:-2]
    bear = high[2:] < low[:-2]
    top = np.where(bull, low[2:], low[:-2])
    bottom = np.where(bull, high[:-2], high[2:])
    sel = np.flatnonzero((bull | bear) & (top - bottom >= min_size * np.abs(bottom)))
    i, up, top, bottom = i[sel], bull[sel], top[sel], bottom[sel]
    filled = np.where(
        up,
        first_at_or_below(low, i + 1, bottom),
        first_at_or_below(-high, i + 1, -top),
    )
    return {
        "bar": i - 1,
        "known_at": i,
        "direction": np.where(up, 1, -1).astype(np.int8),
        "top": top,
        "bottom": bottom,
        "filled_at": filled,
    }


def _pools(swing: Arrays, tolerance: float, sign: int) -> Arrays:
    """Pairs of consecutive swings within ``tolerance`` (fraction of the earlier price)."""
    p = swing["price"]
    eq = np.flatnonzero(np.abs(p[1:] - p[:-1]) <= tolerance * np.abs(p[:-1])) + 1
    pick = np.maximum if sign > 0 else np.minimum
    return {
        "first_bar": swing["bar"][eq - 1],
        "last_bar": swing["bar"][eq],
        "known_at": swing["known_at"][eq],
        "level": pick(p[eq - 1], p[eq]),
    }


def sweeps(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    highs: Arrays,
    lows: Arrays,
    tolerance: float,
) -> Arrays:
    """Liquidity sweeps of equal highs/lows, sorted by bar (``bar`` = ``known_at`` = sweep bar).

    An equal-highs pool is two consecutive swing highs within ``tolerance``; its level is the
    higher one. The first later bar whose high goes above the level takes the pool: if it
    closes back below the level it is a bearish sweep (-1), otherwise a breakout (no mark).
    Equal lows mirror this with a bullish sweep (+1).
    """
    parts = []
    for swing, sign in ((highs, -1), (lows, +1)):
        pool = _pools(swing, tolerance, -sign)
        start = pool["known_at"] + 1
        if sign < 0:
            hit = _above(high, start, pool["level"])
        else:
            hit = _below(low, start, pool["level"])
        ok = hit >= 0
        u, level = hit[ok], pool["level"][ok]
        back = (close[u] < level) if sign < 0 else (close[u] > level)
        parts.append(
            {
                "bar": u[back],
                "direction": np.full(int(back.sum()), sign, dtype=np.int8),
                "level": level[back],
                "first_bar": pool["first_bar"][ok][back],
                "last_bar": pool["last_bar"][ok][back],
            }
        )
    ev = {key: np.concatenate([parts[0][key], parts[1][key]]) for key in parts[0]}
    order = np.lexsort((ev["last_bar"], ev["direction"], ev["bar"]))
    ev = {key: val[order] for key, val in ev.items()}
    ev["known_at"] = ev["bar"].copy()
    return ev
