"""Live candles of every interval, aggregated from the simulator's own trades.

Candles are never simulated separately: each trade updates the open candle of all twelve
intervals, so the close of the live 1m candle is the last trade price and its volume the sum of
the trade quantities in it. A candle that saw no trade is flat at the previous close with zero
volume, as on Binance. The first live candle of each interval starts from the history minutes it
already contains, so it connects to the REST history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradeterm.sim.bars import Bars


@dataclass(slots=True)
class Candle:
    """One candle in ticks/steps; ``first_id``/``last_id`` are trade ids (-1 when none)."""

    t: int
    interval: int
    o: int
    h: int
    l: int  # noqa: E741
    c: int
    v: int = 0
    q: float = 0.0
    n: int = 0
    bv: int = 0
    bq: float = 0.0
    first_id: int = -1
    last_id: int = -1

    @property
    def close_time(self) -> int:
        return self.t + self.interval - 1

    def add(self, trade_id: int, price: int, qty: int, quote: float, buyer_taker: bool) -> None:
        if self.n == 0:  # a flat no-trade candle takes its open from its first trade
            self.o = self.h = self.l = price
        self.h = max(self.h, price)
        self.l = min(self.l, price)
        self.c = price
        self.v += qty
        self.q += quote
        self.n += 1
        if buyer_taker:
            self.bv += qty
            self.bq += quote
        if self.first_id < 0:
            self.first_id = trade_id
        self.last_id = trade_id


class IntervalCandles:
    """The open candle and the closed live candles of one interval."""

    def __init__(self, interval_ms: int, start_ms: int, last_close: int, seed: Bars) -> None:
        self.interval = interval_ms
        t = start_ms - start_ms % interval_ms
        if len(seed):
            self.current = Candle(t, interval_ms, int(seed.o[0]), int(seed.h[0]),
                                  int(seed.l[0]), int(seed.c[0]), int(seed.v[0]),
                                  float(seed.q[0]), int(seed.n[0]), int(seed.bv[0]),
                                  float(seed.bq[0]))
        else:
            self.current = Candle(t, interval_ms, last_close, last_close, last_close, last_close)
        self.closed: list[Candle] = []
        self.first_open = t

    def roll_to(self, now_ms: int) -> list[Candle]:
        """Close candles that ended before ``now_ms``; returns the closed ones."""
        done: list[Candle] = []
        while now_ms >= self.current.t + self.interval:
            old = self.current
            done.append(old)
            self.closed.append(old)
            self.current = Candle(old.t + self.interval, self.interval, old.c, old.c, old.c, old.c)
        return done

    def bars(self, first_open: int, last_open: int, include_open: bool) -> Bars:
        """Closed (and optionally the open) live candles with ``first_open <= t <= last_open``."""
        rows = [c for c in self.closed if first_open <= c.t <= last_open]
        cur = self.current
        if include_open and first_open <= cur.t <= last_open:
            rows.append(cur)
        if not rows:
            return Bars.empty()
        i64 = lambda name: np.array([getattr(r, name) for r in rows], dtype=np.int64)  # noqa: E731
        f64 = lambda name: np.array([getattr(r, name) for r in rows], dtype=np.float64)  # noqa: E731
        return Bars(i64("t"), i64("o"), i64("h"), i64("l"), i64("c"), i64("v"), f64("q"),
                    i64("n"), i64("bv"), f64("bq"))
