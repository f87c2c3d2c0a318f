"""Deterministic deep history for the synthetic market, generated lazily.

Choice (see docs/simulator.md): a daily skeleton plus per-day Brownian bridges, aggregated up.

1. One daily log-price path per symbol, walked *backwards* from the live start price so the
   newest history bar closes exactly where the live market opens. Daily volatility follows a
   GARCH-like recursion (clustering) with fat-tailed shocks and weak mean reversion.
2. The 1,440 one-minute bars of any day are a Brownian bridge between that day's endpoints,
   drawn from a generator seeded by ``(seed, symbol, day number)``: any day can be regenerated on
   demand, identically, without materialising millions of bars.
3. Every coarser interval is an aggregation of those minutes (via a per-day cache of hourly bars
   for intervals of an hour or more), so coarse and fine candles always agree.

Memory: a small LRU of minute-days plus at most 24 hourly bars per day touched.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from tradeterm.sim.bars import DAY_MS, HOUR_MS, MINUTE_MS, Bars, aggregate
from tradeterm.sim.spec import SymbolSpec

HISTORY_DAYS = 5_002  # 5,000 daily bars plus margin
_MINUTE_CACHE_DAYS = 48


class SyntheticHistory:
    """Closed history bars of one symbol, for every open time before ``boundary_ms``."""

    def __init__(self, spec: SymbolSpec, seed: int, symbol_index: int, boundary_ms: int,
                 days: int = HISTORY_DAYS) -> None:
        self.spec = spec
        self.days = days
        self.seed = seed
        self.symbol_index = symbol_index
        self.boundary_ms = boundary_ms - boundary_ms % MINUTE_MS
        self.day0 = self.boundary_ms // DAY_MS  # day number of the partial (live) day
        self.first_day = self.day0 - days
        self._tick = float(spec.tick)
        self._step = float(spec.step)
        self._log_p0 = float(np.log(spec.start_price))
        self._skeleton()
        self._minutes: OrderedDict[int, Bars] = OrderedDict()
        self._hours: dict[int, Bars] = {}

    @property
    def start_ms(self) -> int:
        return self.first_day * DAY_MS

    @property
    def last_close_ticks(self) -> int:
        return self.spec.to_ticks(self.spec.start_price)

    def _skeleton(self) -> None:
        rng = np.random.default_rng([self.seed, self.symbol_index, 0xDA11])
        n = self.days
        sig = np.empty(n + 1)
        base = self.spec.daily_vol
        var = base**2
        shocks = rng.standard_t(5, size=n + 1) * np.sqrt(3 / 5)
        for k in range(n + 1):  # GARCH(1,1)-like daily variance, walked back in time
            sig[k] = np.sqrt(var)
            var = 0.05 * base**2 + 0.08 * (shocks[k] * sig[k]) ** 2 + 0.87 * var
            var = min(max(var, (0.3 * base) ** 2), (4 * base) ** 2)
        # logp[k]: log price at the start of day (day0 - k); logp[-1] is the live start price.
        logp = np.empty(n + 1)
        m0 = (self.boundary_ms - self.day0 * DAY_MS) / MINUTE_MS
        logp[0] = self._log_p0 - sig[0] * np.sqrt(m0 / 1440) * shocks[0]
        for k in range(n):
            pull = 0.003 * (logp[k] - self._log_p0)  # weak mean reversion keeps prices sane
            logp[k + 1] = logp[k] - sig[k + 1] * shocks[k + 1] - pull
        floor = max(np.log(200 * self._tick), self._log_p0 - 4.0)
        self._logp = np.clip(logp, floor, self._log_p0 + 1.5)
        self._sig = sig

    def _day_minutes(self, day: int) -> Bars:
        """The minute bars of one day (only those before the boundary for the live day)."""
        cached = self._minutes.get(day)
        if cached is not None:
            self._minutes.move_to_end(day)
            return cached
        k = self.day0 - day  # 0 = the live day
        if k == 0:
            n = (self.boundary_ms - self.day0 * DAY_MS) // MINUTE_MS
            start, end = self._logp[0], self._log_p0
        else:
            n = 1440
            start, end = self._logp[k], self._logp[k - 1]
        bars = self._bridge(day, int(n), start, end, self._sig[k])
        self._minutes[day] = bars
        if len(self._minutes) > _MINUTE_CACHE_DAYS:
            self._minutes.popitem(last=False)
        return bars

    def _bridge(self, day: int, n: int, start: float, end: float, sig_day: float) -> Bars:
        t = day * DAY_MS + np.arange(n, dtype=np.int64) * MINUTE_MS
        if n == 0:
            return Bars.empty()
        rng = np.random.default_rng([self.seed, self.symbol_index, day])
        sig_m = sig_day / np.sqrt(1440)
        blocks = np.repeat(np.exp(rng.normal(0, 0.35, size=n // 15 + 1)), 15)[:n]
        steps = rng.standard_normal(n) * sig_m * blocks
        walk = np.cumsum(steps)
        frac = np.arange(1, n + 1) / n
        path = start + walk - frac * (walk[-1] - (end - start))
        lc = path
        lo_ = np.r_[start, path[:-1]]
        wick = np.abs(rng.standard_normal((2, n))) * sig_m * blocks * 0.6
        lh = np.maximum(lo_, lc) + wick[0]
        ll = np.minimum(lo_, lc) - wick[1]
        to_t = lambda x: np.maximum(np.rint(np.exp(x) / self._tick), 1).astype(np.int64)  # noqa: E731
        o, c, h, low = to_t(lo_), to_t(lc), to_t(lh), to_t(ll)
        if day == self.day0:
            c[-1] = self.last_close_ticks
        o[1:] = c[:-1]
        h = np.maximum(h, np.maximum(o, c))
        low = np.minimum(low, np.minimum(o, c))
        ret = np.abs(lc - lo_) / sig_m
        base_v = self.spec.base_qty * 400 / self._step
        v = np.rint(base_v * blocks * np.exp(rng.normal(0, 0.5, n)) * (0.5 + 0.5 * ret))
        v = v.astype(np.int64) + 1
        bv = np.rint(v * rng.beta(6, 6, n)).astype(np.int64)
        mid = (o + h + low + c) / 4 * self._tick
        q = v * self._step * mid
        trades = np.maximum(1, np.rint(v * self._step / self.spec.base_qty * 2)).astype(np.int64)
        return Bars(t, o, h, low, c, v, q, trades, bv, bv * self._step * mid)

    def _day_hours(self, day: int) -> Bars:
        hours = self._hours.get(day)
        if hours is None:
            minutes = self._day_minutes(day)
            if day == self.day0:  # only complete hours of the live day
                minutes = minutes.select(slice(0, len(minutes) - len(minutes) % 60))
            hours = aggregate(minutes, HOUR_MS)
            self._hours[day] = hours
        return hours

    def bars(self, interval_ms: int, first_open: int, last_open: int) -> Bars:
        """Complete history bars of ``interval_ms`` with ``first_open <= t <= last_open``."""
        live_open = self.boundary_ms - self.boundary_ms % interval_ms
        first_open = max(first_open, self.start_ms)
        last_open = min(last_open, live_open - interval_ms)
        if last_open < first_open:
            return Bars.empty()
        first_day = first_open // DAY_MS
        last_day = (last_open + interval_ms - 1) // DAY_MS
        per_day = self._day_hours if interval_ms >= HOUR_MS else self._day_minutes
        merged = aggregate(Bars.concat([per_day(d) for d in range(first_day, last_day + 1)]),
                           interval_ms)
        keep = (merged.t >= first_open) & (merged.t <= last_open)
        return merged.select(keep)

    def partial(self, interval_ms: int) -> Bars:
        """History minutes inside the live candle of ``interval_ms``, aggregated (0 or 1 bar)."""
        live_open = self.boundary_ms - self.boundary_ms % interval_ms
        if live_open == self.boundary_ms:
            return Bars.empty()
        days = range(live_open // DAY_MS, self.day0 + 1)
        minutes = Bars.concat([self._day_minutes(d) for d in days])
        return aggregate(minutes.select(minutes.t >= live_open), interval_ms)
