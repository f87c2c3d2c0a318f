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


class StatsAccumulator:
    """:func:`compute_stats` one trade at a time, with constant memory.

    Why it repeats the same Decimal operations in the same order (rather than summing in SQL or
    in another order): Decimal addition rounds to 28 significant digits, so a sum depends on the
    order of its terms; doing exactly what :func:`compute_stats` does keeps the results equal to
    it bit for bit (``tests/unit/journal/test_journal_paging.py`` checks that)."""

    __slots__ = ("n", "wins", "gross_profit", "gross_loss", "running", "peak", "worst",
                 "r_sum", "r_n", "win_r_sum", "win_r_n", "loss_r_sum", "loss_r_n")

    def __init__(self) -> None:
        self.n = self.wins = self.r_n = self.win_r_n = self.loss_r_n = 0
        self.gross_profit = self.gross_loss = self.running = self.worst = ZERO
        self.r_sum = self.win_r_sum = self.loss_r_sum = ZERO
        self.peak: Decimal = ZERO  # the cumulative curve starts at 0

    def add(self, pnl: Decimal, r: Decimal | None) -> None:
        self.n += 1
        if pnl > 0:
            self.wins += 1
            self.gross_profit += pnl
        else:
            self.gross_loss += pnl
        value = self.running = self.running + pnl
        self.peak = value if value > self.peak else self.peak
        self.worst = max(self.worst, self.peak - value)
        if r is not None:
            self.r_sum += r
            self.r_n += 1
            if r > 0:
                self.win_r_sum += r
                self.win_r_n += 1
            else:
                self.loss_r_sum += r
                self.loss_r_n += 1

    def result(self, equity_drawdown: Decimal | None = None) -> TradeStats:
        """The statistics; ``equity_drawdown``: the equity curve's, when it is a curve."""
        n, gross_loss = self.n, self.gross_loss
        return TradeStats(
            trades=n,
            wins=self.wins,
            win_rate=Decimal(self.wins) / n if n else None,
            net_pnl=self.gross_profit + gross_loss,
            gross_profit=self.gross_profit,
            gross_loss=gross_loss,
            profit_factor=self.gross_profit / -gross_loss if gross_loss < 0 else None,
            expectancy=self.running / n if n else None,
            expectancy_r=self.r_sum / self.r_n if self.r_n else None,
            avg_win_r=self.win_r_sum / self.win_r_n if self.win_r_n else None,
            avg_loss_r=self.loss_r_sum / self.loss_r_n if self.loss_r_n else None,
            max_drawdown=self.worst if equity_drawdown is None else equity_drawdown,
        )


class DrawdownAccumulator:
    """:func:`max_drawdown` one point at a time; ``points`` counts them (a curve needs two)."""

    __slots__ = ("peak", "worst", "points")

    def __init__(self) -> None:
        self.peak: Decimal | None = None
        self.worst = ZERO
        self.points = 0

    def add(self, value: Decimal) -> None:
        self.points += 1
        peak = self.peak
        self.peak = peak = value if peak is None or value > peak else peak
        self.worst = max(self.worst, peak - value)


@dataclass(frozen=True, slots=True)
class GroupedStats:
    """Overall, per strategy and per UTC day of the close (groups sorted by name)."""

    overall: TradeStats
    by_strategy: dict[str, TradeStats]
    by_day: dict[str, TradeStats]


DAY_MS = 86_400_000


class TradeGroups:
    """Overall, per-strategy and per-day accumulators fed one trade at a time in closing order.
    Its state round-trips through :meth:`state` / :meth:`from_state` exactly (Decimal text), so
    the journal can keep a checkpoint of it (``journal/stats_checkpoint.py``)."""

    def __init__(self) -> None:
        self.overall = StatsAccumulator()
        self.strategies: dict[str, StatsAccumulator] = {}
        self.days: dict[int, StatsAccumulator] = {}
        self._day, self._day_acc = -1, self.overall

    def add(self, pnl: Decimal, r: Decimal | None, closed_ms: int, strategy: str | None) -> None:
        self.overall.add(pnl, r)
        name = strategy or "manual"
        acc = self.strategies.get(name)
        if acc is None:
            acc = self.strategies[name] = StatsAccumulator()
        acc.add(pnl, r)
        day = closed_ms // DAY_MS
        if day != self._day:  # rows come in closing order: a day's trades are together
            self._day = day
            self._day_acc = self.days.get(day) or self.days.setdefault(day, StatsAccumulator())
        self._day_acc.add(pnl, r)

    def result(self, equity_drawdown: Decimal | None = None) -> GroupedStats:
        by_day = {utc_day(d * DAY_MS): acc.result() for d, acc in self.days.items()}
        return GroupedStats(
            overall=self.overall.result(equity_drawdown),
            by_strategy={k: self.strategies[k].result() for k in sorted(self.strategies)},
            by_day={k: by_day[k] for k in sorted(by_day)},
        )


_INTS = ("n", "wins", "r_n", "win_r_n", "loss_r_n")
_DECIMALS = ("gross_profit", "gross_loss", "running", "peak", "worst", "r_sum", "win_r_sum",
             "loss_r_sum")


def accumulator_state(acc: StatsAccumulator) -> list[str]:
    """The accumulator as text, exactly (``str(Decimal)`` keeps digits and exponent)."""
    return [str(getattr(acc, k)) for k in _INTS + _DECIMALS]


def accumulator_from_state(state: list[str]) -> StatsAccumulator:
    acc = StatsAccumulator()
    for key, text in zip(_INTS + _DECIMALS, state, strict=True):
        setattr(acc, key, int(text) if key in _INTS else Decimal(text))
    return acc


def stream_stats(
    trades: Iterable[tuple[str, str | None, int, str | None]],
    equity: Iterable[tuple[str]] | None = None,
) -> GroupedStats:
    """The statistics of ``(pnl, r_multiple, closed_ms, strategy)`` rows in closing order (money
    as stored: decimal text), with the drawdown of the ``(equity,)`` rows when they make a curve.
    Equal to :func:`compute_stats` and :func:`stats_by` on the same trades; memory grows with the
    number of strategies and days, not of trades."""
    groups = TradeGroups()
    to_decimal = Decimal
    for pnl_text, r_text, closed_ms, strategy in trades:
        groups.add(to_decimal(pnl_text), None if r_text is None else to_decimal(r_text),
                   closed_ms, strategy)
    equity_dd = None
    if equity is not None:
        curve = DrawdownAccumulator()
        for (value,) in equity:
            curve.add(to_decimal(value))
        equity_dd = curve.worst if curve.points > 1 else None
    return groups.result(equity_dd)
