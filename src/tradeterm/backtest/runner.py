"""The fast backtest runner: the strategy's own ``evaluate`` once on the whole history, then an
event pass that touches only the bars where something happens, with the paper broker's fill
rules at bar granularity and the risk engine's sizing and daily loss limit.

Why two phases: signals are vectorised polars (floats, as in live trading), so computing them for
a million bars costs one ``evaluate``. Money is not: each trade's fills, fees, PnL and balance are
exact ``Decimal``, but there are only as many of those computations as trades. Everything about
an entry candidate that does not depend on the balance (fills, exit bar and reason, excursions)
is computed for all candidates at once with numpy (:mod:`runner_plan`); the walk here only sizes
and books the trades it takes, in exact ``Decimal``, and jumps from each exit to the next
candidate.

Rules (see ``docs/backtest.md``): a signal at bar t's close fills at bar t+1's open plus slippage
(taker fee); one position at a time; stop = the signal's ``stop``, take-profit = ``target_1``
(both snapped to the tick); a bar touching both takes the stop unless a lower-timeframe frame
orders them; a bar opening beyond the stop fills the stop at that open; the target is a resting
limit (filled at its price, maker fee).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Context, Decimal
from typing import Any

import numpy as np
import polars as pl

from tradeterm.backtest.runner_plan import END, Bars, Grid, Plan
from tradeterm.backtest.runner_scan import LowerFrame
from tradeterm.broker.rules import MarketRules
from tradeterm.core.money import ZERO, dec, to_step
from tradeterm.core.trading import ClosedTrade
from tradeterm.risk.sizing import HUNDRED

DAY_MS = 86_400_000
_DOWN = Context(prec=28, rounding=ROUND_DOWN)
"""Divisions of sizing round down (never more than the budget), as in ``risk.sizing``."""
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


@dataclass(frozen=True, slots=True)
class BacktestTrade:
    """A closed trade plus where it happened in the frame and why it ended."""

    trade: ClosedTrade
    signal_bar: int  # the bar whose close gave the entry signal
    entry_bar: int  # the bar at whose open the entry filled (signal_bar + 1)
    exit_bar: int  # the bar in which the exit filled
    exit_reason: str  # "stop", "target", "signal" or "end"
    stop: Decimal | None
    target: Decimal | None
    initial_risk: Decimal | None  # |entry fill - stop| x quantity (None: no stop)
    entry_fee: Decimal
    exit_fee: Decimal


@dataclass(slots=True)
class BacktestResult:
    """Trades, the per-bar equity curve and the exact final balance of one run."""

    strategy: str
    symbol: str
    timeframe: str
    timeframe_ms: int
    config: BacktestConfig
    trades: list[BacktestTrade]
    open_time: np.ndarray  # int64 ms, one per bar
    equity: np.ndarray  # float64 per bar: balance + open position marked at the close
    final_balance: Decimal  # exact: starting balance + sum of trade PnL (fees included)
    exposure_bars: int  # bars with a position open during at least part of the bar
    skipped: dict[str, int] = field(default_factory=dict)  # entry signals not taken, by reason
    params: dict[str, Any] = field(default_factory=dict)

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


def _lower_frame(lower: pl.DataFrame | None) -> LowerFrame | None:
    if lower is None:
        return None
    return LowerFrame(
        lower.get_column("open_time").to_numpy(), lower.get_column("open").to_numpy(),
        lower.get_column("high").to_numpy(), lower.get_column("low").to_numpy(),
    )


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
    pass_ = _EventPass(frame, config, timeframe_ms, symbol, strategy, _lower_frame(lower))
    pass_.run()
    return BacktestResult(
        strategy=strategy, symbol=symbol, timeframe="", timeframe_ms=timeframe_ms, config=config,
        trades=pass_.trades, open_time=pass_.bars.t, equity=pass_.equity_curve(),
        final_balance=pass_.balance, exposure_bars=pass_.exposure_bars, skipped=pass_.skipped,
    )


@dataclass(slots=True)
class _CurveColumns:
    """Per trade taken, what the equity curve needs (kept as columns: the curve is built once,
    with numpy, at the end)."""

    entry: list[int] = field(default_factory=list)
    exit: list[int] = field(default_factory=list)
    qty: list[Decimal] = field(default_factory=list)
    sign: list[int] = field(default_factory=list)
    fill_t: list[int] = field(default_factory=list)
    entry_fee: list[Decimal] = field(default_factory=list)
    pnl: list[Decimal] = field(default_factory=list)

    def add(self, entry: int, exit_: int, qty: Decimal, sign: int, fill_t: int,
            entry_fee: Decimal, pnl: Decimal) -> None:
        self.entry.append(entry)
        self.exit.append(exit_)
        self.qty.append(qty)
        self.sign.append(sign)
        self.fill_t.append(fill_t)
        self.entry_fee.append(entry_fee)
        self.pnl.append(pnl)


class _EventPass:
    """One walk over the entry candidates of a :class:`~runner_plan.Plan` (whose exits are
    already known); state is the exact balance and the day's realised PnL. Per trade taken it
    does only the ``Decimal`` arithmetic that depends on the balance: size, fees, PnL, R,
    MAE/MFE in quote, the daily loss limit."""

    def __init__(self, frame: pl.DataFrame, cfg: BacktestConfig, tf_ms: int, symbol: str,
                 strategy: str, lower: LowerFrame | None) -> None:
        self.cfg, self.symbol, self.strategy = cfg, symbol, strategy
        self.bars = Bars(frame)
        self.n = self.bars.n
        self.grid = Grid(cfg.rules.tick, cfg.slippage_ticks, cfg.slippage_bps)
        flags = {k: frame.get_column(k).cast(pl.Boolean).fill_null(False).to_numpy() for k in
                 ("entry_long", "entry_short", "exit_long", "exit_short")}
        self.plan = Plan(self.bars, flags, self.grid, require_stop=cfg.require_stop, lower=lower,
                         timeframe_ms=tf_ms)
        self.balance = cfg.starting_balance
        self.trades: list[BacktestTrade] = []
        self.skipped: dict[str, int] = {}
        self.exposure_bars = 0
        self.day = -1
        self.day_start = ZERO
        self.day_limit = ZERO
        self.day_realised = ZERO
        self.blocked_until = -1
        self.curve = _CurveColumns()

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def run(self) -> None:
        """Walk the candidates: skip what the rules refuse, trade the rest, and after a trade
        jump to the first candidate at or after its exit bar. One loop with local names: it
        runs once per candidate reached, and attribute look-ups would be a good part of it."""
        p, cfg, curve = self.plan, self.cfg, self.curve
        bar, both, invalid, entry_ms = p.bar, p.both, p.invalid, p.entry_ms
        pending, ref_f, reasons, nxt = p.pending_l, p.ref, p.reasons, p.next
        tick, taker, maker_fee = self.grid.tick, cfg.taker_fee, cfg.maker_fee
        symbol, strategy = self.symbol, self.strategy or None
        append = self.trades.append
        n, m, k = self.n, len(bar), 0
        while k < m:
            s = bar[k]
            if s + 1 >= n:
                self._skip("no next bar")
                return
            if both[k]:
                self._skip("long and short on one bar")
                k += 1
                continue
            if entry_ms[k] < self.blocked_until:
                self._skip("daily_loss_limit")
                cursor = max(s + 1, int(self.bars.t.searchsorted(self.blocked_until)) - 1)
                k = bisect_left(bar, cursor)
                continue
            ref = dec(ref_f[k])
            if invalid[k]:
                self._skip(invalid[k])
                k += 1
                continue
            if pending[k]:
                p.resolve(k)
            stop = Decimal(p.stop_t[k]) * tick if p.has_stop[k] else None
            fill = Decimal(p.fill_t[k]) * tick
            qty = self._size(ref, stop, fill)
            if qty is None:
                k += 1
                continue
            long = p.long[k]
            sign = 1 if long else -1
            price = Decimal(p.exit_t[k]) * tick
            entry_fee = fill * qty * taker
            exit_fee = price * qty * (maker_fee if p.maker[k] else taker)
            pnl = (price - fill) * qty * sign - entry_fee - exit_fee
            risk = abs(fill - stop) * qty if stop is not None else None
            # MAE/MFE: the plan's extreme prices, in ticks from the fill (signed for the side)
            mae_d, mfe_d = p.mae_d[k], p.mfe_d[k]
            opened_ms, closed_ms = entry_ms[k], p.exit_ms[k]
            exit_bar, reason = p.exit_bar[k], reasons[k]
            trade = ClosedTrade(
                symbol, "buy" if long else "sell", qty, fill, price, opened_ms, closed_ms, pnl,
                entry_fee + exit_fee, pnl / risk if risk else None,
                Decimal(mae_d) * tick * qty if mae_d < 0 else ZERO,
                Decimal(mfe_d) * tick * qty if mfe_d > 0 else ZERO, strategy,
            )
            append(BacktestTrade(
                trade, s, s + 1, exit_bar, reason, stop,
                Decimal(p.target_t[k]) * tick if p.has_target[k] else None, risk, entry_fee,
                exit_fee,
            ))
            curve.add(s + 1, exit_bar, qty, sign, p.fill_t[k], entry_fee, pnl)
            self.exposure_bars += p.exposure[k]
            if closed_ms // DAY_MS != self.day:
                self._new_day(closed_ms // DAY_MS, opened_ms, fill, qty, sign, entry_fee)
            self.day_realised += pnl
            if self.day_realised <= -self.day_limit:
                self.blocked_until = (self.day + 1) * DAY_MS
            self.balance += pnl
            if reason == END:
                return
            k = nxt[k]

    def _size(self, ref: Decimal, stop: Decimal | None, fill: Decimal) -> Decimal | None:
        """The risk engine's size (risk % of equity / stop distance, floored to the step), capped
        by the position limits; None (and a skip reason) when the exchange would refuse it.
        ``size_for_stop``'s and ``position_cap``'s formulas with one shared rounding-down context
        (``localcontext`` would cost more than the arithmetic: this runs once per trade)."""
        cfg, rules, down = self.cfg, self.cfg.rules, _DOWN
        equity, step = self.balance, rules.step  # flat between trades: equity is the balance
        if stop is not None:
            budget = down.divide(down.multiply(equity, cfg.risk_per_trade_pct), HUNDRED)
            qty = to_step(down.divide(budget, abs(ref - stop)), step) if budget > 0 else ZERO
        else:
            qty = to_step(down.divide(equity, ref), step)
        if ref > ZERO:  # position_cap: max_position_pct of equity and max_position_quote
            quote = min(down.divide(down.multiply(equity, cfg.max_position_pct), HUNDRED),
                        cfg.max_position_quote)
            units = down.divide(quote, ref)
            cap = (down.multiply(down.divide(units, step).to_integral_value(rounding=ROUND_DOWN),
                                 step) if step > 0 else units)
        else:
            cap = ZERO
        qty = min(qty, cap)
        if qty <= ZERO or qty < rules.min_qty:
            self._skip("size below the minimum quantity")
            return None
        if qty * fill < rules.min_notional:
            self._skip("notional below the minimum")
            return None
        return qty

    def _new_day(self, day: int, opened_ms: int, fill: Decimal, qty: Decimal, sign: int,
                 entry_fee: Decimal) -> None:
        """The risk engine's daily loss limit starts a UTC day: ``limit %`` of the day's starting
        equity (the balance, plus a position open across midnight marked at the day's first
        open; its entry fee is already out of the balance). Reaching ``-limit`` in realised PnL
        after fees blocks entries until the next 00:00 UTC."""
        start = day * DAY_MS
        self.day, self.day_realised, self.day_start = day, ZERO, self.balance
        if opened_ms < start:
            bars = self.bars
            first = min(int(bars.t.searchsorted(start)), self.n - 1)
            mark = self.grid.decimal(int(self.grid.snap(bars.o[first:first + 1])[0]))
            self.day_start = self.balance - entry_fee + (mark - fill) * qty * sign
        self.day_limit = self.day_start * self.cfg.daily_loss_limit_pct / HUNDRED

    # -- the curve ------------------------------------------------------------------------------

    def equity_curve(self) -> np.ndarray:
        """Balance plus the open position marked at each close (float64: for ratios and charts;
        the money itself is in the trades and :attr:`balance`). The balance is the running sum
        of its changes (entry fee at the entry bar, PnL net of it at the exit bar); the position
        is ``q`` units bought for ``k`` from the entry bar up to the exit bar (trades never
        overlap), so its value is ``q x close - k`` there and 0 elsewhere."""
        n, cols = self.n, self.curve
        delta = np.zeros(n)
        q = k = np.zeros(0)
        e = x = np.zeros(0, dtype=np.int64)
        if cols.entry:
            e, x = np.array(cols.entry), np.array(cols.exit)
            q = np.array([float(v) for v in cols.qty]) * np.array(cols.sign, dtype=np.float64)
            fee = np.array([float(v) for v in cols.entry_fee])
            k = q * self.grid.floats(np.array(cols.fill_t))
            delta[e] = -fee
            delta[x] += np.array([float(p + f) for p, f in zip(cols.pnl, cols.entry_fee,
                                                                 strict=True)])
        bounds = np.concatenate(([0], np.column_stack((e, x)).ravel(), [n]))
        held = np.zeros(2 * q.size + 1)
        lengths = np.diff(bounds)
        held[1::2] = q
        units = np.repeat(held, lengths)
        held[1::2] = k
        cost = np.repeat(held, lengths)
        balance = float(self.cfg.starting_balance) + np.cumsum(delta)
        return balance + (units * self.bars.c - cost)
