"""The fast backtest runner: the strategy's own ``evaluate`` once on the whole history, then an
event pass that touches only the bars where something happens, with the paper broker's fill
rules at bar granularity and the risk engine's sizing and daily loss limit.

Why two phases: signals are vectorised polars (floats, as in live trading), so computing them for
a million bars costs one ``evaluate``. Money is not: each trade's fills, fees, PnL and balance are
exact ``Decimal``, but there are only as many of those computations as trades. Between an entry
and its exit nothing is computed per bar: :func:`runner_scan.first_touch` finds the first bar that
reaches the stop or target with numpy, bounded by the next exit signal (found by binary search in
the precomputed signal indices).

Rules (see ``docs/backtest.md``): a signal at bar t's close fills at bar t+1's open plus slippage
(taker fee); one position at a time; stop = the signal's ``stop``, take-profit = ``target_1``
(both snapped to the tick); a bar touching both takes the stop unless a lower-timeframe frame
orders them; a bar opening beyond the stop fills the stop at that open; the target is a resting
limit (filled at its price, maker fee).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, Context, Decimal
from math import isnan
from typing import Any

import numpy as np
import polars as pl

from tradeterm.backtest.runner_scan import STOP, TARGET, LowerFrame, first_touch
from tradeterm.broker.rules import MarketRules
from tradeterm.core.money import ZERO, dec, to_step
from tradeterm.core.trading import ClosedTrade
from tradeterm.risk.sizing import HUNDRED

DAY_MS = 86_400_000
_DOWN = Context(prec=28, rounding=ROUND_DOWN)
"""Divisions of sizing round down (never more than the budget), as in ``risk.sizing``."""
BPS = Decimal(10_000)
DEFAULT_RULES = MarketRules("", tick=Decimal("0.01"), step=Decimal("0.00001"),
                            min_notional=Decimal(5))
"""Filters when the symbol is unknown: Binance BTC/USDT's (tick 0.01, step 0.00001, 5 USDT)."""


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Account, costs and risk of one backtest; :meth:`from_settings` reads ``[paper]`` and
    ``[risk]`` so a backtest trades like the paper account."""

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
        paper, risk = settings.paper, settings.risk
        values: dict[str, Any] = {
            "rules": rules or DEFAULT_RULES,
            "starting_balance": paper.starting_balance,
            "taker_fee": paper.taker_fee,
            "maker_fee": paper.maker_fee,
            "risk_per_trade_pct": risk.risk_per_trade_pct,
            "max_position_pct": risk.max_position_pct,
            "max_position_quote": risk.max_position_quote,
            "daily_loss_limit_pct": risk.daily_loss_limit_pct,
            "require_stop": risk.require_stop_for_strategies,
        }
        values.update(overrides)
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


def _column(frame: pl.DataFrame, name: str) -> np.ndarray:
    if name not in frame.columns:
        return np.full(frame.height, np.nan)
    return frame.get_column(name).cast(pl.Float64).fill_null(np.nan).to_numpy()


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
        trades=pass_.trades, open_time=pass_.t, equity=pass_.equity_curve(),
        final_balance=pass_.balance, exposure_bars=pass_.exposure_bars, skipped=pass_.skipped,
    )


class _EventPass:
    """One pass over the entry candidates; state is the exact balance and the day's loss."""

    def __init__(self, frame: pl.DataFrame, cfg: BacktestConfig, tf_ms: int, symbol: str,
                 strategy: str, lower: LowerFrame | None) -> None:
        self.cfg, self.tf_ms, self.symbol, self.strategy, self.lower = (
            cfg, tf_ms, symbol, strategy, lower)
        self.n = frame.height
        self.t = frame.get_column("open_time").to_numpy()
        self.o, self.h, self.l, self.c = (_column(frame, k) for k in ("open", "high", "low", "close"))
        self.stop, self.target = _column(frame, "stop"), _column(frame, "target_1")
        self.entry_ref = _column(frame, "entry") if "entry" in frame.columns else self.c
        flags = {k: frame.get_column(k).to_numpy() for k in
                 ("entry_long", "entry_short", "exit_long", "exit_short")}
        self.entry_long = flags["entry_long"]
        self.both = flags["entry_long"] & flags["entry_short"]
        self.candidates = np.flatnonzero(flags["entry_long"] | flags["entry_short"])
        self.exits = {True: np.flatnonzero(flags["exit_long"]),
                      False: np.flatnonzero(flags["exit_short"])}
        self.balance = cfg.starting_balance
        self.trades: list[BacktestTrade] = []
        self.skipped: dict[str, int] = {}
        self.exposure_bars = 0
        self.day = -1
        self.day_start = ZERO
        self.day_realised = ZERO
        self.blocked_until = -1
        self.tick = cfg.rules.tick
        self.tick_f = float(self.tick)
        self.tick_slip = self.tick * cfg.slippage_ticks

    # -- prices ---------------------------------------------------------------------------------

    def _snap(self, price: float) -> Decimal:
        """A float price on the tick grid (nearest tick). Through one float division, not
        ``dec`` + ``to_tick``: 10x cheaper, and equal for every price that is not within float
        error of a half tick (prices on the grid, as exchanges send them, are exact)."""
        if self.tick_f > 0:
            return Decimal(round(float(price) / self.tick_f)) * self.tick
        return dec(float(price))

    def _market(self, price: float, buy: bool) -> Decimal:
        """A market fill near ``price``: on the tick, then slippage against us (ticks + bps,
        the bps part rounded to the tick away from us)."""
        base = self._snap(price)
        slip = self.tick_slip
        if self.cfg.slippage_bps:
            extra = base * self.cfg.slippage_bps / BPS
            tick = self.cfg.rules.tick
            slip += to_step(extra, tick, ROUND_CEILING) if tick > 0 else extra
        return base + slip if buy else base - slip

    # -- the pass -------------------------------------------------------------------------------

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def run(self) -> None:
        cursor = 0
        cands = self.candidates
        while True:
            k = int(cands.searchsorted(cursor))
            if k >= cands.size:
                return
            s = int(cands[k])
            if s + 1 >= self.n:
                self._skip("no next bar")
                return
            cursor = s + 1
            if self.both[s]:
                self._skip("long and short on one bar")
                continue
            if self.t[s + 1] < self.blocked_until:
                self._skip("daily_loss_limit")
                cursor = max(cursor, int(self.t.searchsorted(self.blocked_until)) - 1)
                continue
            flat_from = self._trade(s)
            if flat_from is None:
                continue
            if flat_from >= self.n:
                return
            cursor = flat_from

    def _trade(self, s: int) -> int | None:
        """Open on signal bar ``s`` and close; the first signal bar at whose close we are flat
        again (None: entry not taken)."""
        cfg, long = self.cfg, bool(self.entry_long[s])
        sign = 1 if long else -1
        ref_f = float(self.entry_ref[s])  # math.isnan on floats: np.isnan on scalars is slow
        ref = dec(ref_f if not isnan(ref_f) else float(self.c[s]))
        stop: Decimal | None = None
        stop_f, target_f = float(self.stop[s]), float(self.target[s])
        if not isnan(stop_f):
            stop = self._snap(stop_f)
            if (ref - stop) * sign <= 0:
                self._skip("stop on the wrong side")
                return None
        elif cfg.require_stop:
            self._skip("no stop")
            return None
        target = None if isnan(target_f) else self._snap(target_f)
        if target is not None and (target - ref) * sign <= 0:
            target = None
        e = s + 1
        fill = self._market(self.o[e], long)
        qty = self._size(ref, stop, fill)
        if qty is None:
            return None
        entry_fee = fill * qty * cfg.taker_fee
        exit_bar, price, reason, maker = self._exit(e, long, stop, target, fill)
        exit_fee = price * qty * (cfg.maker_fee if maker else cfg.taker_fee)
        pnl = (price - fill) * qty * sign - entry_fee - exit_fee
        risk = abs(fill - stop) * qty if stop is not None else None
        held_to = exit_bar if reason == "end" else exit_bar - 1  # bars held from open to close
        mae, mfe = self._excursions(e, held_to, long, fill, price, qty)
        closed_ms = int(self.t[exit_bar])
        trade = ClosedTrade(
            symbol=self.symbol, side="buy" if long else "sell", quantity=qty,
            entry_price=fill, exit_price=price, opened_ms=int(self.t[e]), closed_ms=closed_ms,
            pnl=pnl, fees=entry_fee + exit_fee,
            r_multiple=pnl / risk if risk else None, mae=mae, mfe=mfe,
            strategy=self.strategy or None,
        )
        self.trades.append(BacktestTrade(trade, s, e, exit_bar, reason, stop, target, risk,
                                         entry_fee, exit_fee))
        self.exposure_bars += (exit_bar if reason != "signal" else exit_bar - 1) - e + 1
        self._on_close(closed_ms, pnl, trade)
        self.balance += pnl
        if reason == "end":
            return self.n
        return exit_bar

    def _size(self, ref: Decimal, stop: Decimal | None, fill: Decimal) -> Decimal | None:
        """The risk engine's size (risk % of equity / stop distance, floored to the step), capped
        by the position limits; None (and a skip reason) when the exchange would refuse it."""
        cfg, rules = self.cfg, self.cfg.rules
        equity = self.balance  # flat between trades: equity is the balance
        down = _DOWN
        if stop is not None:  # size_for_stop's formula, with a shared context (it is hot here)
            distance = abs(ref - stop)
            budget = down.divide(down.multiply(equity, cfg.risk_per_trade_pct), HUNDRED)
            qty = to_step(down.divide(budget, distance), rules.step) if budget > 0 else ZERO
        else:
            qty = to_step(down.divide(equity, ref), rules.step)
        cap_quote = min(down.divide(down.multiply(equity, cfg.max_position_pct), HUNDRED),
                        cfg.max_position_quote)
        cap = to_step(down.divide(cap_quote, ref), rules.step, ROUND_DOWN)
        qty = min(qty, cap)
        if qty <= ZERO or qty < rules.min_qty:
            self._skip("size below the minimum quantity")
            return None
        if qty * fill < rules.min_notional:
            self._skip("notional below the minimum")
            return None
        return qty

    def _exit(self, e: int, long: bool, stop: Decimal | None, target: Decimal | None, fill: Decimal
              ) -> tuple[int, Decimal, str, bool]:
        """(exit bar, price, reason, maker?) for a position opened at bar ``e``'s open."""
        exits = self.exits[long]
        j = int(exits.searchsorted(e))
        signal_bar = int(exits[j]) if j < exits.size else -1
        end = signal_bar if signal_bar >= 0 else self.n - 1
        stop_f = float(stop) if stop is not None else (-np.inf if long else np.inf)
        target_f = float(target) if target is not None else None
        k = first_touch(self.l, self.h, e, end, stop_f, target_f, long)
        if k >= 0:
            return self._intrabar(k, e, long, stop, target, stop_f, target_f)
        if signal_bar >= 0 and signal_bar + 1 < self.n:
            x = signal_bar + 1
            return x, self._market(self.o[x], not long), "signal", False
        last = self.n - 1
        return last, self._market(self.c[last], not long), "end", False

    def _intrabar(self, k: int, e: int, long: bool, stop: Decimal | None, target: Decimal | None,
                  stop_f: float, target_f: float | None) -> tuple[int, Decimal, str, bool]:
        sign = 1.0 if long else -1.0
        o = float(self.o[k])
        if sign * (o - stop_f) <= 0:  # opened through the stop: filled at the open, worse
            return k, self._market(o, not long), STOP, False
        if target is not None and target_f is not None and sign * (o - target_f) >= 0:
            if k == e:  # placed after the entry with the market already beyond it: crosses
                return k, self._market(o, not long), TARGET, False
            return k, target, TARGET, True  # a resting limit fills at its price
        stop_hit = sign * ((self.l[k] if long else self.h[k]) - stop_f) <= 0
        target_hit = target_f is not None and sign * (
            (self.h[k] if long else self.l[k]) - target_f) >= 0
        if stop_hit and target_hit and self.lower is not None and target_f is not None:
            kind, gap = self.lower.resolve(int(self.t[k]), self.tf_ms, stop_f, target_f, long)
            if kind == TARGET:
                return k, target, TARGET, True  # type: ignore[return-value]
            return k, self._market(gap if gap is not None else stop_f, not long), STOP, False
        if stop_hit:  # stop first when both: we cannot know the order inside the bar
            return k, self._market(stop_f, not long), STOP, False
        return k, target, TARGET, True  # type: ignore[return-value]

    def _excursions(self, e: int, held_to: int, long: bool, fill: Decimal, exit_price: Decimal,
                    qty: Decimal) -> tuple[Decimal, Decimal]:
        """MAE (<= 0) and MFE (>= 0) in quote: the lows and highs of the bars held from their
        open to their close (``e..held_to``) and the two fills. The exit bar's range beyond the
        exit price was never held, and its order inside the bar is unknown, so it is left out."""
        lo = min(float(fill), float(exit_price))
        hi = max(float(fill), float(exit_price))
        if held_to >= e:
            lo = min(lo, float(self.l[e:held_to + 1].min()))
            hi = max(hi, float(self.h[e:held_to + 1].max()))
        worst, best = (lo, hi) if long else (hi, lo)
        sign = 1 if long else -1
        mae = min(ZERO, (self._snap(worst) - fill) * qty * sign)
        mfe = max(ZERO, (self._snap(best) - fill) * qty * sign)
        return mae, mfe

    def _on_close(self, closed_ms: int, pnl: Decimal, trade: ClosedTrade) -> None:
        """The risk engine's daily loss limit: realised PnL after fees of the UTC day; reaching
        ``-limit % x the day's starting equity`` blocks entries until the next 00:00 UTC."""
        day = closed_ms // DAY_MS
        if day != self.day:
            self.day, self.day_realised = day, ZERO
            self.day_start = self._equity_at(day * DAY_MS, trade)
        self.day_realised += pnl
        limit = self.day_start * self.cfg.daily_loss_limit_pct / HUNDRED
        if self.day_realised <= -limit:
            self.blocked_until = (day + 1) * DAY_MS

    def _equity_at(self, ms: int, trade: ClosedTrade) -> Decimal:
        """Equity when the day began: the balance, plus the open trade marked at the day's first
        open if it was already open then (the entry fee is already out of the balance)."""
        if trade.opened_ms >= ms:
            return self.balance
        first = int(self.t.searchsorted(ms))
        mark = self._snap(self.o[min(first, self.n - 1)])
        entry_fee = trade.entry_price * trade.quantity * self.cfg.taker_fee
        sign = 1 if trade.side == "buy" else -1
        return self.balance - entry_fee + (mark - trade.entry_price) * trade.quantity * sign

    # -- the curve ------------------------------------------------------------------------------

    def equity_curve(self) -> np.ndarray:
        """Balance plus the open position marked at each close (float64: for ratios and charts;
        the money itself is in the trades and :attr:`balance`)."""
        n = self.n
        delta = np.zeros(n)
        dq = np.zeros(n)
        dk = np.zeros(n)
        for bt in self.trades:
            tr = bt.trade
            q = float(tr.quantity) * (1.0 if tr.side == "buy" else -1.0)
            delta[bt.entry_bar] -= float(bt.entry_fee)
            delta[bt.exit_bar] += float(tr.pnl + bt.entry_fee)
            dq[bt.entry_bar] += q
            dk[bt.entry_bar] += q * float(tr.entry_price)
            dq[bt.exit_bar] -= q
            dk[bt.exit_bar] -= q * float(tr.entry_price)
        balance = float(self.cfg.starting_balance) + np.cumsum(delta)
        unreal = np.cumsum(dq) * self.c - np.cumsum(dk)
        return balance + unreal
