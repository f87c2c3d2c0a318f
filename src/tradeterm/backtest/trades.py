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

import gc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import overload

import numpy as np
import polars as pl

from tradeterm.backtest.codes import EXIT_REASONS
from tradeterm.backtest.units import MoneyUnits, mantissa
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

    def frame(self) -> pl.DataFrame:
        """Every trade as one row of a polars frame, built column by column from the integers
        (no per-trade Python objects): what reading every trade costs vectorbt's records, not
        the ~7 us a :class:`BacktestTrade` takes. Money, prices and quantities are exact
        ``Decimal`` columns (the integers scaled by their unit), equal to the records' values;
        ``r_multiple`` is a Float64 ratio (the record's is the ``Decimal`` quotient of the same
        two amounts); ``stop``/``target``/``r_multiple`` are null where the record's are None.

        Columns: signal_bar, entry_bar, exit_bar, side ("long"/"short"), exit_reason,
        opened_ms, closed_ms, quantity, entry_price, exit_price, stop, target, entry_fee,
        exit_fee, fees, pnl, initial_risk, r_multiple, mae, mfe."""
        tick_m, tick_d = mantissa(self.tick)
        step_m, step_d = mantissa(self.step)
        digits, notional = self.units.digits, self.units.notional
        big = self.pnl.dtype == object or self.qty.dtype == object
        ints = object if big else np.int64
        qty = self.qty.astype(ints)
        fill, exit_t = self.fill_t.astype(ints), self.exit_t.astype(ints)
        stop_t = self.stop_t.astype(ints)
        if not big and self.qty.size:  # the products below, bounded as the kernel bounds them
            widest = float(np.abs(self.qty).max()) * notional * float(max(
                np.abs(self.mae_ticks).max(), np.abs(self.mfe_ticks).max(),
                np.abs(self.fill_t - self.stop_t * self.has_stop).max()))
            if widest >= 2.0**62:
                qty, fill, stop_t = (a.astype(object) for a in (qty, fill, stop_t))
        risk = np.abs(fill - stop_t) * qty * notional * self.has_stop
        mae, mfe = self.mae_ticks.astype(qty.dtype), self.mfe_ticks.astype(qty.dtype)
        mae_u = np.where(mae < 0, mae * qty * notional, 0)
        mfe_u = np.where(mfe > 0, mfe * qty * notional, 0)
        fees = self.entry_fee + self.exit_fee
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(risk != 0, self.pnl.astype(np.float64) / risk.astype(np.float64), np.nan)
        side = pl.select(pl.when(pl.Series(self.long, dtype=pl.Boolean)).then(pl.lit("long"))
                         .otherwise(pl.lit("short"))).to_series()
        reasons = pl.Series(self.reason.astype(np.int64)).replace_strict(
            dict(enumerate(EXIT_REASONS)), return_dtype=pl.String)
        return pl.DataFrame([
            pl.Series("signal_bar", self.signal_bar, dtype=pl.Int64),
            pl.Series("entry_bar", self.signal_bar + 1, dtype=pl.Int64),
            pl.Series("exit_bar", self.exit_bar, dtype=pl.Int64),
            side.alias("side"),
            reasons.alias("exit_reason"),
            pl.Series("opened_ms", self.opened_ms, dtype=pl.Int64),
            pl.Series("closed_ms", self.closed_ms, dtype=pl.Int64),
            _scaled("quantity", qty * step_m, step_d),
            _scaled("entry_price", fill * tick_m, tick_d),
            _scaled("exit_price", exit_t * tick_m, tick_d),
            _scaled("stop", stop_t * tick_m, tick_d, self.has_stop),
            _scaled("target", self.target_t.astype(ints) * tick_m, tick_d, self.has_target),
            _scaled("entry_fee", self.entry_fee, digits),
            _scaled("exit_fee", self.exit_fee, digits),
            _scaled("fees", fees, digits),
            _scaled("pnl", self.pnl, digits),
            _scaled("initial_risk", risk, digits, self.has_stop),
            pl.Series("r_multiple", r, dtype=pl.Float64).fill_nan(None),
            _scaled("mae", mae_u, digits),
            _scaled("mfe", mfe_u, digits),
        ])

    def rows(self) -> list[tuple]:
        """The columns as Python values, one tuple per trade (for :meth:`record`)."""
        return list(zip(
            self.long.tolist(), self.qty.tolist(), self.fill_t.tolist(), self.exit_t.tolist(),
            self.maker.tolist(), self.has_stop.tolist(), self.stop_t.tolist(),
            self.has_target.tolist(), self.target_t.tolist(), self.mae_ticks.tolist(),
            self.mfe_ticks.tolist(), self.signal_bar.tolist(), self.exit_bar.tolist(),
            self.reason.tolist(), self.opened_ms.tolist(), self.closed_ms.tolist(), strict=True))

    def record(self, row: tuple) -> BacktestTrade:
        """One of :meth:`rows` as a record, in ``Decimal`` computed as the paper broker would."""
        (long, q, fill_t, exit_t, maker, has_stop, stop_t, has_target, target_t, mae, mfe,
         signal_bar, exit_bar, reason, opened_ms, closed_ms) = row
        tick = self.tick
        qty = Decimal(q) * self.step
        fill = Decimal(fill_t) * tick
        price = Decimal(exit_t) * tick
        entry_fee = fill * qty * self.taker_fee
        exit_fee = price * qty * (self.maker_fee if maker else self.taker_fee)
        pnl = (price - fill) * qty - entry_fee - exit_fee if long else (
            (fill - price) * qty - entry_fee - exit_fee)
        stop = Decimal(stop_t) * tick if has_stop else None
        risk = abs(fill - stop) * qty if stop is not None else None
        trade = ClosedTrade(
            self.symbol, "buy" if long else "sell", qty, fill, price, opened_ms, closed_ms, pnl,
            entry_fee + exit_fee, pnl / risk if risk else None,
            Decimal(mae) * tick * qty if mae < 0 else ZERO,
            Decimal(mfe) * tick * qty if mfe > 0 else ZERO, self.strategy or None,
            initial_risk=risk,
        )
        return BacktestTrade(
            trade, signal_bar, signal_bar + 1, exit_bar, EXIT_REASONS[reason], stop,
            Decimal(target_t) * tick if has_target else None, risk, entry_fee, exit_fee,
        )


