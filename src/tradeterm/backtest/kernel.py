"""The backtester's event pass, compiled: one walk over the entry candidates and the bars their
positions live through, with the paper broker's fill rules and the risk engine's sizing and daily
loss limit, in exact integers.

Why compiled: a backtest is a sequence. Each trade's size depends on the balance the previous
trade left, and which signals are taken depends on when the previous position closed and on the
daily loss limit, so the walk cannot be vectorised; in Python it cost ~15 us a trade (vectorbt,
compiled with numba, runs its simulation 3-4x faster than that). Here the walk is numba
(``compiled``), and the money stays exact: prices are integers of ticks, quantities of steps,
money of the :class:`~units.MoneyUnits` (see there), so fees, PnL, the balance and the daily limit
are integer arithmetic equal to the ``Decimal`` arithmetic of the paper broker and
``risk.sizing``. In the compiled run (``checked``) every product is bounded first, and an amount
that would not fit 64 bits raises ``OverflowError``: the runner then runs this same function as
plain Python over Python integers (unbounded, slower), so a result is never wrong, only slower.

Rules (``docs/backtest.md``): a signal at bar t's close fills at bar t+1's open plus slippage
(taker fee); one position at a time; the stop and the target (a resting limit, maker fee) are the
signal's levels on the tick; a bar opening beyond the stop fills the stop at that open; a bar
touching both takes the stop unless a lower-timeframe frame orders them; an exit signal fills at
the next open; what is open at the end closes at the last close. A strategy that scales out
has its position split in legs (``leg_w``), each with its own target and the common stop.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tradeterm.backtest.codes import (
    BELOW_MIN_NOTIONAL,
    BELOW_MIN_QTY,
    BOTH_SIDES,
    DAILY_LIMIT,
    END,
    NO_NEXT_BAR,
    SIGNAL,
    STOP,
    TARGET,
)
from tradeterm.backtest.units import LIMIT

DAY_MS = 86_400_000


class HalfTick(ArithmeticError):
    """A bar price within float error of half a tick: only its Decimal can say which way the
    broker rounds it (the runner then passes the bars' exact ticks)."""


def event_pass(  # noqa: PLR0913, PLR0912, PLR0915 - one compiled loop: its state stays local
    t, o, h, l, c,  # noqa: E741 - the bars: open time (int64 ms) and prices (float64)
    have_ticks, o_t, h_t, l_t, c_t,  # the prices on the tick, exactly (empty arrays: not given)
    cbar, clong, cboth, cinvalid, csignal,  # entry candidates: signal bar, side, checks, exit bar
    cexact, cref, cref_f, chas_stop, cstop_p, cstop_t, cstop_f, chas_target, ctarget_t,
    ctarget_f,  # the targets: one column per leg (2-D)
    cfill_t, leg_w,
    lower_t, lower_o, lower_h, lower_l, lower_ot, bar_ms,  # a lower timeframe (empty: none)
    tick_f, tick_mult, tick_div, step_f, slip_ticks, bps_num, bps_den,
    notional, ref_notional, taker, maker, balance, max_quote, min_notional, min_qty,
    risk_n, risk_d, max_n, max_d, loss_n, loss_d, money_scale, price_scale, checked,
    out_k, out_exit, out_reason, out_maker, out_exit_t, out_qty, out_efee, out_xfee, out_pnl,
    out_mae, out_mfe, out_leg, skipped, equity,
):
    """Walk the candidates (in bar order) and fill the ``out_*`` columns, one row per trade;
    returns (trades, final balance, bars exposed). ``skipped`` counts per :data:`SKIP_REASONS`;
    ``equity`` gets the balance plus the open position marked at each close (floats, for
    charts and ratios).

    A bar price becomes ticks as the paper broker rounds it (its Decimal, half to even). Without
    ``have_ticks`` the compiled walk rounds the float and refuses (:class:`HalfTick`) a price
    within float error of half a tick, where the two could differ (data with more decimals than
    the tick); the runner then passes the bars' exact ticks (``o_t``...; ``lower_ot`` for the
    lower timeframe's opens).

    Candidate arrays: ``cref`` the reference price the risk engine sizes from and ``cstop_p``
    the stop, in reference-price units, where ``cexact``; elsewhere (a reference price off the
    tick grid, compiled run only) the size comes from the float ``cref_f`` with certain floors
    (:func:`_float_size`). ``cstop_f``/``ctarget_f``: the levels as floats (an infinity beyond
    reach when missing); ``cstop_t``/``ctarget_t``/``cfill_t``: ticks; ``csignal``: the first
    exit signal of the side at or after the entry bar (-1: none)."""
    n = t.size
    m = cbar.size
    has_lower = lower_t.size > 0
    day = -1
    day_realised = balance - balance
    day_loss = day_realised  # the day's realised loss that blocks entries (>= it: blocked)
    blocked_until = -1
    exposure = 0
    count = 0
    filled = 0  # equity is written for the bars before this one
    zero = balance - balance
    leg_q = [zero, zero, zero]  # per leg (scale-outs): quantity, PnL, entry fee, exit bar...
    leg_pnl = [zero, zero, zero]
    leg_efee = [zero, zero, zero]
    leg_x = [0, 0, 0]
    leg_sig = [False, False, False]
    settled = [False, False, False]
    k = 0
    while k < m:
        s = cbar[k]
        if s + 1 >= n:
            skipped[NO_NEXT_BAR] += 1
            break
        if cboth[k]:
            skipped[BOTH_SIDES] += 1
            k += 1
            continue
        if t[s + 1] < blocked_until:  # every entry refused while halted counts
            skipped[DAILY_LIMIT] += 1
            k += 1
            continue
        if cinvalid[k] != 0:
            skipped[cinvalid[k]] += 1
            k += 1
            continue
        long = clong[k]
        sign = 1 if long else -1
        ref = cref[k]
        fill = cfill_t[k]

        # -- size: risk.sizing's size_for_stop and position_cap, floors of exact fractions ----
        # floor(balance x n / d) as (balance // d) x n + (balance % d) x n // d: the same
        # integer, but no product beyond d x n, so the balance itself may reach LIMIT
        dist = abs(ref - cstop_p[k])
        if checked and (abs(float(balance)) >= LIMIT
                        or float(risk_d) * 100.0 * float(dist) * ref_notional * risk_n >= LIMIT
                        or float(max_d) * 100.0 * abs(float(ref)) * ref_notional * max_n
                        >= LIMIT):
            raise OverflowError("backtest amounts beyond 64-bit integers")
        if not cexact[k]:
            qty = _float_size(float(balance), cref_f[k], cstop_f[k], chas_stop[k], risk_n,
                              risk_d, max_n, max_d, max_quote, ref_notional * price_scale)
        elif balance <= 0 or ref <= 0:
            qty = balance - balance  # 0, of the balance's type
        else:
            if chas_stop[k]:
                d = risk_d * 100 * dist * ref_notional
                qty = (balance // d) * risk_n + (balance % d) * risk_n // d
            else:
                qty = balance // (ref * ref_notional)
            d = max_d * 100 * ref * ref_notional
            qty = min(qty, (balance // d) * max_n + (balance % d) * max_n // d,
                      max_quote // (ref * ref_notional))
        if qty <= 0 or qty < min_qty:
            skipped[BELOW_MIN_QTY] += 1
            k += 1
            continue
        if checked and float(qty) * abs(float(fill)) * max(notional, taker, maker) >= LIMIT:
            raise OverflowError("backtest amounts beyond 64-bit integers")
        if qty * fill * notional < min_notional:
            skipped[BELOW_MIN_NOTIONAL] += 1
            k += 1
            continue

        # -- the legs: one per target when the strategy scales out (``leg_w``: their weights),
        #    else one. Each leg is the same entry with its own target; the stop, the exit signal
        #    and the end are common. Sizes: floor(qty x w / total), the last leg the rest.
        n_legs = leg_w.size
        w_total = 0
        for j in range(n_legs):
            w_total += int(leg_w[j])
        if checked and float(qty) * float(w_total) >= LIMIT:
            raise OverflowError("backtest amounts beyond 64-bit integers")
        for j in range(3):
            leg_q[j] = zero
            leg_x[j] = 0
            leg_sig[j] = False
            settled[j] = False
        rest = qty
        for j in range(n_legs):
            q = rest if j == n_legs - 1 else qty * int(leg_w[j]) // w_total
            rest -= q
            leg_q[j] = q
        # a leg whose take-profit the exchange would refuse (below the minimum quantity, or the
        # minimum notional at its target) is merged into the previous leg, the first into the
        # next one left: core.scale_out.merge_small, the live bracket's rule
        if checked and n_legs > 1 and (
                float(qty) * float(np.abs(ctarget_t[k]).max()) * notional >= LIMIT):
            raise OverflowError("backtest amounts beyond 64-bit integers")
        j = n_legs - 1
        while j >= 0:
            q = leg_q[j]
            if n_legs > 1 and q > 0 and chas_target[k, j] and (
                    q < min_qty or q * ctarget_t[k, j] * notional < min_notional):
                if j > 0:
                    leg_q[j - 1] += q
                    leg_q[j] = zero
                else:
                    for jn in range(1, n_legs):
                        if leg_q[jn] > 0:
                            leg_q[jn] += q
                            leg_q[0] = zero
                            break
            j -= 1
        sig = csignal[k]
        end = sig if sig >= 0 else n - 1
        e = s + 1
        stop_f = cstop_f[k]
        x_max = e
        last_reason = STOP
        for j in range(n_legs):
            q = leg_q[j]
            if q <= 0:
                continue
            # -- the exit: the first bar touching a level, else the exit signal, else the end
            target_f = ctarget_f[k, j]
            has_target = chas_target[k, j]
            low_run, high_run = np.inf, -np.inf  # extremes of the bars held open to close...
            low_i = high_i = -1  # ...and where
            touch = -1
            i = e
            while i <= end:
                if long:
                    if l[i] <= stop_f or h[i] >= target_f:
                        touch = i
                        break
                elif h[i] >= stop_f or l[i] <= target_f:
                    touch = i
                    break
                if l[i] < low_run:
                    low_run, low_i = l[i], i
                if h[i] > high_run:
                    high_run, high_i = h[i], i
                i += 1
            by_signal = False
            maker_fill = False
            if touch >= 0:
                x = touch
                op = o[x]
                gap_stop = op <= stop_f if long else op >= stop_f
                gap_target = (not gap_stop and has_target
                              and (op >= target_f if long else op <= target_f))
                inside = not gap_stop and not gap_target
                adverse = l[x] if long else h[x]
                favour = h[x] if long else l[x]
                stop_hit = inside and (adverse <= stop_f if long else adverse >= stop_f)
                target_hit = inside and has_target and (
                    favour >= target_f if long else favour <= target_f)
                maker_fill = (gap_target and x > e) or (inside and not stop_hit)
                if gap_stop or gap_target:  # a market order at this open
                    base = o_t[x] if have_ticks else _snap(op, tick_f)
                else:  # the stop (a level on the tick already), or the target's limit
                    base = cstop_t[k] if stop_hit else 0
                is_stop = gap_stop or stop_hit
                if has_lower and stop_hit and target_hit:
                    # the first lower bar inside this one touching a level decides; the stop
                    # when one touches both or none covers the bar (the conservative rule)
                    sgn = 1.0 if long else -1.0
                    jl = np.searchsorted(lower_t, t[x])
                    jl_end = np.searchsorted(lower_t, t[x] + bar_ms)
                    while jl < jl_end:
                        lo_open = lower_o[jl]
                        if sgn * (lo_open - stop_f) <= 0:  # opened through the stop: there
                            base = lower_ot[jl] if have_ticks else _snap(lo_open, tick_f)
                            break
                        if sgn * (lo_open - target_f) >= 0:
                            maker_fill, is_stop = True, False
                            break
                        if sgn * ((lower_l[jl] if long else lower_h[jl]) - stop_f) <= 0:
                            break
                        if sgn * ((lower_h[jl] if long else lower_l[jl]) - target_f) >= 0:
                            maker_fill, is_stop = True, False
                            break
                        jl += 1
                reason = STOP if is_stop else TARGET
            elif sig >= 0 and sig + 1 < n:
                x, reason, by_signal = sig + 1, SIGNAL, True
                base = o_t[x] if have_ticks else _snap(o[x], tick_f)
            else:
                x, reason = n - 1, END
                base = c_t[x] if have_ticks else _snap(c[x], tick_f)
            if maker_fill:
                exit_t = ctarget_t[k, j]
            else:  # a market order: on the tick, then the slippage against us
                if checked and abs(float(base)) * bps_num >= LIMIT:
                    raise OverflowError("backtest amounts beyond 64-bit integers")
                slip = slip_ticks - (-base * bps_num) // bps_den if bps_num else slip_ticks
                exit_t = base - slip if long else base + slip

            # -- money --------------------------------------------------------------------
            if checked and float(q) * abs(float(exit_t)) * max(notional, taker, maker) >= LIMIT:
                raise OverflowError("backtest amounts beyond 64-bit integers")
            efee = fill * q * taker
            xfee = exit_t * q * (maker if maker_fill else taker)
            pnl = (exit_t - fill) * q * sign * notional - efee - xfee
            # MAE/MFE: the extreme prices of the fills and the bars held, on the tick
            # (rounding is monotonic: the tick of the lowest low is the lowest tick)
            low_tick, high_tick = min(fill, exit_t), max(fill, exit_t)
            if low_i >= 0:
                low_tick = min(low_tick, l_t[low_i] if have_ticks else _snap(l[low_i], tick_f))
            if high_i >= 0:
                high_tick = max(high_tick,
                                h_t[high_i] if have_ticks else _snap(h[high_i], tick_f))
            worst, best = (low_tick, high_tick) if long else (high_tick, low_tick)
            out_k[count], out_exit[count], out_reason[count] = k, x, reason
            out_maker[count], out_exit_t[count], out_qty[count] = maker_fill, exit_t, q
            out_efee[count], out_xfee[count], out_pnl[count] = efee, xfee, pnl
            out_mae[count] = (worst - fill) * sign
            out_mfe[count] = (best - fill) * sign
            out_leg[count] = j
            count += 1
            leg_pnl[j], leg_efee[j], leg_x[j], leg_sig[j] = pnl, efee, x, by_signal
            if x > x_max or (x == x_max and reason == END):
                x_max, last_reason = x, reason
        x = x_max
        last_by_signal = False
        for j in range(n_legs):
            if leg_q[j] > 0 and leg_x[j] == x and leg_sig[j]:
                last_by_signal = True
        exposure += x - e + 1 - (1 if last_by_signal else 0)

        # the equity curve: the balance up to the entry, then each leg marked at each close
        # until it exits, its PnL after
        flat = float(balance) / money_scale
        for i in range(filled, e):
            equity[i] = flat
        fill_fl = float(fill * tick_mult) / tick_div
        if n_legs == 1:  # the common case, without the per-leg bookkeeping (same floats)
            units = float(leg_q[0]) * step_f * sign
            held = flat - float(leg_efee[0]) / money_scale - units * fill_fl
            for i in range(e, x):
                equity[i] = held + units * c[i]
        for i in range(e, x if n_legs > 1 else e):
            value = flat
            for j in range(n_legs):
                if leg_q[j] <= 0:
                    continue
                if i < leg_x[j]:
                    units = float(leg_q[j]) * step_f * sign
                    value = value - float(leg_efee[j]) / money_scale - units * fill_fl + (
                        units * c[i])
                else:
                    value = value + float(leg_pnl[j]) / money_scale
            equity[i] = value
        filled = x

        # the daily loss limit, leg by leg in the order they exit: limit % of the UTC day's
        # starting equity (what is still open across midnight marked at the day's first open);
        # reached in realised PnL, no entries until the next day
        q_rem = qty
        for _ in range(n_legs):
            jj = -1
            for j in range(n_legs):
                if not settled[j] and leg_q[j] > 0 and (jj < 0 or leg_x[j] < leg_x[jj]):
                    jj = j
            if jj < 0:
                break
            settled[jj] = True
            pnl = leg_pnl[jj]
            closed_day = t[leg_x[jj]] // DAY_MS
            if closed_day != day:
                day, day_realised, day_start = closed_day, zero, balance
                if t[e] < day * DAY_MS:
                    first = min(np.searchsorted(t, day * DAY_MS), n - 1)
                    mark = o_t[first] if have_ticks else _snap(o[first], tick_f)
                    if checked and float(q_rem) * abs(float(mark)) * notional >= LIMIT:
                        raise OverflowError("backtest amounts beyond 64-bit integers")
                    day_start = (balance - fill * q_rem * taker
                                 + (mark - fill) * q_rem * sign * notional)
                # the limit, day_start x n / d, rounded up (the realised loss is whole units):
                # split as for the size, so no product beyond d x n
                d = 100 * loss_d
                if checked and (float(d) * loss_n >= LIMIT
                                or abs(float(day_start)) * loss_n / d >= LIMIT):
                    raise OverflowError("backtest amounts beyond 64-bit integers")
                day_loss = (day_start // d) * loss_n - (-(day_start % d) * loss_n // d)
            day_realised += pnl
            if checked and abs(float(day_realised)) >= LIMIT:
                raise OverflowError("backtest amounts beyond 64-bit integers")
            if -day_realised >= day_loss:
                blocked_until = (day + 1) * DAY_MS
            balance += pnl
            q_rem -= leg_q[jj]
        if last_reason == END:
            break
        k = int(np.searchsorted(cbar, x))  # flat again at x: its own signal may enter
    flat = float(balance) / money_scale
    for i in range(filled, n):
        equity[i] = flat
    return count, balance, exposure


@njit(cache=True, nogil=True)
def _snap(price, tick_f):
    """``price`` in ticks, rounded to the nearest; :class:`HalfTick` when it is within float
    error of half a tick (its Decimal may be exactly half: the broker then rounds to even)."""
    q = price / tick_f
    if abs(abs(q - np.floor(q)) - 0.5) <= abs(q) * 1e-14:
        raise HalfTick("a price within float error of half a tick")
    return np.int64(np.rint(q))


@njit(cache=True, nogil=True)
def _floors(x, rel):
    """The floors of the ends of ``x``'s error interval (``x`` within relative ``rel`` of an
    exact quotient, whose floor is one of the two)."""
    if x >= 2.0**52:  # beyond any quantity the kernel takes: a cap that does not bind
        return np.inf, np.inf
    return np.floor(x - abs(x) * rel), np.floor(x + abs(x) * rel)


@njit(cache=True, nogil=True)
def _float_size(balance, ref, stop, has_stop, risk_n, risk_d, max_n, max_d, max_quote,
                notional):
    """The risk engine's size in steps for a reference price off the tick grid: the integer
    formulas of :func:`event_pass` (the least of three floors: the risk budget over the stop
    distance, max_position_pct and max_position_quote) in floats. ``balance`` and ``max_quote``
    are money units, ``ref``/``stop`` prices, ``notional`` the money units of one step at price
    1. The floats of the inputs are within half an ulp of the exact values (the reference
    price's Decimal is its float's shortest repr) and each operation adds half an ulp: 1e-15
    covers them; the stop distance adds the two prices' ulps over the distance. The size is
    returned when those bounds leave one possible value, else ``OverflowError``: the runner
    then recomputes exactly in Python integers."""
    if balance <= 0 or ref <= 0:
        return np.int64(0)
    unit = ref * notional
    base_rel = 2e-15
    if has_stop:
        dist = abs(ref - stop)
        x = balance * risk_n / (risk_d * 100.0 * dist * notional)
        rel = base_rel + 2.3e-16 * (abs(ref) + abs(stop)) / dist
    else:
        x, rel = balance / unit, base_rel
    lo1, hi1 = _floors(x, rel)
    lo2, hi2 = _floors(balance * max_n / (max_d * 100.0 * unit), base_rel)
    lo3, hi3 = _floors(max_quote / unit, base_rel)
    low, high = min(lo1, lo2, lo3), min(hi1, hi2, hi3)
    if low >= 2.0**52:
        raise OverflowError("a size beyond 2**52 steps")
    if low != high:
        raise OverflowError("a size too close to a step boundary for floats")
    return np.int64(low)


compiled = njit(cache=True, nogil=True)(event_pass)
"""The compiled walk (its first call in a fresh install compiles it, once: numba caches it)."""
