"""Kline bars as columns of numpy arrays, and their aggregation to coarser intervals.

Prices are integer ticks and base volumes integer steps (exact sums); quote volumes are floats.
Every interval Binance offers divides a UTC day, so aggregating 1m bars by ``open // interval``
gives candles aligned to UTC boundaries, and coarse candles agree with the fine ones by
construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


@dataclass(slots=True)
class Bars:
    """Columns of consecutive bars: open time, OHLC (ticks), volume (steps), quote volume,
    trade count, taker-buy volume (steps), taker-buy quote volume."""

    t: np.ndarray
    o: np.ndarray
    h: np.ndarray
    l: np.ndarray  # noqa: E741 (the field is named as the wire names it)
    c: np.ndarray
    v: np.ndarray
    q: np.ndarray
    n: np.ndarray
    bv: np.ndarray
    bq: np.ndarray

    def __len__(self) -> int:
        return len(self.t)

    @classmethod
    def empty(cls) -> Bars:
        z = np.zeros(0, dtype=np.int64)
        f = np.zeros(0, dtype=np.float64)
        return cls(z, z, z, z, z, z, f, z, z, f)

    @classmethod
    def concat(cls, parts: list[Bars]) -> Bars:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        return cls(*(np.concatenate([getattr(p, f) for p in parts]) for f in FIELDS))

    def select(self, mask_or_slice: np.ndarray | slice) -> Bars:
        return Bars(*(getattr(self, f)[mask_or_slice] for f in FIELDS))


FIELDS = ("t", "o", "h", "l", "c", "v", "q", "n", "bv", "bq")


def aggregate(bars: Bars, interval_ms: int) -> Bars:
    """Group consecutive bars by ``t // interval_ms`` (bars must be sorted and contiguous)."""
    if not len(bars):
        return bars
    keys = bars.t // interval_ms
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)] - 1
    return Bars(
        keys[starts] * interval_ms,
        bars.o[starts],
        np.maximum.reduceat(bars.h, starts),
        np.minimum.reduceat(bars.l, starts),
        bars.c[ends],
        np.add.reduceat(bars.v, starts),
        np.add.reduceat(bars.q, starts),
        np.add.reduceat(bars.n, starts),
        np.add.reduceat(bars.bv, starts),
        np.add.reduceat(bars.bq, starts),
    )
