"""A straightforward bar-by-bar backtester written from ``docs/backtest.md``, to pin the fast
runner (bulk numpy plan in integer ticks + a walk over the entry candidates) to the rules.

Deliberately naive: one loop over every bar, prices snapped with ``to_tick(dec(x))``, sizes from
the risk module's own ``size_for_stop`` and ``position_cap``, the daily loss limit tracked as
the bars go by. Slow (Python per bar), so the tests feed it a few thousand bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal, localcontext

import numpy as np
import polars as pl
import pytest

from tradeterm.backtest.runner import BacktestConfig, BacktestResult, simulate
from tradeterm.core.money import ZERO, dec, to_step, to_tick
from tradeterm.risk.sizing import HUNDRED, position_cap, size_for_stop

DAY_MS = 86_400_000


@dataclass
class RefTrade:
    long: bool
    signal_bar: int
    entry_bar: int
    exit_bar: int
    reason: str
    quantity: Decimal
    entry_price: Decimal
    exit_price: Decimal
    stop: Decimal | None
    target: Decimal | None
    entry_fee: Decimal
    exit_fee: Decimal
    pnl: Decimal
    mae: Decimal
    mfe: Decimal


@dataclass
class RefResult:
    trades: list[RefTrade]
    final_balance: Decimal
    skipped: dict[str, int]


def _col(frame: pl.DataFrame, name: str) -> list[float]:
    if name not in frame.columns:
        return [float("nan")] * frame.height
    return frame.get_column(name).cast(pl.Float64).fill_null(float("nan")).to_list()


class _Reference:
    def __init__(self, frame: pl.DataFrame, cfg: BacktestConfig, tf_ms: int,
                 lower: pl.DataFrame | None) -> None:
        self.cfg, self.tf_ms, self.lower = cfg, tf_ms, lower
        self.t = frame.get_column("open_time").to_list()
        self.o, self.h, self.l, self.c = (_col(frame, k) for k in ("open", "high", "low", "close"))
        self.stop, self.target = _col(frame, "stop"), _col(frame, "target_1")
        self.entry = _col(frame, "entry")
        self.flags = {k: frame.get_column(k).to_list() for k in
                      ("entry_long", "entry_short", "exit_long", "exit_short")}
        self.balance = cfg.starting_balance
        self.skipped: dict[str, int] = {}
        self.trades: list[RefTrade] = []
        self.day, self.day_start, self.day_pnl, self.blocked_until = -1, ZERO, ZERO, -1

    def snap(self, price: float) -> Decimal:
        return to_tick(dec(price), self.cfg.rules.tick)

    def market(self, price: float, buy: bool) -> Decimal:
        base = self.snap(price)
        slip = self.cfg.rules.tick * self.cfg.slippage_ticks
        slip += to_step(base * self.cfg.slippage_bps / Decimal(10_000), self.cfg.rules.tick,
                        ROUND_CEILING)
        return base + slip if buy else base - slip

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def size(self, ref: Decimal, stop: Decimal | None, fill: Decimal) -> Decimal | None:
        cfg, rules = self.cfg, self.cfg.rules
        if stop is not None:
            qty = size_for_stop(ref, stop, self.balance, cfg.risk_per_trade_pct, rules.step)
        else:
            with localcontext() as ctx:
                ctx.rounding = ROUND_DOWN
                qty = self.balance / ref
            qty = to_step(qty, rules.step)
        qty = min(qty, position_cap(ref, self.balance, cfg.max_position_pct,
                                    cfg.max_position_quote, rules.step))
        if qty <= ZERO or qty < rules.min_qty:
            self.skip("size below the minimum quantity")
            return None
        if qty * fill < rules.min_notional:
            self.skip("notional below the minimum")
            return None
        return qty

    def lower_says_target(self, i: int, stop: Decimal, target: Decimal, long: bool
                          ) -> tuple[bool, float | None]:
        """The first lower bar inside bar ``i`` touching a level decides (the stop when one
        touches both); (target first?, gap open when it opened through the stop)."""
        assert self.lower is not None
        sub = self.lower.filter((pl.col("open_time") >= self.t[i])
                                & (pl.col("open_time") < self.t[i] + self.tf_ms))
        sf, tf = float(stop), float(target)
        for o, h, low in zip(sub["open"], sub["high"], sub["low"], strict=True):
            if (o <= sf) if long else (o >= sf):
                return False, o
            if (o >= tf) if long else (o <= tf):
                return True, None
            if (low <= sf) if long else (h >= sf):
                return False, None
            if (h >= tf) if long else (low <= tf):
                return True, None
        return False, None

    def run(self) -> RefResult:
        n = len(self.t)
        pos: dict | None = None
        pending_entry: dict | None = None
        exit_at: int | None = None  # bar at whose open a signalled exit fills
        for i in range(n):
            if pending_entry is not None:  # the signal at i-1 fills at this open
                pos, pending_entry = pending_entry, None
                pos["entry_bar"] = i
                pos["fill"] = self.market(self.o[i], pos["long"])
            elif pos is not None and exit_at == i:
                self.close(pos, i, self.market(self.o[i], not pos["long"]), "signal", False)
                pos, exit_at = None, None
            if pos is not None and self.intrabar(pos, i):
                pos, exit_at = None, None  # flat at this close: an entry here may be taken
            if pos is not None:  # still open at the close: only an exit signal matters
                side = "exit_long" if pos["long"] else "exit_short"
                if self.flags[side][i] and exit_at is None and i + 1 < n:
                    exit_at = i + 1
                continue
            if not (self.flags["entry_long"][i] or self.flags["entry_short"][i]):
                continue
            if i + 1 >= n:
                self.skip("no next bar")
                continue
            if self.flags["entry_long"][i] and self.flags["entry_short"][i]:
                self.skip("long and short on one bar")
                continue
            if self.t[i + 1] < self.blocked_until:
                self.skip("daily_loss_limit")  # every entry refused while halted
                continue
            pending_entry = self.entry_order(i)
        if pos is not None:
            self.close(pos, n - 1, self.market(self.c[n - 1], not pos["long"]), "end", False)
        return RefResult(self.trades, self.balance, self.skipped)

    def entry_order(self, i: int) -> dict | None:
        long = bool(self.flags["entry_long"][i])
        sign = 1 if long else -1
        ref_f = self.entry[i] if not np.isnan(self.entry[i]) else self.c[i]
        ref = dec(ref_f)
        stop = None if np.isnan(self.stop[i]) else self.snap(self.stop[i])
        if stop is not None and (ref - stop) * sign <= 0:
            self.skip("stop on the wrong side")
            return None
        if stop is None and self.cfg.require_stop:
            self.skip("no stop")
            return None
        target = None if np.isnan(self.target[i]) else self.snap(self.target[i])
        if target is not None and (target - ref) * sign <= 0:
            target = None
        qty = self.size(ref, stop, self.market(self.o[i + 1], long))
        if qty is None:
            return None
        return {"long": long, "signal_bar": i, "qty": qty, "stop": stop, "target": target}

    def intrabar(self, pos: dict, i: int) -> bool:
        long, stop, target = pos["long"], pos["stop"], pos["target"]
        o, h, low = self.o[i], self.h[i], self.l[i]
        sf = float(stop) if stop is not None else None
        tf = float(target) if target is not None else None
        if sf is not None and ((o <= sf) if long else (o >= sf)):
            return self.close(pos, i, self.market(o, not long), "stop", False)
        if tf is not None and ((o >= tf) if long else (o <= tf)):
            if i == pos["entry_bar"]:
                return self.close(pos, i, self.market(o, not long), "target", False)
            return self.close(pos, i, target, "target", True)
        stop_hit = sf is not None and ((low <= sf) if long else (h >= sf))
        target_hit = tf is not None and ((h >= tf) if long else (low <= tf))
        if stop_hit and target_hit and self.lower is not None:
            first_target, gap = self.lower_says_target(i, stop, target, long)
            if first_target:
                return self.close(pos, i, target, "target", True)
            price = gap if gap is not None else sf
            return self.close(pos, i, self.market(price, not long), "stop", False)
        if stop_hit:
            return self.close(pos, i, self.market(sf, not long), "stop", False)
        if target_hit:
            return self.close(pos, i, target, "target", True)
        return False

    def close(self, pos: dict, i: int, price: Decimal, reason: str, maker: bool) -> bool:
        cfg, long, qty, fill = self.cfg, pos["long"], pos["qty"], pos["fill"]
        sign = 1 if long else -1
        entry_fee = fill * qty * cfg.taker_fee
        exit_fee = price * qty * (cfg.maker_fee if maker else cfg.taker_fee)
        pnl = (price - fill) * qty * sign - entry_fee - exit_fee
        e = pos["entry_bar"]
        held_to = i if reason == "end" else i - 1
        lows = [float(fill), float(price)] + self.l[e:held_to + 1]
        highs = [float(fill), float(price)] + self.h[e:held_to + 1]
        worst, best = (min(lows), max(highs)) if long else (max(highs), min(lows))
        mae = min(ZERO, (self.snap(worst) - fill) * qty * sign)
        mfe = max(ZERO, (self.snap(best) - fill) * qty * sign)
        self.trades.append(RefTrade(long, pos["signal_bar"], e, i, reason, qty, fill, price,
                                    pos["stop"], pos["target"], entry_fee, exit_fee, pnl, mae,
                                    mfe))
        day = self.t[i] // DAY_MS
        if day != self.day:
            self.day, self.day_pnl = day, ZERO
            self.day_start = self.balance
            if self.t[e] < day * DAY_MS:  # open across midnight: marked at the day's first open
                first = next(j for j in range(len(self.t)) if self.t[j] >= day * DAY_MS)
                mark = self.snap(self.o[first])
                self.day_start = self.balance - entry_fee + (mark - fill) * qty * sign
        self.day_pnl += pnl
        if self.day_pnl <= -(self.day_start * cfg.daily_loss_limit_pct / HUNDRED):
            self.blocked_until = (day + 1) * DAY_MS
        self.balance += pnl
        return True


def reference_backtest(frame: pl.DataFrame, cfg: BacktestConfig, timeframe_ms: int,
                       lower: pl.DataFrame | None = None) -> RefResult:
    return _Reference(frame, cfg, timeframe_ms, lower).run()


def assert_same(frame: pl.DataFrame, cfg: BacktestConfig, lower: pl.DataFrame | None = None,
                timeframe_ms: int = 900_000, compiled: bool = True) -> BacktestResult:
    """The runner's result on ``frame``, after checking every trade against the reference, and
    that the walk ran compiled (int64) or, with ``compiled=False``, as exact Python."""
    fast = simulate(frame, cfg, timeframe_ms, lower=lower)
    assert fast.table is not None
    assert fast.table.pnl.dtype == (np.int64 if compiled else object)
    ref = reference_backtest(frame, cfg, timeframe_ms, lower)
    assert len(fast.trades) == len(ref.trades)
    for bt, r in zip(fast.trades, ref.trades, strict=True):
        t = bt.trade
        assert (bt.signal_bar, bt.entry_bar, bt.exit_bar, bt.exit_reason, t.side) == (
            r.signal_bar, r.entry_bar, r.exit_bar, r.reason, "buy" if r.long else "sell")
        assert (t.quantity, t.entry_price, t.exit_price, bt.stop, bt.target) == (
            r.quantity, r.entry_price, r.exit_price, r.stop, r.target)
        assert (bt.entry_fee, bt.exit_fee, t.fees, t.pnl, t.mae, t.mfe) == (
            r.entry_fee, r.exit_fee, r.entry_fee + r.exit_fee, r.pnl, r.mae, r.mfe)
    assert fast.final_balance == ref.final_balance
    assert fast.skipped == ref.skipped
    assert fast.equity[-1] == pytest.approx(float(fast.final_balance))
    return fast
