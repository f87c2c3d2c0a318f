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
        ticks = [np.array([spec.to_ticks(float(x)) for x in df[c].cast(pl.Float64).to_numpy()],
                          dtype=np.int64) for c in ("open", "high", "low", "close")]
        o, h, low, c = ticks
        h, low = np.maximum(h, np.maximum(o, c)), np.minimum(low, np.minimum(o, c))
        v = np.array([spec.to_steps(float(x)) for x in df["volume"].cast(pl.Float64).to_numpy()],
                     dtype=np.int64)
        mid = (o + h + low + c) / 4 * float(spec.tick)
        q = v * float(spec.step) * mid
        trades = np.ones(n, dtype=np.int64)  # a seeded candle keeps its open (see candles.py)
        self._bars = Bars(t, o, h, low, c, v, q, trades, v // 2, q / 2)
        self.start_ms = int(t[0]) if n else boundary_ms

    @property
    def last_close_ticks(self) -> int | None:
        return int(self._bars.c[-1]) if len(self._bars) else None

    def bars(self, interval_ms: int, first_open: int, last_open: int) -> Bars:
        """Complete history bars of ``interval_ms`` with ``first_open <= t <= last_open``."""
        live_open = self.boundary_ms - self.boundary_ms % interval_ms
        merged = aggregate(self._bars, interval_ms)
        keep = (merged.t >= first_open) & (merged.t <= min(last_open, live_open - interval_ms))
        return merged.select(keep)

    def partial(self, interval_ms: int) -> Bars:
        """History bars inside the live candle of ``interval_ms``, aggregated (0 or 1 bar)."""
        live_open = self.boundary_ms - self.boundary_ms % interval_ms
        inside = self._bars.select(self._bars.t >= live_open)
        return aggregate(inside, interval_ms)
