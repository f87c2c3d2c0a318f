"""Calling the compiled walk (:mod:`kernel`): its arguments from the bars, the entry candidates
and the account, and its answer as a :class:`~trades.TradeTable`.

The walk is tried compiled, in int64 with every product bounded, rounding bar prices to the tick
from their floats; when a price is within float error of half a tick (``kernel.HalfTick``) it
runs again compiled with every bar price's exact ticks; when an amount would not fit
(``OverflowError``, from the kernel or from the constants already), the same function runs as
Python over unbounded integers, with units fine enough for reference prices off the tick grid
(the compiled run sizes those from floats whose floor it can prove, see
``kernel._float_size``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

from tradeterm.backtest import kernel
from tradeterm.backtest.candidates import Candidates
from tradeterm.backtest.codes import SKIP_REASONS
from tradeterm.backtest.grid import Bars, Grid
from tradeterm.backtest.trades import TradeTable
from tradeterm.backtest.units import LIMIT, MoneyUnits, decimal_digits, on_tick_grid, to_units
from tradeterm.core.money import dec

_NO_LOWER = pl.DataFrame(schema={"open_time": pl.Int64, "open": pl.Float64, "high": pl.Float64,
                                 "low": pl.Float64})
_MONEY_COLUMNS = ("exit_t", "qty", "entry_fee", "exit_fee", "pnl", "mae", "mfe")


@dataclass(frozen=True, slots=True)
class WalkResult:
    table: TradeTable
    final_balance: Decimal
    exposure_bars: int
    skipped: dict[str, int]  # entry candidates not taken, by reason
    equity: np.ndarray


class Walk:
    """One backtest's walk: :meth:`run` it."""

    def __init__(self, bars: Bars, grid: Grid, cand: Candidates, config: Any, timeframe_ms: int,
                 lower: pl.DataFrame | None, scale_out: tuple[int, ...] = (1,)) -> None:
        self.bars, self.grid, self.cand, self.cfg = bars, grid, cand, config
        self.leg_w = np.asarray(scale_out, dtype=np.int64)  # one weight per leg
        self.timeframe_ms, self.lower = timeframe_ms, lower if lower is not None else _NO_LOWER
        self.ref_t = grid.snap(cand.ref)
        self.on_grid = on_tick_grid(cand.ref, self.ref_t, grid.floats(self.ref_t), grid.mant)

    def units(self, ref_digits: int) -> MoneyUnits:
        cfg, rules = self.cfg, self.cfg.rules
        return MoneyUnits.of(
            tick=rules.tick, step=rules.step, taker=cfg.taker_fee, maker=cfg.maker_fee,
            balance=cfg.starting_balance, max_quote=cfg.max_position_quote,
            min_notional=rules.min_notional, min_qty=rules.min_qty,
            risk_pct=cfg.risk_per_trade_pct, max_pct=cfg.max_position_pct,
            loss_pct=cfg.daily_loss_limit_pct, ref_digits=ref_digits)

    def prices(self, exact: bool) -> tuple[MoneyUnits, np.ndarray, np.ndarray]:
        """The units, and the reference prices and stops in reference-price units (Python
        integers). Off the tick grid, a reference price is its ``dec()`` when ``exact`` (the
        units then reach its last digit), else 0: the compiled walk sizes it from floats."""
        cand, on_grid = self.cand, self.on_grid
        off = ({int(i): dec(float(cand.ref[i])) for i in np.flatnonzero(~on_grid)} if exact
               else {})
        units = self.units(max((decimal_digits(d) for d in off.values()), default=0))
        ref = self.ref_t.astype(object) * units.tick_to_price
        ref[~on_grid] = 0
        for i, d in off.items():
            ref[i] = to_units(d, units.price_digits)
        return units, ref, cand.stop_t.astype(object) * units.tick_to_price

    def run(self, symbol: str, strategy: str) -> WalkResult:
        units, ref, stop = self.prices(exact=False)
        fits = units.fits_int64() and all(
            not a.size or max(abs(int(a.max())), abs(int(a.min()))) < LIMIT
            for a in (ref, stop, self.cand.leg_target_t, self.cand.fill_t))
        if fits:
            try:
                try:
                    return self._call(units, ref, stop, exact=False, ticks=False,
                                      symbol=symbol, strategy=strategy)
                except kernel.HalfTick:  # again, with the bars' exact ticks
                    return self._call(units, ref, stop, exact=False, ticks=True,
                                      symbol=symbol, strategy=strategy)
            except OverflowError:
                pass
        units, ref, stop = self.prices(exact=True)
        return self._call(units, ref, stop, exact=True, ticks=True, symbol=symbol,
                          strategy=strategy)

    def _call(self, u: MoneyUnits, ref: np.ndarray, stop: np.ndarray, *, exact: bool,
              ticks: bool, symbol: str, strategy: str) -> WalkResult:
        """The kernel compiled (``exact`` False: int64, checked) or as Python (unbounded);
        ``ticks``: with every bar price's exact ticks (else the kernel rounds floats and refuses
        those at half a tick)."""
        bars, grid, cand, cfg = self.bars, self.grid, self.cand, self.cfg
        ints = object if exact else np.int64
        m = cand.size * self.leg_w.size  # a row per leg at most
        out = {name: np.zeros(m, dtype=ints) for name in _MONEY_COLUMNS}
        out |= {"k": np.zeros(m, dtype=np.int64), "exit": np.zeros(m, dtype=np.int64),
                "reason": np.zeros(m, dtype=np.int8), "maker": np.zeros(m, dtype=bool),
                "leg": np.zeros(m, dtype=np.int64)}
        skipped = np.zeros(len(SKIP_REASONS), dtype=np.int64)
        equity = np.empty(bars.n)
        lower = [self.lower.get_column(k).to_numpy().astype(dt) for k, dt in
                 (("open_time", np.int64), ("open", np.float64), ("high", np.float64),
                  ("low", np.float64))]
        none = np.zeros(0, dtype=np.int64)
        bar_ticks = [grid.snap(a) if ticks else none for a in (bars.o, bars.h, bars.l, bars.c)]
        if ticks and exact:
            bar_ticks = [a.astype(object) for a in bar_ticks]
        lower_open = grid.snap(lower[1]) if ticks else none
        bps = cfg.slippage_bps.as_integer_ratio() if cfg.slippage_bps else (0, 1)
        walk: Callable[..., Any] = kernel.event_pass if exact else kernel.compiled
        count, balance, exposure = walk(
            bars.t.astype(np.int64), bars.o, bars.h, bars.l, bars.c, ticks, *bar_ticks,
            cand.bar, cand.long, cand.both, cand.invalid, cand.signal,
            self.on_grid | exact, ref.astype(ints), cand.ref, cand.has_stop, stop.astype(ints),
            cand.stop_t.astype(ints), cand.stop_f, cand.leg_has_target,
            cand.leg_target_t.astype(ints), cand.leg_target_f, cand.fill_t.astype(ints),
            self.leg_w,
            *lower, lower_open.astype(ints), self.timeframe_ms,
            grid.tick_f, grid.mant, float(10**grid.digits), float(cfg.rules.step),
            grid.slip_ticks, bps[0], bps[1] * 10_000,
            u.notional, u.ref_notional, u.taker, u.maker, u.balance,
            u.max_quote if exact else u.capped(u.max_quote),
            u.min_notional if exact else u.capped(u.min_notional),
            u.min_qty_steps, *u.risk_pct, *u.max_pct, *u.loss_pct, float(10**u.digits),
            float(10**u.price_digits), not exact,
            out["k"], out["exit"], out["reason"], out["maker"], out["exit_t"], out["qty"],
            out["entry_fee"], out["exit_fee"], out["pnl"], out["mae"], out["mfe"], out["leg"],
            skipped,
            equity,
        )
        rows = out["k"][:count]
        col = {name: a[:count] for name, a in out.items()}
        table = TradeTable(
            symbol=symbol, strategy=strategy, tick=cfg.rules.tick, step=cfg.rules.step,
            taker_fee=cfg.taker_fee, maker_fee=cfg.maker_fee, units=u,
            signal_bar=cand.bar[rows], exit_bar=col["exit"], long=cand.long[rows],
            reason=col["reason"], maker=col["maker"], opened_ms=bars.t[cand.bar[rows] + 1],
            closed_ms=bars.t[col["exit"]], qty=col["qty"], fill_t=cand.fill_t[rows],
            exit_t=col["exit_t"], stop_t=cand.stop_t[rows], has_stop=cand.has_stop[rows],
            target_t=cand.leg_target_t[rows, col["leg"]],
            has_target=cand.leg_has_target[rows, col["leg"]],
            entry_fee=col["entry_fee"], exit_fee=col["exit_fee"], pnl=col["pnl"],
            mae_ticks=col["mae"], mfe_ticks=col["mfe"],
        )
        return WalkResult(
            table=table, final_balance=u.money(balance), exposure_bars=int(exposure),
            skipped={r: int(v) for r, v in zip(SKIP_REASONS, skipped, strict=True) if v},
            equity=equity,
        )
