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
from tradeterm.core.markets import DEMO_MARKETS
from tradeterm.core.money import ZERO
from tradeterm.core.scale_out import leg_weights
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
    spec = DEMO_MARKETS.get(symbol.replace("/", ""))
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
    # entry signals whose target_1 is closer than the round-trip fee plus slippage, of the
    # entry signals with a valid stop (a warning: such a target loses money when it is hit)
    close_targets: tuple[int, int] = (0, 0)

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
                      lower=lower, scale_out=tuple(getattr(strategy, "scale_out", ())))
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
    scale_out: tuple[float, ...] = (),
) -> BacktestResult:
    """The event pass on an already evaluated frame (candle columns plus the signal columns).
    ``scale_out``: the shares of the position taken off at ``target_1``, ``target_2``,
    ``target_3`` (a strategy's ``scale_out``); empty: all of it at ``target_1``."""
    from tradeterm.backtest.candidates import candidates
    from tradeterm.backtest.walk import Walk

    cfg = config
    bars = Bars(frame)
    grid = Grid(cfg.rules.tick, cfg.slippage_ticks, cfg.slippage_bps)
    if bars.n and max(abs(float(bars.h.max())), abs(float(bars.l.min()))) / grid.tick_f >= 2**52:
        raise ValueError("price beyond 2**52 ticks: not representable exactly")
    flags = {k: frame.get_column(k).cast(pl.Boolean).fill_null(False).to_numpy() for k in
             ("entry_long", "entry_short", "exit_long", "exit_short")}
    weights = leg_weights(scale_out)
    cand = candidates(bars, flags, grid, require_stop=cfg.require_stop, legs=len(weights))
    done = Walk(bars, grid, cand, cfg, timeframe_ms, lower, weights).run(symbol, strategy)
    close = targets_within_costs(cand.ref, cand.target_f, cand.has_target,
                                 ~cand.both & (cand.invalid == 0), cfg)
    return BacktestResult(
        strategy=strategy, symbol=symbol, timeframe="", timeframe_ms=timeframe_ms, config=cfg,
        trades=TradeRecords(done.table), open_time=bars.t, equity=done.equity,
        final_balance=done.final_balance, exposure_bars=done.exposure_bars,
        skipped=done.skipped, table=done.table, close_targets=close,
    )


def round_trip_cost(price: np.ndarray, config: BacktestConfig) -> np.ndarray:
    """What a round trip costs per unit at ``price`` (floats: a warning's threshold, not
    money): the taker fee in, the maker fee out (a target is a resting limit) and the
    slippage of both fills (``slippage_ticks`` ticks plus ``slippage_bps``)."""
    slip = config.slippage_ticks * float(config.rules.tick) + price * float(
        config.slippage_bps) / 10_000
    return price * float(config.taker_fee + config.maker_fee) + 2 * slip


def targets_within_costs(ref: np.ndarray, target: np.ndarray, has_target: np.ndarray,
                         valid: np.ndarray, config: BacktestConfig) -> tuple[int, int]:
    """(entry signals whose target is closer to the reference price than
    :func:`round_trip_cost`, valid entry signals): a target that near gives a loss when hit."""
    with np.errstate(invalid="ignore"):
        near = valid & has_target & (np.abs(target - ref) < round_trip_cost(ref, config))
    return int(near.sum()), int(valid.sum())


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
