"""Warm-up history of a replay started part way through its file (``--from DATE``).

The bars of the file before the first replayed one are served as the market's closed history
(REST klines, aggregated to any coarser interval), exactly as :class:`SyntheticHistory` serves
the synthetic market's: the chart and the strategies see the past of the first replayed bar,
and the replayed candles continue it. Prices are integer ticks and volumes integer steps.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from tradeterm.sim.bars import Bars, aggregate
from tradeterm.sim.spec import SymbolSpec


class FileHistory:
    """Closed bars of a candle file before ``boundary_ms`` (the first replayed bar's open)."""

    def __init__(self, df: pl.DataFrame, spec: SymbolSpec, boundary_ms: int) -> None:
        self.boundary_ms = boundary_ms
        n = len(df)
        t = df["timestamp_ms"].to_numpy().astype(np.int64)
        tick, step = float(spec.tick), float(spec.step)

        def column(name: str) -> np.ndarray:
            return df[name].cast(pl.Float64).to_numpy()

        # spec.to_ticks / to_steps over whole columns (np.rint rounds half to even, as round())
        o, h, low, c = (np.maximum(1, np.rint(column(n) / tick)).astype(np.int64)
                        for n in ("open", "high", "low", "close"))
        h, low = np.maximum(h, np.maximum(o, c)), np.minimum(low, np.minimum(o, c))
        v = np.maximum(0, np.rint(column("volume") / step)).astype(np.int64)
        mid = (o + h + low + c) / 4 * tick
        q = v * step * mid
        trades = np.ones(n, dtype=np.int64)  # a seeded candle keeps its open (see candles.py)
        self._bars = Bars(t, o, h, low, c, v, q, trades, v // 2, q / 2)
        self.start_ms = int(t[0]) if n else boundary_ms
        self._aggregated: dict[int, Bars] = {}

    @property
    def last_close_ticks(self) -> int | None:
        return int(self._bars.c[-1]) if len(self._bars) else None

    def bars(self, interval_ms: int, first_open: int, last_open: int) -> Bars:
        """Complete history bars of ``interval_ms`` with ``first_open <= t <= last_open``."""
        live_open = self.boundary_ms - self.boundary_ms % interval_ms
        merged = self._aggregated.get(interval_ms)
        if merged is None:  # once per interval: the 24 h ticker asks every second
            merged = self._aggregated[interval_ms] = aggregate(self._bars, interval_ms)
        t = merged.t
        lo = int(np.searchsorted(t, first_open, side="left"))
        hi = int(np.searchsorted(t, min(last_open, live_open - interval_ms), side="right"))
        return merged.select(slice(lo, max(lo, hi)))

    def partial(self, interval_ms: int) -> Bars:
        """History bars inside the live candle of ``interval_ms``, aggregated (0 or 1 bar)."""
        live_open = self.boundary_ms - self.boundary_ms % interval_ms
        inside = self._bars.select(self._bars.t >= live_open)
        return aggregate(inside, interval_ms)