def _scaled(name: str, ints: np.ndarray, digits: int, valid: np.ndarray | None = None
            ) -> pl.Series:
    """``ints x 10**-digits`` as an exact Decimal column (null where ``valid`` is False):
    int64 scaled inside polars; Python integers (a run beyond 64 bits) one by one."""
    if ints.dtype == object:
        values = [Decimal(int(v)).scaleb(-digits) for v in ints]
        column = pl.Series(name, values, dtype=pl.Decimal(38, digits))
    else:
        column = (pl.Series(name, ints.astype(np.int64)).cast(pl.Decimal(38, 0))
                  * pl.Series([Decimal(1).scaleb(-digits)], dtype=pl.Decimal(38, digits)))
    if valid is not None:
        column = pl.select(pl.when(pl.Series(valid)).then(column)).to_series().alias(name)
    return column.alias(name)


class TradeRecords(Sequence[BacktestTrade]):
    """The records of a :class:`TradeTable`, each built on first access and kept."""

    __slots__ = ("_built", "_rows", "table")

    def __init__(self, table: TradeTable) -> None:
        self.table = table
        self._built: list[BacktestTrade | None] = [None] * len(table)
        self._rows: list[tuple] | None = None

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
            if self._rows is None:
                self._rows = self.table.rows()
            built = self._built[i] = self.table.record(self._rows[i])
        return built

    def __iter__(self) -> Iterator[BacktestTrade]:
        self._build_all()
        yield from self._built  # type: ignore[misc]  # all built now

    def _build_all(self) -> None:
        """Every record not built yet, in one go, with the cyclic garbage collector paused:
        tens of thousands of new objects would otherwise trigger collections that walk the whole
        heap (half the time, measured), and records hold no cycles to collect."""
        if None not in self._built:
            return
        if self._rows is None:
            self._rows = self.table.rows()
        paused = gc.isenabled()
        gc.disable()
        try:
            record, rows, built = self.table.record, self._rows, self._built
            for i, done in enumerate(built):
                if done is None:
                    built[i] = record(rows[i])
        finally:
            if paused:
                gc.enable()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"TradeRecords({len(self)} trades)"
