"""The backtest runner: the strategy's own ``evaluate`` once on the whole history, then one
compiled walk over the entry candidates with the paper broker's fill rules at bar granularity and
the risk engine's sizing and daily loss limit.

Why two phases: signals are vectorised polars (floats, as in live trading), so computing them for
a million bars costs one ``evaluate``. Trades are a sequence (each size depends on the balance
the last one left), so they are walked one after another, compiled (:mod:`kernel`) and in exact
integers (:mod:`units`); what does not depend on the account is prepared for all candidates at
once with numpy (:mod:`candidates`). Trades come back as integer columns (:mod:`trades`), with
``Decimal`` records built when read.

Rules (see ``docs/backtest.md``): a signal at bar t's close fills at bar t+1's open plus slippage
(taker fee); one position at a time; stop = the signal's ``stop``, take-profit = ``target_1``
(both snapped to the tick); a bar touching both takes the stop unless a lower-timeframe frame
orders them; a bar opening beyond the stop fills the stop at that open; the target is a resting
limit (filled at its price, maker fee).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl

from tradeterm.backtest.grid import Bars, Grid
from tradeterm.backtest.trades import BacktestTrade, TradeRecords, TradeTable
from tradeterm.broker.rules import MarketRules
from tradeterm.core.money import ZERO, dec
from tradeterm.core.trading import ClosedTrade

__all__ = ["BacktestConfig", "BacktestResult", "BacktestTrade", "rules_for", "run_backtest",
           "simulate"]

DEFAULT_RULES = MarketRules("", tick=Decimal("0.01"), step=Decimal("0.00001"),
                            min_notional=Decimal(5))
"""Filters when the symbol is unknown: Binance BTC/USDT's (tick 0.01, step 0.00001, 5 USDT)."""


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Account, costs and risk of one backtest; :meth:`from_settings` reads ``[backtest]``
    (slippage; balance and fees default to ``[paper]``'s) and ``[risk]``, so a backtest trades
    like the paper account."""

    rules: MarketRules = DEFAULT_RULES
    starting_balance: Decimal = Decimal(10000)
    taker_fee: Decimal = Decimal("0.001")
    maker_fee: Decimal = Decimal("0.001")
    slippage_ticks: int = 1
    slippage_bps: Decimal = ZERO
    risk_per_trade_pct: Decimal = Decimal(1)
    max_position_pct: Decimal = Decimal(50)
    max_position_quote: Decimal = Decimal(5000)
    daily_loss_limit_pct: Decimal = Decimal(3)
    require_stop: bool = True

    @classmethod
    def from_settings(cls, settings: Any, rules: MarketRules | None = None, **overrides: Any
                      ) -> BacktestConfig:
        paper, risk, bt = settings.paper, settings.risk, settings.backtest

        def either(value: Decimal | None, default: Decimal) -> Decimal:
            return default if value is None else value

        values: dict[str, Any] = {
            "rules": rules or DEFAULT_RULES,
            "starting_balance": either(bt.starting_balance, paper.starting_balance),
            "taker_fee": either(bt.taker_fee, paper.taker_fee),
            "maker_fee": either(bt.maker_fee, paper.maker_fee),
            "slippage_ticks": bt.slippage_ticks,
            "slippage_bps": bt.slippage_bps,
            "risk_per_trade_pct": risk.risk_per_trade_pct,
            "max_position_pct": risk.max_position_pct,
            "max_position_quote": risk.max_position_quote,
            "daily_loss_limit_pct": risk.daily_loss_limit_pct,
            "require_stop": risk.require_stop_for_strategies,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def rules_for(symbol: str) -> MarketRules:
    """The simulator's filters for a symbol it lists (BTC/USDT, ETH/USDT, SOL/USDT), else
    :data:`DEFAULT_RULES` under that symbol's name."""
    from tradeterm.sim.spec import DEFAULT_SPECS

    spec = DEFAULT_SPECS.get(symbol.replace("/", ""))
    if spec is None:
        return MarketRules(symbol, DEFAULT_RULES.tick, DEFAULT_RULES.step,
                           min_notional=DEFAULT_RULES.min_notional)
    return MarketRules(symbol, spec.tick, spec.step, min_notional=spec.min_notional)


@dataclass(slots=True)
class BacktestResult:
    """Trades, the per-bar equity curve and the exact final balance of one run."""

    strategy: str
    symbol: str
    timeframe: str
    timeframe_ms: int
    config: BacktestConfig
    trades: Sequence[BacktestTrade]  # records (built as read when ``table`` is there)
    open_time: np.ndarray  # int64 ms, one per bar
    equity: np.ndarray  # float64 per bar: balance + open position marked at the close
    final_balance: Decimal  # exact: starting balance + sum of trade PnL (fees included)
    exposure_bars: int  # bars with a position open during at least part of the bar
    skipped: dict[str, int] = field(default_factory=dict)  # entry signals not taken, by reason
    params: dict[str, Any] = field(default_factory=dict)
    table: TradeTable | None = None  # the trades as exact integer columns (None: re-read)

    @property
    def closed_trades(self) -> list[ClosedTrade]:
        return [t.trade for t in self.trades]


def run_backtest(
    strategy: Any,
    candles: pl.DataFrame,
    config: BacktestConfig | None = None,
    *,
    symbol: str = "",
    lower: pl.DataFrame | None = None,
    timeframe: str | None = None,
) -> BacktestResult:
    """Evaluate ``strategy`` (a :class:`~tradeterm.strategy.Strategy` instance) once on
    ``candles`` and run the event pass. ``lower``: candles of a lower timeframe covering the same
    period, used only to order a stop and a target touched in the same bar. ``timeframe``: of
    ``candles`` (default: the strategy's)."""
    from tradeterm.core.models import timeframe_ms

    cfg = config or BacktestConfig()
    frame = strategy.evaluate(candles)
    tf = timeframe or strategy.timeframe
    result = simulate(frame, cfg, timeframe_ms(tf), symbol=symbol, strategy=strategy.name,
                      lower=lower)
    result.timeframe = tf
    result.params = strategy.params.model_dump()
    return result



def simulate(
    frame: pl.DataFrame,
    config: BacktestConfig,
    timeframe_ms: int,
    *,
    symbol: str = "",
    strategy: str = "",
    lower: pl.DataFrame | None = None,
) -> BacktestResult:
    """The event pass on an already evaluated frame (candle columns plus the signal columns)."""
    from tradeterm.backtest import kernel
    from tradeterm.backtest.candidates import candidates
    from tradeterm.backtest.codes import SKIP_REASONS
    from tradeterm.backtest.units import (
        LIMIT,
        MoneyUnits,
        decimal_digits,
        on_tick_grid,
        to_units,
    )

    cfg, rules = config, config.rules
    bars = Bars(frame)
    grid = Grid(rules.tick, cfg.slippage_ticks, cfg.slippage_bps)
    if bars.n and max(abs(float(bars.h.max())), abs(float(bars.l.min()))) / grid.tick_f >= 2**52:
        raise ValueError("price beyond 2**52 ticks: not representable exactly")
    flags = {k: frame.get_column(k).cast(pl.Boolean).fill_null(False).to_numpy() for k in
             ("entry_long", "entry_short", "exit_long", "exit_short")}
    cand = candidates(bars, flags, grid, require_stop=cfg.require_stop)

    ref_t = grid.snap(cand.ref)
    on_grid = on_tick_grid(cand.ref, ref_t, grid.floats(ref_t), grid.mant)

    def units_for(ref_digits: int) -> MoneyUnits:
        return MoneyUnits.of(
            tick=rules.tick, step=rules.step, taker=cfg.taker_fee, maker=cfg.maker_fee,
            balance=cfg.starting_balance, max_quote=cfg.max_position_quote,
            min_notional=rules.min_notional, min_qty=rules.min_qty,
            risk_pct=cfg.risk_per_trade_pct, max_pct=cfg.max_position_pct,
            loss_pct=cfg.daily_loss_limit_pct, ref_digits=ref_digits)

    def prices(exact: bool) -> tuple[MoneyUnits, np.ndarray, np.ndarray]:
        """The units, and the reference prices and stops in reference-price units (Python
        integers). Off the tick grid, a reference price is its ``dec()`` when ``exact`` (the
        units then reach its last digit), else 0: the compiled walk sizes it from floats."""
        off = {int(i): dec(float(cand.ref[i])) for i in np.flatnonzero(~on_grid)} if exact else {}
        units = units_for(max((decimal_digits(d) for d in off.values()), default=0))
        ref = ref_t.astype(object) * units.tick_to_price
        ref[~on_grid] = 0
        for i, d in off.items():
            ref[i] = to_units(d, units.price_digits)
        return units, ref, cand.stop_t.astype(object) * units.tick_to_price

    bps = cfg.slippage_bps.as_integer_ratio() if cfg.slippage_bps else (0, 1)
    m, n = cand.size, bars.n
    coarse, ref_c, stop_c = prices(exact=False)
    fits = coarse.fits_int64() and all(
        not a.size or max(abs(int(a.max())), abs(int(a.min()))) < LIMIT
        for a in (ref_c, stop_c, cand.target_t, cand.fill_t))

    def run(exact: bool) -> tuple[tuple[int, int, int], dict[str, np.ndarray], np.ndarray,
                                   np.ndarray, MoneyUnits]:
        """The kernel compiled (``exact`` False: int64, checked) or as Python (unbounded)."""
        ints = object if exact else np.int64
        units, ref, stop_p = prices(exact=True) if exact else (coarse, ref_c, stop_c)
        out = {name: np.zeros(m, dtype=ints) for name in
               ("exit_t", "qty", "entry_fee", "exit_fee", "pnl", "mae", "mfe")}
        out |= {"k": np.zeros(m, dtype=np.int64), "exit": np.zeros(m, dtype=np.int64),
                "reason": np.zeros(m, dtype=np.int8), "maker": np.zeros(m, dtype=bool)}
        skipped = np.zeros(len(SKIP_REASONS), dtype=np.int64)
        equity = np.empty(n)
        low = lower if lower is not None else _NO_LOWER
        lower_cols = [low.get_column(k).to_numpy().astype(dt) for k, dt in
                      (("open_time", np.int64), ("open", np.float64), ("high", np.float64),
                       ("low", np.float64))]
        mult, div = ((grid.mant, float(10 ** -grid.exp)) if grid.exp <= 0
                     else (grid.mant * 10**grid.exp, 1.0))
        u = units
        walk = kernel.event_pass if exact else kernel.compiled
        state = walk(
            bars.t.astype(np.int64), bars.o, bars.h, bars.l, bars.c,
            cand.bar, cand.long, cand.both, cand.invalid, cand.signal,
            on_grid | exact, ref.astype(ints), cand.ref, cand.has_stop, stop_p.astype(ints),
            cand.stop_f,
            cand.has_target, cand.target_t.astype(ints), cand.target_f, cand.fill_t.astype(ints),
            *lower_cols, timeframe_ms,
            grid.tick_f, mult, div, float(rules.step), grid.slip_ticks, bps[0], bps[1] * 10_000,
            u.notional, u.ref_notional, u.taker, u.maker, u.balance, u.max_quote, u.min_notional,
            u.min_qty_steps, *u.risk_pct, *u.max_pct, *u.loss_pct, float(10**u.digits),
            float(10**u.price_digits), not exact,
            out["k"], out["exit"], out["reason"], out["maker"], out["exit_t"], out["qty"],
            out["entry_fee"], out["exit_fee"], out["pnl"], out["mae"], out["mfe"], skipped,
            equity,
        )
        return state, out, skipped, equity, units

    try:
        if not fits:
            raise OverflowError("constants beyond 64-bit integers")
        (count, balance, exposure), out, skipped, equity, units = run(exact=False)
    except OverflowError:
        (count, balance, exposure), out, skipped, equity, units = run(exact=True)
    rows = out["k"][:count]
    e = cand.bar[rows] + 1
    table = TradeTable(
        symbol=symbol, strategy=strategy, tick=rules.tick, step=rules.step,
        taker_fee=cfg.taker_fee, maker_fee=cfg.maker_fee, units=units,
        signal_bar=cand.bar[rows], exit_bar=out["exit"][:count], long=cand.long[rows],
        reason=out["reason"][:count], maker=out["maker"][:count], opened_ms=bars.t[e],
        closed_ms=bars.t[out["exit"][:count]], qty=out["qty"][:count],
        fill_t=cand.fill_t[rows], exit_t=out["exit_t"][:count], stop_t=cand.stop_t[rows],
        has_stop=cand.has_stop[rows], target_t=cand.target_t[rows],
        has_target=cand.has_target[rows], entry_fee=out["entry_fee"][:count],
        exit_fee=out["exit_fee"][:count], pnl=out["pnl"][:count], mae_ticks=out["mae"][:count],
        mfe_ticks=out["mfe"][:count],
    )
    return BacktestResult(
        strategy=strategy, symbol=symbol, timeframe="", timeframe_ms=timeframe_ms, config=cfg,
        trades=TradeRecords(table), open_time=bars.t, equity=equity,
        final_balance=units.money(balance), exposure_bars=int(exposure),
        skipped={r: int(v) for r, v in zip(SKIP_REASONS, skipped, strict=True) if v},
        table=table,
    )


_NO_LOWER = pl.DataFrame(schema={"open_time": pl.Int64, "open": pl.Float64, "high": pl.Float64,
                                 "low": pl.Float64})


def warm_up() -> None:
    """Load (or, once after an install, compile) the compiled walk in this process: a process
    pool started after this finds it in numba's disk cache instead of compiling it in every
    worker at once."""
    frame = pl.DataFrame({
        "open_time": [0, 60_000, 120_000], "open": [100.0, 100.0, 100.0],
        "high": [101.0, 101.0, 101.0], "low": [99.0, 99.0, 99.0], "close": [100.0, 100.0, 100.0],
        "entry_long": [True, False, False], "entry_short": [False, False, False],
        "exit_long": [False, False, False], "exit_short": [False, False, False],
        "stop": [98.0, None, None], "target_1": [None, None, None]})
    simulate(frame, BacktestConfig(), 60_000)
