"""A backtest to the journal and back: :func:`save` stores a :class:`BacktestResult` (settings,
parameters, metrics, trades, equity curve), :func:`load` rebuilds the identical result.

Why rebuild the result instead of storing a report: ``tradeterm journal backtest ID`` then prints
the report with the same code as ``tradeterm backtest``, from what the journal holds, and a test
can prove the round trip is exact (Decimals bit for bit, the float curve byte for byte).
"""

from __future__ import annotations

import time
from dataclasses import asdict, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from tradeterm.backtest.metrics import Metrics, result_metrics
from tradeterm.backtest.runner import BacktestConfig, BacktestResult, BacktestTrade
from tradeterm.broker.rules import MarketRules
from tradeterm.core.trading import ClosedTrade
from tradeterm.journal.backtests import BacktestRow, BacktestTradeRow, insert


def _plain(value: Any) -> Any:
    """JSON-safe: Decimals as exact strings, non-finite floats as None, tuples as lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def config_json(config: BacktestConfig) -> dict[str, Any]:
    """The run's settings, every Decimal as its exact string."""
    return _plain(asdict(config))


def config_from_json(data: dict[str, Any]) -> BacktestConfig:
    """Inverse of :func:`config_json` (types from the dataclass fields)."""
    rules_data = dict(data["rules"])
    rules_args: dict[str, Any] = {
        f.name: rules_data[f.name] if f.name == "symbol" or rules_data[f.name] is None
        else Decimal(rules_data[f.name])
        for f in fields(MarketRules) if f.name in rules_data
    }
    rules = MarketRules(**rules_args)
    values: dict[str, Any] = {"rules": rules}
    for f in fields(BacktestConfig):
        if f.name == "rules" or f.name not in data:
            continue
        raw = data[f.name]
        values[f.name] = Decimal(raw) if isinstance(raw, str) else raw
    return BacktestConfig(**values)


def to_rows(result: BacktestResult, metrics: Metrics, created_ms: int
            ) -> tuple[BacktestRow, list[BacktestTradeRow]]:
    times = result.open_time.astype("<i8")
    row = BacktestRow(
        created_ms=created_ms, strategy=result.strategy, symbol=result.symbol,
        timeframe=result.timeframe, timeframe_ms=result.timeframe_ms,
        start_ms=int(times[0]) if times.size else None,
        end_ms=int(times[-1]) if times.size else None, bars=int(times.size),
        params=_plain(result.params), settings=config_json(result.config),
        metrics=_plain(asdict(metrics)), skipped=dict(result.skipped),
        final_balance=result.final_balance, exposure_bars=result.exposure_bars,
        open_time=times.tobytes(), equity=result.equity.astype("<f8").tobytes(),
    )
    trades = [
        BacktestTradeRow(
            seq=k, side=bt.trade.side, quantity=bt.trade.quantity, signal_bar=bt.signal_bar,
            entry_bar=bt.entry_bar, entry_ms=bt.trade.opened_ms, entry_price=bt.trade.entry_price,
            exit_bar=bt.exit_bar, exit_ms=bt.trade.closed_ms, exit_price=bt.trade.exit_price,
            exit_reason=bt.exit_reason, stop=bt.stop, target=bt.target,
            initial_risk=bt.initial_risk, entry_fee=bt.entry_fee, exit_fee=bt.exit_fee,
            fees=bt.trade.fees, pnl=bt.trade.pnl, r_multiple=bt.trade.r_multiple,
            mae=bt.trade.mae, mfe=bt.trade.mfe,
        )
        for k, bt in enumerate(result.trades)
    ]
    return row, trades


def from_rows(row: BacktestRow, trades: list[BacktestTradeRow]) -> BacktestResult:
    """The :class:`BacktestResult` that :func:`to_rows` stored."""
    strategy = row.strategy or None
    return BacktestResult(
        strategy=row.strategy, symbol=row.symbol, timeframe=row.timeframe,
        timeframe_ms=row.timeframe_ms, config=config_from_json(row.settings),
        trades=[
            BacktestTrade(
                ClosedTrade(
                    symbol=row.symbol, side=t.side, quantity=t.quantity,  # type: ignore[arg-type]
                    entry_price=t.entry_price, exit_price=t.exit_price, opened_ms=t.entry_ms,
                    closed_ms=t.exit_ms, pnl=t.pnl, fees=t.fees, r_multiple=t.r_multiple,
                    mae=t.mae, mfe=t.mfe, strategy=strategy, initial_risk=t.initial_risk,
                ),
                t.signal_bar, t.entry_bar, t.exit_bar, t.exit_reason, t.stop, t.target,
                t.initial_risk, t.entry_fee, t.exit_fee,
            )
            for t in trades
        ],
        open_time=np.frombuffer(row.open_time, dtype="<i8").astype(np.int64),
        equity=np.frombuffer(row.equity, dtype="<f8").astype(np.float64),
        final_balance=row.final_balance, exposure_bars=row.exposure_bars,
        skipped=dict(row.skipped), params=dict(row.params),
    )


def save(journal: Path, result: BacktestResult, metrics: Metrics | None = None,
         created_ms: int | None = None) -> int:
    """Store ``result`` in the journal at ``journal`` (created or migrated if needed); its id.

    Opens its own writer: SQLite serialises it with a running engine's (WAL, busy timeout)."""
    from tradeterm.journal.writer import JournalWriter

    row, trades = to_rows(result, metrics or result_metrics(result),
                          created_ms if created_ms is not None else time.time_ns() // 1_000_000)
    with JournalWriter(journal) as writer:
        return int(writer.transaction(lambda db: insert(db, row, trades)).result())


def load(journal: Path, backtest_id: int) -> tuple[BacktestRow, BacktestResult] | None:
    """A stored backtest's header and its rebuilt result; None if there is no such id."""
    from tradeterm.journal.reader import JournalReader

    with JournalReader(journal) as reader:
        found = reader.backtest(backtest_id)
    if found is None:
        return None
    row, trades = found
    return row, from_rows(row, trades)

