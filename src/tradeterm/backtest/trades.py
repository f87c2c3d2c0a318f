"""A backtest's trades: exact integer columns as the kernel leaves them, and the per-trade
records (``BacktestTrade``) built from them only when something reads them.

Why lazy: a million bars can give tens of thousands of trades, and two frozen records of
``Decimal`` per trade cost more than the whole compiled walk. The columns already hold every
amount exactly (prices in ticks, quantities in steps, money in the run's units); a record turns
one row into ``Decimal`` with the paper broker's own arithmetic (``fill x qty x fee``, ...), so it
reads exactly as a per-trade ``Decimal`` runner would have written it, and the test suite checks
that it equals the kernel's integers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import overload

import numpy as np

from tradeterm.backtest.kernel import EXIT_REASONS
from tradeterm.backtest.units import MoneyUnits
from tradeterm.core.money import ZERO
from tradeterm.core.trading import ClosedTrade


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


@dataclass(frozen=True, slots=True)
class TradeTable:
    """One row per trade, in order. Prices are ticks, quantities steps, money integers of
    ``units`` (``units.money()`` turns them into Decimal); ``reason`` indexes
    :data:`~kernel.EXIT_REASONS`. Integer columns are int64, or Python integers (object) when
    the run needed more than 64 bits."""

    symbol: str
    strategy: str
    tick: Decimal
    step: Decimal
    taker_fee: Decimal
    maker_fee: Decimal
    units: MoneyUnits
    signal_bar: np.ndarray
    exit_bar: np.ndarray
    long: np.ndarray
    reason: np.ndarray
    maker: np.ndarray  # the exit was a resting limit (maker fee)
    opened_ms: np.ndarray
    closed_ms: np.ndarray
    qty: np.ndarray
    fill_t: np.ndarray
    exit_t: np.ndarray
    stop_t: np.ndarray  # 0 where has_stop is False
    has_stop: np.ndarray
    target_t: np.ndarray
    has_target: np.ndarray
    entry_fee: np.ndarray
    exit_fee: np.ndarray
    pnl: np.ndarray  # after both fees
    mae_ticks: np.ndarray  # the worst price against the position, in ticks from the fill
    mfe_ticks: np.ndarray

    def __len__(self) -> int:
        return int(self.signal_bar.size)

    def pnl_floats(self) -> np.ndarray:
        """PnL per trade as floats (for ratios and charts; the money is in :attr:`pnl`)."""
        return self.pnl.astype(np.float64) / float(10**self.units.digits)

    def record(self, i: int) -> BacktestTrade:
        """Row ``i`` as a record, in ``Decimal`` computed as the paper broker would."""
        tick, step = self.tick, self.step
        long = bool(self.long[i])
        sign = 1 if long else -1
        qty = Decimal(int(self.qty[i])) * step
        fill = Decimal(int(self.fill_t[i])) * tick
        price = Decimal(int(self.exit_t[i])) * tick
        entry_fee = fill * qty * self.taker_fee
        exit_fee = price * qty * (self.maker_fee if self.maker[i] else self.taker_fee)
        pnl = (price - fill) * qty * sign - entry_fee - exit_fee
        stop = Decimal(int(self.stop_t[i])) * tick if self.has_stop[i] else None
        risk = abs(fill - stop) * qty if stop is not None else None
        mae, mfe = int(self.mae_ticks[i]), int(self.mfe_ticks[i])
        signal_bar = int(self.signal_bar[i])
        trade = ClosedTrade(
            self.symbol, "buy" if long else "sell", qty, fill, price, int(self.opened_ms[i]),
            int(self.closed_ms[i]), pnl, entry_fee + exit_fee, pnl / risk if risk else None,
            Decimal(mae) * tick * qty if mae < 0 else ZERO,
            Decimal(mfe) * tick * qty if mfe > 0 else ZERO, self.strategy or None,
        )
        return BacktestTrade(
            trade, signal_bar, signal_bar + 1, int(self.exit_bar[i]),
            EXIT_REASONS[int(self.reason[i])], stop,
            Decimal(int(self.target_t[i])) * tick if self.has_target[i] else None, risk,
            entry_fee, exit_fee,
        )


class TradeRecords(Sequence[BacktestTrade]):
    """The records of a :class:`TradeTable`, each built on first access and kept."""

    __slots__ = ("_built", "table")

    def __init__(self, table: TradeTable) -> None:
        self.table = table
        self._built: list[BacktestTrade | None] = [None] * len(table)

    def __len__(self) -> int:
        return len(self._built)

    @overload
    def __getitem__(self, index: int) -> BacktestTrade: ...

    @overload
    def __getitem__(self, index: slice) -> list[BacktestTrade]: ...

    def __getitem__(self, index: int | slice) -> BacktestTrade | list[BacktestTrade]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = range(len(self))[index]  # negative indices, and IndexError beyond the end
        built = self._built[i]
        if built is None:
            built = self._built[i] = self.table.record(i)
        return built

    def __iter__(self) -> Iterator[BacktestTrade]:
        for i in range(len(self)):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"TradeRecords({len(self)} trades)"
