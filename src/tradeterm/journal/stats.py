"""Trade statistics, exact in Decimal, from closed trades (and the equity curve when there is one).

Definitions (the CLI's ``stats`` columns):
- win rate: trades with PnL > 0 / all trades (a zero-PnL trade counts as a loss of nothing).
- profit factor: gross profit / |gross loss|; None (shown "inf") when there is no loss.
- expectancy: average PnL per trade, in quote.
- expectancy in R: P(win) x average winning R - P(loss) x |average losing R| over the trades
  that have an R multiple (a stop was known). Algebraically this is the average R, which is why
  the table shows it once, beside the average winning and losing R that make it up.
- max drawdown: the largest peak-to-trough fall of the equity curve when given (two points or
  more), else of the
  cumulative PnL of the trades in closing order (starting at 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tradeterm.core.money import ZERO
from tradeterm.core.trading import ClosedTrade


@dataclass(frozen=True, slots=True)
class TradeStats:
    trades: int
    wins: int
    win_rate: Decimal | None  # 0..1
    net_pnl: Decimal
    gross_profit: Decimal
    gross_loss: Decimal  # <= 0
    profit_factor: Decimal | None
    expectancy: Decimal | None  # quote per trade
    expectancy_r: Decimal | None  # == average R
    avg_win_r: Decimal | None
    avg_loss_r: Decimal | None  # <= 0
    max_drawdown: Decimal  # >= 0, quote


def max_drawdown(curve: Iterable[Decimal]) -> Decimal:
    """Largest peak-to-trough fall of ``curve`` (>= 0)."""
    peak: Decimal | None = None
    worst = ZERO
    for value in curve:
        peak = value if peak is None or value > peak else peak
        worst = max(worst, peak - value)
    return worst


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return sum(values, ZERO) / len(values) if values else None


def compute_stats(
    trades: Sequence[ClosedTrade], equity: Sequence[Decimal] | None = None
) -> TradeStats:
    """Statistics of ``trades`` (in closing order); drawdown from ``equity`` if it is a curve."""
    pnls = [t.pnl for t in trades]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p <= 0]
    gross_profit, gross_loss = sum(wins, ZERO), sum(losses, ZERO)
    rs = [t.r_multiple for t in trades if t.r_multiple is not None]
    win_rs = [r for r in rs if r > 0]
    loss_rs = [r for r in rs if r <= 0]
    cumulative, running = [ZERO], ZERO
    for p in pnls:
        running += p
        cumulative.append(running)
    return TradeStats(
        trades=len(trades),
        wins=len(wins),
        win_rate=Decimal(len(wins)) / len(trades) if trades else None,
        net_pnl=gross_profit + gross_loss,
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        profit_factor=gross_profit / -gross_loss if gross_loss < 0 else None,
        expectancy=_mean(pnls),
        expectancy_r=_mean(rs),  # == P(win) x avg win R + P(loss) x avg loss R, one rounding
        avg_win_r=_mean(win_rs),
        avg_loss_r=_mean(loss_rs),
        max_drawdown=max_drawdown(equity if equity and len(equity) > 1 else cumulative),
    )


def utc_day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def stats_by(
    trades: Sequence[ClosedTrade], key: Callable[[ClosedTrade], str]
) -> dict[str, TradeStats]:
    """Statistics per group (e.g. strategy, or UTC day of the close), groups sorted by name."""
    groups: dict[str, list[ClosedTrade]] = {}
    for trade in trades:
        groups.setdefault(key(trade), []).append(trade)
    return {name: compute_stats(groups[name]) for name in sorted(groups)}


def by_strategy(trade: ClosedTrade) -> str:
    return trade.strategy or "manual"


def by_day(trade: ClosedTrade) -> str:
    return utc_day(trade.closed_ms)
