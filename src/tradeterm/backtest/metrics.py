"""Backtest metrics as pure functions of a trade list and an equity curve.

Money is exact: trade statistics (PnL sums, profit factor, expectancy, R) are ``Decimal`` from
the trades' exact PnL. Ratios of the per-bar equity curve (Sharpe, Sortino, CAGR, Calmar,
drawdown %) are floats: they are statistics, not money, and the curve of a million bars is a
float64 array. :func:`max_drawdown` works on either (a list of Decimals gives an exact depth).

Conventions (documented in ``docs/backtest.md``):

* returns are per bar, ``r_i = equity_i / equity_{i-1} - 1``; Sharpe = mean / stdev (sample,
  ddof 1) x sqrt(bars per year); Sortino = mean / downside deviation x sqrt(bars per year), the
  downside deviation being ``sqrt(mean(min(r, 0)^2))`` over all bars; risk-free rate 0;
  a year is 365 days (crypto trades every day), so a 1m bar gives 525,600 bars per year.
* CAGR over the backtest's span (bars x bar length); Calmar = CAGR / max drawdown fraction.
* A win is a trade with PnL > 0; profit factor = gross profit / gross loss (None without losses).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np

from tradeterm.core.money import ZERO
from tradeterm.core.trading import ClosedTrade

if TYPE_CHECKING:
    from tradeterm.backtest.runner import BacktestResult
    from tradeterm.backtest.trades import TradeTable

YEAR_MS = 365 * 86_400_000


@dataclass(frozen=True, slots=True)
class TradeStats:
    trades: int
    wins: int
    losses: int
    win_rate: float | None  # wins / trades
    net_pnl: Decimal
    gross_profit: Decimal
    gross_loss: Decimal  # <= 0
    profit_factor: Decimal | None  # gross profit / |gross loss|; None with no losing trade
    expectancy: Decimal | None  # mean PnL per trade (quote)
    average_r: Decimal | None  # mean R multiple of the trades that have one
    best: Decimal | None
    worst: Decimal | None
    fees: Decimal
    average_mae: Decimal | None
    average_mfe: Decimal | None


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return sum(values, ZERO) / len(values) if values else None


def trade_stats(trades: Sequence[ClosedTrade]) -> TradeStats:
    """Counts, PnL sums and averages of ``trades`` (exact)."""
    return _summary([t.pnl for t in trades],
                    [t.r_multiple for t in trades if t.r_multiple is not None],
                    sum((t.fees for t in trades), ZERO), [t.mae for t in trades],
                    [t.mfe for t in trades])


def table_stats(table: TradeTable) -> TradeStats:
    """:func:`trade_stats` from a run's integer columns, without building its records: the same
    exact values (each R the ``Decimal`` quotient of the same two amounts), at a fraction of the
    cost for tens of thousands of trades."""
    digits, notional = table.units.digits, table.units.notional

    def money(units: int) -> Decimal:
        return Decimal(units).scaleb(-digits)

    pnls = table.pnl.tolist()
    qty = table.qty.tolist()
    risks = [abs(f - s) * q * notional if has else 0 for f, s, q, has in zip(
        table.fill_t.tolist(), table.stop_t.tolist(), qty, table.has_stop.tolist(), strict=True)]
    return _summary(
        [money(p) for p in pnls],
        [Decimal(p) / Decimal(r) for p, r in zip(pnls, risks, strict=True) if r],
        money(sum(table.entry_fee.tolist()) + sum(table.exit_fee.tolist())),
        [money(t * q * notional) if t < 0 else ZERO
         for t, q in zip(table.mae_ticks.tolist(), qty, strict=True)],
        [money(t * q * notional) if t > 0 else ZERO
         for t, q in zip(table.mfe_ticks.tolist(), qty, strict=True)])


def _summary(pnls: list[Decimal], r_values: list[Decimal], fees: Decimal, maes: list[Decimal],
             mfes: list[Decimal]) -> TradeStats:
    wins = [p for p in pnls if p > ZERO]
    losses = [p for p in pnls if p < ZERO]
    gross_profit = sum(wins, ZERO)
    gross_loss = sum(losses, ZERO)
    return TradeStats(
        trades=len(pnls),
        wins=len(wins),
        losses=len(losses),
        win_rate=len(wins) / len(pnls) if pnls else None,
        net_pnl=sum(pnls, ZERO),
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        profit_factor=gross_profit / -gross_loss if gross_loss < ZERO else None,
        expectancy=_mean(pnls),
        average_r=_mean(r_values),
        best=max(pnls) if pnls else None,
        worst=min(pnls) if pnls else None,
        fees=fees,
        average_mae=_mean(maes),
        average_mfe=_mean(mfes),
    )


@dataclass(frozen=True, slots=True)
class Drawdown:
    depth: float | Decimal  # largest peak-to-trough fall, in quote (>= 0)
    depth_pct: float  # that fall as % of its peak
    duration_bars: int  # longest stretch below a previous peak (to recovery or the end)
    peak_index: int  # where the deepest drawdown started
    trough_index: int  # and its bottom


def max_drawdown(equity: Sequence[Decimal] | np.ndarray) -> Drawdown:
    """Deepest fall from a running peak, and the longest time spent under water (in bars: a
    curve at its peak at bar i and back at or above it at bar j spent j - i bars under water)."""
    if len(equity) == 0:
        return Drawdown(0.0, 0.0, 0, 0, 0)
    if isinstance(equity, np.ndarray):
        values = equity.astype(float)
        peaks = np.maximum.accumulate(values)
        falls = peaks - values
        trough = int(np.argmax(falls))
        depth: float | Decimal = float(falls[trough])
        peak_value = float(peaks[trough])
        under = falls > 0
    else:
        peak_value_d, depth, trough, peak_value_at = equity[0], ZERO, 0, equity[0]
        under_list = []
        for i, v in enumerate(equity):
            peak_value_d = max(peak_value_d, v)
            fall = peak_value_d - v
            under_list.append(fall > ZERO)
            if fall > depth:
                depth, trough, peak_value_at = fall, i, peak_value_d
        peak_value = float(peak_value_at)
        under = np.array(under_list, dtype=bool)
        values = np.array([float(v) for v in equity])
    peak = int(np.flatnonzero(values[: trough + 1] == peak_value)[0]) if depth else trough
    return Drawdown(
        depth=depth,
        depth_pct=float(depth) / peak_value * 100 if depth and peak_value > 0 else 0.0,
        duration_bars=_longest_run(under),
        peak_index=peak,
        trough_index=trough,
    )


def _longest_run(flags: np.ndarray) -> int:
    """Length of the longest run of True (vectorised: run boundaries from the diff)."""
    if not flags.any():
        return 0
    padded = np.concatenate(([False], flags, [False])).astype(np.int8)
    edges = np.diff(padded)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int((ends - starts).max())


def drawdown_series(equity: np.ndarray) -> np.ndarray:
    """Per-bar drawdown in % of the running peak (<= 0), for the chart."""
    peaks = np.maximum.accumulate(equity)
    return np.where(peaks > 0, (equity / peaks - 1.0) * 100.0, 0.0)


def bar_returns(equity: np.ndarray) -> np.ndarray:
    return equity[1:] / equity[:-1] - 1.0 if equity.size > 1 else np.empty(0)


def bars_per_year(timeframe_ms: int) -> float:
    return YEAR_MS / timeframe_ms


def sharpe(returns: np.ndarray, periods_per_year: float) -> float | None:
    """Annualised Sharpe ratio of per-bar returns (risk-free 0); None if undefined."""
    if returns.size < 2:
        return None
    sd = float(np.std(returns, ddof=1))
    if sd == 0 or not math.isfinite(sd):
        return None
    return float(np.mean(returns)) / sd * math.sqrt(periods_per_year)


def sortino(returns: np.ndarray, periods_per_year: float) -> float | None:
    """Annualised Sortino ratio: mean over the downside deviation of all bars (target 0)."""
    if returns.size < 2:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    if downside == 0:
        return None
    return float(np.mean(returns)) / downside * math.sqrt(periods_per_year)


def cagr(start: float, end: float, years: float) -> float | None:
    """Compound annual growth rate; None when the span is empty, the account is wiped out, or
    the span is so short that annualising overflows a float (a 15 % gain in two hours)."""
    if years <= 0 or start <= 0 or end <= 0:
        return None
    try:
        return (end / start) ** (1.0 / years) - 1.0
    except OverflowError:
        return None


def calmar(cagr_value: float | None, max_drawdown_pct: float) -> float | None:
    """CAGR over the max drawdown (as a fraction); None without a drawdown or a CAGR."""
    if cagr_value is None or max_drawdown_pct <= 0:
        return None
    return cagr_value / (max_drawdown_pct / 100.0)


def exposure_pct(bars_in_position: int, bars: int) -> float:
    return bars_in_position / bars * 100.0 if bars else 0.0


@dataclass(frozen=True, slots=True)
class Metrics:
    """Everything a report shows about one run."""

    stats: TradeStats
    starting_balance: Decimal
    final_balance: Decimal
    return_pct: float
    drawdown: Drawdown
    drawdown_ms: int  # duration_bars x bar length
    sharpe: float | None
    sortino: float | None
    cagr: float | None
    calmar: float | None
    exposure_pct: float
    bars: int


def compute_metrics(
    trades: Sequence[ClosedTrade] | TradeStats,
    equity: np.ndarray,
    starting_balance: Decimal,
    final_balance: Decimal,
    timeframe_ms: int,
    bars_in_position: int,
) -> Metrics:
    """All metrics of a run from its trades (or their :class:`TradeStats`), its per-bar equity
    and its exact balances."""
    dd = max_drawdown(equity)
    returns = bar_returns(equity)
    per_year = bars_per_year(timeframe_ms)
    years = equity.size * timeframe_ms / YEAR_MS
    growth = cagr(float(starting_balance), float(final_balance), years)
    return Metrics(
        stats=trades if isinstance(trades, TradeStats) else trade_stats(trades),
        starting_balance=starting_balance,
        final_balance=final_balance,
        return_pct=float((final_balance / starting_balance - 1) * 100) if starting_balance else 0.0,
        drawdown=dd,
        drawdown_ms=dd.duration_bars * timeframe_ms,
        sharpe=sharpe(returns, per_year),
        sortino=sortino(returns, per_year),
        cagr=growth,
        calmar=calmar(growth, dd.depth_pct),
        exposure_pct=exposure_pct(bars_in_position, equity.size),
        bars=int(equity.size),
    )


def result_metrics(result: BacktestResult) -> Metrics:
    """:func:`compute_metrics` of a :class:`~tradeterm.backtest.runner.BacktestResult`."""
    stats = table_stats(result.table) if result.table is not None else result.closed_trades
    return compute_metrics(
        stats, result.equity, result.config.starting_balance,
        result.final_balance, result.timeframe_ms, result.exposure_bars,
    )
