"""What the event pass needs to know about each entry candidate that does not depend on the
account, computed with numpy for all candidates at once, prices in integer ticks.

Why: of a trade, only the quantity depends on the balance (the risk engine sizes from equity;
a small balance skips the entry under the minimum notional; the daily loss limit blocks entries).
The fill prices, the stop, the target, the exit bar and why, and the extreme prices against and
for the position do not. So they are worked out here in bulk, once per candidate signal bar, and
the event pass (``runner._EventPass``) only walks the candidates in order, does the exact
``Decimal`` arithmetic of the trades it takes and jumps to the first candidate after each exit.

Prices are integers of ticks: ``Decimal(ticks) * tick`` is exactly the ``Decimal`` the paper
broker's rounding gives (``_snap``: nearest tick of the float, half to even), and :meth:`Grid.
floats` gives exactly ``float()`` of that ``Decimal`` (a correctly rounded division), so every
float comparison below is the one a per-trade ``Decimal`` implementation would make.
"""

from __future__ import annotations

from decimal import Decimal
import numpy as np
import polars as pl

from tradeterm.backtest.runner_scan import STOP, TARGET, LowerFrame, first_touches
from tradeterm.core.money import dec

SIGNAL = "signal"
END = "end"
SCAN_ROUNDS = 4
"""Rounds of the bulk scan (16 + 32 + 64 + 128 bars): a candidate whose position lasts longer is
finished when the event pass reaches it (:meth:`Plan.resolve`), so candidates that no position
reaches (inside another trade) never cost more than these bars."""
_MAX_EXACT = 2**53


class Grid:
    """The market's price grid with the backtest's slippage: float prices to ticks and back."""

    def __init__(self, tick: Decimal, slippage_ticks: int, slippage_bps: Decimal) -> None:
        if not tick > 0:
            raise ValueError("the backtester needs the market's tick size (rules.tick > 0)")
        self.tick = tick
        self.tick_f = float(tick)
        _, digits, exponent = tick.as_tuple()
        self._mant = int("".join(map(str, digits)))
        self._exp = int(exponent)
        self.slip_ticks = int(slippage_ticks)
        self._bps = slippage_bps.as_integer_ratio() if slippage_bps else None

    def snap(self, prices: np.ndarray) -> np.ndarray:
        """Nearest tick (half to even, as ``round``) of float prices, as int64 ticks."""
        q = np.rint(np.asarray(prices, dtype=np.float64) / self.tick_f)
        return np.where(np.isfinite(q), q, 0).astype(np.int64)

    def floats(self, ticks: np.ndarray) -> np.ndarray:
        """``float(Decimal(ticks) * tick)`` for every element, without Decimals: the integer
        ``ticks x mantissa`` is exact in a float64 and dividing it by an exact power of ten
        rounds once, correctly, as ``float(Decimal)`` does."""
        scaled = np.asarray(ticks, dtype=np.int64) * self._mant
        if scaled.size and int(np.abs(scaled).max()) >= _MAX_EXACT:
            raise ValueError("price beyond 2**53 ticks: not representable exactly")
        if self._exp <= 0:
            return scaled.astype(np.float64) / float(10 ** -self._exp)
        return (scaled * 10 ** self._exp).astype(np.float64)

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
        self.entry_ref = column(frame, "entry") if "entry" in frame.columns else self.c
        self._padded: tuple[np.ndarray, np.ndarray] | None = None

    def padded(self) -> tuple[np.ndarray, np.ndarray]:
        """Lows and highs with one more element, so every ``reduceat`` bound (up to ``n``) is a
        valid index."""
        if self._padded is None:
            self._padded = (np.append(self.l, np.nan), np.append(self.h, np.nan))
        return self._padded


