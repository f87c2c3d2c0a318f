"""The vectorised SMC equals a plain bar-by-bar reference written straight from the definitions.

The reference below is deliberately naive (loops, no numpy tricks) so that it reads like
``docs/smc.md``; agreement on generated markets with many swing lengths checks the vectorised
kernels (window maxima, sparse-table searches, the live-zone stack) against the definitions.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.indicators.smc import add_smc, smc


def reference(frame: pl.DataFrame, n_: int, tol: float) -> dict[str, list[tuple]]:
    o, h, lo, c = (frame[k].to_list() for k in ("open", "high", "low", "close"))
    n = len(c)
    sh = [
        i
        for i in range(n_, n - n_)
        if h[i] > max(h[i - n_ : i]) and h[i] >= max(h[i + 1 : i + n_ + 1])
    ]
    sl = [
        i
        for i in range(n_, n - n_)
        if lo[i] < min(lo[i - n_ : i]) and lo[i] <= min(lo[i + 1 : i + n_ + 1])
    ]
    swings = sorted(
        [(i, i + n_, "high", h[i]) for i in sh] + [(i, i + n_, "low", lo[i]) for i in sl],
        key=lambda r: (r[1], r[2]),
    )

    def first(start: int, hits: list[bool]) -> int | None:
        """The first bar >= start where ``hits`` is true."""
        return next((u for u in range(start, n) if hits[u]), None)

    breaks, broken, trend = [], set(), 0
    for t in range(n):
        known_h = [i for i in sh if i + n_ <= t]
        known_l = [i for i in sl if i + n_ <= t]
        for sign, known in ((-1, known_l), (1, known_h)):  # bearish first on the same bar
            if not known or (sign, known[-1]) in broken or known[-1] + n_ >= t:
                continue
            s = known[-1]
            level = h[s] if sign > 0 else lo[s]
            if (c[t] > level) if sign > 0 else (c[t] < level):
                broken.add((sign, s))
                breaks.append((t, t, "bos" if sign == trend else "choch", sign, level, s))
                trend = sign
    obs = []
    for t, _, kind, sign, _, s in breaks:
        j = next(
            (j for j in range(t - 1, s - 1, -1) if (c[j] < o[j] if sign > 0 else c[j] > o[j])), None
        )
        if j is None:
            continue
        top, bot = h[j], lo[j]
        if sign > 0:
            mit, inv = first(t + 1, [x <= top for x in lo]), first(t + 1, [x < bot for x in c])
        else:
            mit, inv = first(t + 1, [x >= bot for x in h]), first(t + 1, [x > top for x in c])
        state = "invalidated" if inv is not None else "mitigated" if mit is not None else "active"
        obs.append((j, t, sign, top, bot, kind, mit, inv, state))
    fvgs = []
    for i in range(2, n):
        if lo[i] > h[i - 2]:
            top, bot = lo[i], h[i - 2]
            fill = first(i + 1, [x <= bot for x in lo])
            fvgs.append((i - 1, i, 1, top, bot, fill, "filled" if fill is not None else "open"))
        elif h[i] < lo[i - 2]:
            top, bot = lo[i - 2], h[i]
            fill = first(i + 1, [x >= top for x in h])
            fvgs.append((i - 1, i, -1, top, bot, fill, "filled" if fill is not None else "open"))
    sweeps = []
    for seq, price, sign in ((sh, h, -1), (sl, lo, 1)):
        for a, b in zip(seq, seq[1:], strict=False):
            if abs(price[b] - price[a]) > tol * abs(price[a]):
                continue
            level = max(price[a], price[b]) if sign < 0 else min(price[a], price[b])
            if sign < 0:
                u = first(b + n_ + 1, [x > level for x in h])
                ok = u is not None and c[u] < level
            else:
                u = first(b + n_ + 1, [x < level for x in lo])
                ok = u is not None and c[u] > level
            if ok:
                sweeps.append((u, u, sign, level, a, b))
    sweeps.sort(key=lambda r: (r[0], r[2], r[5]))
    return {
        "swings": swings,
        "structure": breaks,
        "order_blocks": obs,
        "fvgs": fvgs,
        "sweeps": sweeps,
    }


COLUMNS = {
    "swings": ("bar", "known_at", "kind", "price"),
    "structure": ("bar", "known_at", "kind", "direction", "level", "swing_bar"),
    "order_blocks": (
        "bar",
        "known_at",
        "direction",
        "top",
        "bottom",
        "structure",
        "mitigated_at",
        "invalidated_at",
        "state",
    ),
    "fvgs": ("bar", "known_at", "direction", "top", "bottom", "filled_at", "state"),
    "sweeps": ("bar", "known_at", "direction", "level", "pool_first_bar", "pool_last_bar"),
}


@pytest.mark.parametrize(
    ("seed", "length", "n"), [(1, 1, 600), (2, 2, 600), (3, 3, 600), (4, 5, 2_500), (5, 8, 600)]
)
def test_every_event_table_equals_the_bar_by_bar_reference(seed: int, length: int, n: int) -> None:
    frame = synthetic_candles(n, seed=seed)
    tol = 0.002
    got, want = smc(frame, swing_length=length, eq_tolerance=tol), reference(frame, length, tol)
    for name, cols in COLUMNS.items():
        rows = getattr(got, name).select(cols).rows()
        assert rows == want[name], name
    assert all(want.values())  # the data exercises every kind of mark


def test_per_bar_columns_agree_with_the_event_tables() -> None:
    frame = synthetic_candles(3_000, seed=9)
    result, out = smc(frame), add_smc(frame)
    n = frame.height
    for kind, col in (("bos", "smc_bos"), ("choch", "smc_choch")):
        ev = result.structure.filter(pl.col("kind") == kind)
        flags = np.zeros(n, dtype=np.int8)
        flags[ev["known_at"].to_numpy()] = ev["direction"].to_numpy()
        assert out[col].to_numpy().tolist() == flags.tolist()
    obs = result.order_blocks.filter(pl.col("direction") == 1).with_columns(
        pl.col("invalidated_at").fill_null(n)
    )
    low, high = frame["low"].to_numpy(), frame["high"].to_numpy()
    for t in range(0, n, 7):  # the newest bullish block known and not yet invalidated at t
        live = obs.filter((pl.col("known_at") <= t) & (pl.col("invalidated_at") > t))
        top = live["top"][-1] if live.height else None
        assert out["smc_bull_ob_top"][t] == top
        inside = (
            bool(live.height)
            and t > live["known_at"][-1]
            and low[t] <= top
            and high[t] >= live["bottom"][-1]
        )
        assert out["smc_in_bull_ob"][t] == inside
