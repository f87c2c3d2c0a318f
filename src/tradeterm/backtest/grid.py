"""The market's price grid and the candle arrays the backtester reads.

Prices are integers of ticks: ``Decimal(ticks) * tick`` is exactly the ``Decimal`` the paper
broker's rounding gives (``to_tick(dec(price))``: nearest tick, half to even), and :meth:`Grid.
floats` gives exactly ``float()`` of that ``Decimal`` (a correctly rounded division), so every
float comparison the backtester makes is the one a per-trade ``Decimal`` implementation would
make.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import polars as pl

from tradeterm.backtest.units import mantissa
from tradeterm.core.money import dec

_MAX_EXACT = 2**53


class Grid:
    """The market's price grid with the backtest's slippage: float prices to ticks and back."""

    def __init__(self, tick: Decimal, slippage_ticks: int, slippage_bps: Decimal) -> None:
        if not tick > 0:
            raise ValueError("the backtester needs the market's tick size (rules.tick > 0)")
        self.tick = tick
        self.tick_f = float(tick)
        self.mant, self.digits = mantissa(tick)  # tick == mant / 10**digits
        self.slip_ticks = int(slippage_ticks)
        self._bps = slippage_bps.as_integer_ratio() if slippage_bps else None

    def snap(self, prices: np.ndarray) -> np.ndarray:
        """Float prices on the tick as the paper broker puts them (``to_tick(dec(price))``: the
        float's shortest-repr Decimal, nearest tick, half to even), as int64 ticks; 0 where not
        finite. The float quotient decides unless it is within float error of half a tick, where
        the Decimal may be exactly half (``109.35`` on a 0.1 tick is 1094 ticks, its float
        quotient 1093.4999999999998): those few are rounded as Decimals."""
        x = np.asarray(prices, dtype=np.float64)
        q = x / self.tick_f
        ticks = np.rint(q)
        with np.errstate(invalid="ignore"):
            near_half = np.abs(np.abs(q - np.floor(q)) - 0.5) <= np.abs(q) * 1e-14
        for i in np.flatnonzero(near_half).tolist():
            ticks[i] = float((dec(float(x[i])) / self.tick).to_integral_value(ROUND_HALF_EVEN))
        return np.where(np.isfinite(ticks), ticks, 0).astype(np.int64)

    def floats(self, ticks: np.ndarray) -> np.ndarray:
        """``float(Decimal(ticks) * tick)`` for every element, without Decimals: the integer
        ``ticks x mantissa`` is exact in a float64 and dividing it by an exact power of ten
        rounds once, correctly, as ``float(Decimal)`` does."""
        scaled = np.asarray(ticks, dtype=np.int64) * self.mant
        if scaled.size and int(np.abs(scaled).max()) >= _MAX_EXACT:
            raise ValueError("price beyond 2**53 ticks: not representable exactly")
        return scaled.astype(np.float64) / float(10**self.digits)

    def slippage(self, base: np.ndarray) -> np.ndarray:
        """Ticks of slippage on a market fill at ``base`` ticks: ``slippage_ticks`` plus
        ``slippage_bps`` of the price rounded up to the tick (exact integer arithmetic: the
        ceiling of ``base x bps / 10,000`` ticks)."""
        slip = np.full(base.shape, self.slip_ticks, dtype=np.int64)
        if self._bps is not None:
            num, den = self._bps
            big = base.size and int(np.abs(base).max()) * abs(num) >= 2**62
            b = base.astype(object) if big else base
            slip += np.asarray(-((-b * num) // (den * 10_000)), dtype=np.int64)
        return slip

    def market(self, prices: np.ndarray, buy: np.ndarray) -> np.ndarray:
        """Ticks of a market fill near float ``prices``: on the tick, then the slippage against
        us (up for a buy, down for a sell)."""
        base = self.snap(prices)
        slip = self.slippage(base)
        return base + np.where(buy, slip, -slip)

    def decimal(self, ticks: int) -> Decimal:
        return Decimal(ticks) * self.tick


def column(frame: pl.DataFrame, name: str) -> np.ndarray:
    """A frame column as float64 with NaN for nulls (all NaN when the column is missing)."""
    if name not in frame.columns:
        return np.full(frame.height, np.nan)
    return frame.get_column(name).cast(pl.Float64).fill_null(np.nan).to_numpy()


class Bars:
    """The evaluated frame's prices and levels as numpy arrays."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.n = frame.height
        self.t = frame.get_column("open_time").to_numpy()
        self.o, self.h, self.l, self.c = (column(frame, k) for k in ("open", "high", "low",
                                                                      "close"))
        for name, prices in (("open", self.o), ("high", self.h), ("low", self.l),
                             ("close", self.c)):
            bad = np.flatnonzero(~np.isfinite(prices))
            if bad.size:  # a fill there would have no price: refuse the data, do not guess
                raise ValueError(f"candle {name} missing or not finite at bar {int(bad[0])}")
        self.stop, self.target = column(frame, "stop"), column(frame, "target_1")
        self.frame = frame  # for the levels read only when asked (``target_2``, ``target_3``)
        self.entry_ref = column(frame, "entry") if "entry" in frame.columns else self.c