class Plan:
    """Per entry candidate (bars with an entry signal, in order): its levels, entry fill, exit
    and excursions, as Python lists for the event pass's scalar loop."""

    def __init__(self, bars: Bars, flags: dict[str, np.ndarray], grid: Grid, *,
                 require_stop: bool, lower: LowerFrame | None, timeframe_ms: int) -> None:
        self.bars, self.grid, self.lower, self.tf_ms = bars, grid, lower, timeframe_ms
        n = self.n = bars.n
        cand = np.flatnonzero(flags["entry_long"] | flags["entry_short"])
        self.cand = cand
        long = flags["entry_long"][cand].astype(bool)
        self.long_a = long
        e = np.minimum(cand + 1, n - 1)  # the last bar's candidate has no next bar: never used
        self.entry_a = e
        sign = np.where(long, 1, -1)

        ref = bars.entry_ref[cand]
        ref = np.where(np.isnan(ref), bars.c[cand], ref)
        stop_raw, target_raw = bars.stop[cand], bars.target[cand]
        if np.isinf(stop_raw).any() or np.isinf(target_raw).any():
            raise ValueError("stop and target_1 must be finite prices (or null)")
        has_stop = ~np.isnan(stop_raw)
        stop_t = np.where(has_stop, grid.snap(stop_raw), 0)
        stop_f = grid.floats(stop_t)
        has_target = ~np.isnan(target_raw)
        target_t = np.where(has_target, grid.snap(target_raw), 0)
        target_f = grid.floats(target_t)
        stop_ok = self._beyond(ref, stop_f, stop_t, long)  # the reference is beyond the stop
        target_ok = self._beyond(target_f, ref, target_t, long, ticks_first=True)
        has_target &= target_ok
        # missing levels never touch: a long's stop at -inf and target at +inf, a short's mirrored
        self.stop_f = np.where(has_stop, stop_f, -np.inf * sign)
        self.target_f = np.where(has_target, target_f, np.inf * sign)
        self.has_target_a = has_target
        self.target_t_a = target_t
        fill_t = grid.market(bars.o[e], long)
        self.fill_t_a = fill_t

        both = flags["entry_long"][cand] & flags["entry_short"][cand]
        invalid = np.where(has_stop, np.where(stop_ok, "", "stop on the wrong side"),
                           "no stop" if require_stop else "")
        exits_at = {True: np.flatnonzero(flags["exit_long"]),
                    False: np.flatnonzero(flags["exit_short"])}
        signal = np.full(cand.size, -1, dtype=np.int64)
        for side in (True, False):
            rows, at = np.flatnonzero(long == side), exits_at[side]
            if at.size:
                j = at.searchsorted(e[rows])
                signal[rows] = np.where(j < at.size, at[np.minimum(j, at.size - 1)], -1)
        self.signal_a = signal
        self.end_a = np.where(signal >= 0, signal, n - 1)

        wanted = ~both & (invalid == "") & (cand + 1 < n)
        self.touch = np.full(cand.size, -1, dtype=np.int64)
        self.pending = np.zeros(cand.size, dtype=bool)
        rows = np.flatnonzero(wanted)
        self._scan(rows, SCAN_ROUNDS)
        done = rows[~self.pending[rows]]

        # the lists the event pass reads (list indexing is ~10x cheaper than numpy's)
        self.bar: list[int] = cand.tolist()
        self.long: list[bool] = long.tolist()
        self.both: list[bool] = both.tolist()
        self.invalid: list[str] = invalid.tolist()
        self.entry_ms: list[int] = bars.t[e].tolist()
        self.ref: list[float] = ref.tolist()
        self.has_stop: list[bool] = has_stop.tolist()
        self.stop_t: list[int] = stop_t.tolist()
        self.has_target: list[bool] = has_target.tolist()
        self.target_t: list[int] = target_t.tolist()
        self.fill_t: list[int] = fill_t.tolist()
        self.pending_l: list[bool] = self.pending.tolist()
        for name, column in self._exits(done).items():
            full = np.zeros(cand.size, dtype=column.dtype)
            full[done] = column
            setattr(self, name, full.tolist())
        # filled per candidate by _exits: exit_bar, exit_ms, reasons, maker, exit_t, mae_d,
        # mfe_d, exposure, next

    def _beyond(self, a: np.ndarray, b: np.ndarray, ticks: np.ndarray, long: np.ndarray,
                ticks_first: bool = False) -> np.ndarray:
        """``a > b`` for longs, ``a < b`` for shorts, as the exact Decimals would compare: one of
        them is the float of a snapped level (exact ``Decimal`` ticks x tick), the other a float
        whose ``Decimal`` is its repr. Rounding to the nearest float is monotonic, so unequal
        floats order their Decimals alike; equal floats (rare) are compared as Decimals."""
        out = np.where(long, a > b, a < b)
        for i in np.flatnonzero(a == b).tolist():
            level = self.grid.decimal(int(ticks[i]))
            other = dec(float(b[i] if ticks_first else a[i]))
            x, y = (level, other) if ticks_first else (other, level)
            out[i] = x > y if long[i] else x < y
        return out

    def _scan(self, rows: np.ndarray, rounds: int | None) -> None:
        """First touch of the stop or target for ``rows``, longs and shorts (mirrored)."""
        b = self.bars
        for side in (True, False):
            r = rows[self.long_a[rows] == side]
            if not r.size:
                continue
            touch, reached = first_touches(b.l, b.h, self.entry_a[r], self.end_a[r],
                                           self.stop_f[r], self.target_f[r], side, rounds)
            self.touch[r] = touch
            self.pending[r] = (touch < 0) & (reached <= self.end_a[r])

    def resolve(self, k: int) -> None:
        """Finish candidate ``k``'s scan (a position held beyond the bulk rounds) and price it."""
        rows = np.array([k])
        self._scan(rows, None)
        for name, column in self._exits(rows).items():
            getattr(self, name)[k] = column.tolist()[0]
        self.pending_l[k] = False

    def _exits(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The paper broker's rules at bar granularity (see ``docs/backtest.md``), in bulk."""
        b, grid, n = self.bars, self.grid, self.n
        long, e = self.long_a[rows], self.entry_a[rows]
        stop_f, target_f = self.stop_f[rows], self.target_f[rows]
        has_t = self.has_target_a[rows]
        k = self.touch[rows]
        found = k >= 0
        kk = np.where(found, k, 0)
        o = b.o[kk]
        gap_stop = found & np.where(long, o <= stop_f, o >= stop_f)  # opened through the stop
        gap_target = found & ~gap_stop & has_t & np.where(long, o >= target_f, o <= target_f)
        inside = found & ~gap_stop & ~gap_target
        adverse = np.where(long, b.l[kk], b.h[kk])
        favour = np.where(long, b.h[kk], b.l[kk])
        stop_hit = inside & np.where(long, adverse <= stop_f, adverse >= stop_f)
        target_hit = inside & has_t & np.where(long, favour >= target_f, favour <= target_f)
        sig = self.signal_a[rows]
        by_signal = ~found & (sig >= 0) & (sig + 1 < n)
        at_end = ~found & ~by_signal
        exit_bar = np.where(found, k, np.where(by_signal, sig + 1, n - 1))
        # a resting target fills at its price (maker), except when the entry bar itself opened
        # beyond it (the limit crosses at the open); the stop when both touched, unless `lower`
        maker = (gap_target & (k > e)) | (inside & ~stop_hit)
        market_at = np.where(gap_stop | gap_target, o, np.where(
            stop_hit, stop_f, np.where(by_signal, b.o[exit_bar], b.c[n - 1] if n else np.nan)))
        is_stop = gap_stop | stop_hit
        if self.lower is not None:
            for i in np.flatnonzero(stop_hit & target_hit).tolist():
                kind, gap = self.lower.resolve(int(b.t[kk[i]]), self.tf_ms, float(stop_f[i]),
                                               float(target_f[i]), bool(long[i]))
                if kind == TARGET:
                    maker[i], is_stop[i] = True, False
                elif gap is not None:
                    market_at[i] = gap
        reason = np.where(is_stop, STOP, np.where(found, TARGET, np.where(by_signal, SIGNAL, END)))
        fill_t = self.fill_t_a[rows]
        exit_t = np.where(maker, self.target_t_a[rows],
                          grid.market(np.where(maker, 0.0, market_at), ~long))
        # MAE/MFE: the bars held from their open to their close (e..held_to) and both fills
        held_to = np.where(at_end, exit_bar, exit_bar - 1)
        fill_f, exit_f = grid.floats(fill_t), grid.floats(exit_t)
        lo, hi = np.minimum(fill_f, exit_f), np.maximum(fill_f, exit_f)
        seg = held_to >= e
        if seg.any():
            bounds = np.empty(2 * seg.sum() + 1, dtype=np.int64)
            bounds[0:-1:2], bounds[1:-1:2], bounds[-1] = e[seg], held_to[seg] + 1, n
            low, high = b.padded()
            lo[seg] = np.fmin(lo[seg], np.minimum.reduceat(low, bounds)[0:-1:2])
            hi[seg] = np.fmax(hi[seg], np.maximum.reduceat(high, bounds)[0:-1:2])
        worst, best = np.where(long, lo, hi), np.where(long, hi, lo)
        sign = np.where(long, 1, -1)
        return {
            "exit_bar": exit_bar, "reasons": reason, "maker": maker, "exit_t": exit_t,
            "mae_d": (grid.snap(worst) - fill_t) * sign, "mfe_d": (grid.snap(best) - fill_t) * sign,
            "exit_ms": b.t[exit_bar], "exposure": exit_bar - by_signal - e + 1,
            "next": self.cand.searchsorted(exit_bar),
        }
