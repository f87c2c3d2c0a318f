"""What the backtest screen runs, without Textual: the form's choices in, a result out.

Called from worker threads (candles, polars and the strategy's indicators are slow). It is the
``tradeterm backtest`` path with the same pieces (``backtest.cli.load_candles`` and its
download hint, ``BacktestConfig.from_settings``, ``run_backtest``, ``result_metrics``): the
screen and the CLI give the same trades for the same choices. Every problem the user can fix
comes back as a :class:`JobError` with a one-line message, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tradeterm.core.models import Candle
from tradeterm.core.trading import Fill, Liquidity

if TYPE_CHECKING:
    from tradeterm.backtest.metrics import Metrics
    from tradeterm.backtest.runner import BacktestResult
    from tradeterm.strategy.loader import LoadedStrategy

CHART_BARS = 2_000
"""Candles handed to the chart (the newest): it shows one per column, and scrolls through these."""


class JobError(Exception):
    """A choice that cannot run (bad parameter, no data, bad date); the message is for the user."""


@dataclass(frozen=True, slots=True)
class BacktestRequest:
    strategy: str
    symbol: str
    timeframe: str
    first_day: str | None = None  # YYYY-MM-DD, UTC, included
    last_day: str | None = None
    params: tuple[tuple[str, str], ...] = ()  # as typed; the strategy's Params validates them


@dataclass(frozen=True, slots=True)
class BacktestOutcome:
    result: BacktestResult
    metrics: Metrics
    candles: tuple[Candle, ...]  # the chart's: the newest CHART_BARS of the run
    fills: tuple[Fill, ...]  # entries and exits of the trades, for the chart's markers


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def data_source(settings: Any, symbol: str, timeframe: str) -> tuple[bool, str]:
    """(stored?, a line about the download store's candles for ``symbol`` ``timeframe``: what is
    there, or the command that fetches them)."""
    import polars as pl

    from tradeterm.backtest.cli import store_path

    path = store_path(settings.data_dir, symbol, timeframe)
    if not path.is_file():
        return False, (f"no stored candles for {symbol} {timeframe}; fetch them with: "
                       f"tradeterm download {symbol} --timeframe {timeframe} --from YYYY-MM-DD")
    try:
        times = pl.read_parquet(path, columns=["open_time"])["open_time"]
    except (OSError, pl.exceptions.PolarsError) as exc:
        return False, f"{path.name}: cannot read it ({type(exc).__name__})"
    if not times.len():
        return False, f"{path.name}: no candles"
    first, last = int(times.min()), int(times.max())  # type: ignore[arg-type]
    return True, f"{path.name}: {times.len():,} bars, {_day(first)} → {_day(last)} UTC"


def trade_fills(result: BacktestResult) -> tuple[Fill, ...]:
    """Each trade as its entry and exit fills (the chart draws fills, live or backtested)."""
    fills: list[Fill] = []
    for n, bt in enumerate(result.trades):
        t = bt.trade
        exit_side = "sell" if t.side == "buy" else "buy"
        exit_liquidity = Liquidity.MAKER if bt.exit_reason == "target" else Liquidity.TAKER
        fills.append(Fill(f"bt-{n}-in", f"bt-{n}", t.symbol, t.side, t.entry_price, t.quantity,
                          bt.entry_fee, Liquidity.TAKER, t.opened_ms, t.strategy))
        fills.append(Fill(f"bt-{n}-out", f"bt-{n}", t.symbol, exit_side, t.exit_price,
                          t.quantity, bt.exit_fee, exit_liquidity, t.closed_ms, t.strategy))
    return tuple(fills)


def chart_candles(frame: Any, limit: int = CHART_BARS) -> tuple[Candle, ...]:
    rows = frame.tail(limit).select("open_time", "open", "high", "low", "close", "volume")
    return tuple(Candle(*row) for row in rows.iter_rows())


def _strategy(loaded: LoadedStrategy, params: tuple[tuple[str, str], ...]) -> Any:
    from pydantic import ValidationError

    try:
        return loaded.cls(dict(params))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "parameters"
        raise JobError(f"parameter {where}: {first['msg']}") from None


def run_job(settings: Any, loaded: LoadedStrategy, request: BacktestRequest,
            progress: Callable[[str], None] = lambda _: None) -> BacktestOutcome:
    """Load the candles, run the strategy with the paper broker's rules, compute the metrics.
    ``progress`` hears each stage as it starts."""
    from tradeterm.backtest.cli import UsageError, load_candles
    from tradeterm.backtest.metrics import result_metrics
    from tradeterm.backtest.runner import BacktestConfig, rules_for, run_backtest

    strategy = _strategy(loaded, request.params)
    progress(f"loading {request.symbol} {request.timeframe} candles")
    try:
        candles = load_candles(settings, request.timeframe, symbol=request.symbol,
                               first_day=request.first_day or None,
                               last_day=request.last_day or None)
    except UsageError as exc:
        raise JobError(str(exc)) from None
    progress(f"running {request.strategy} on {candles.height:,} bars")
    config = BacktestConfig.from_settings(settings, rules_for(request.symbol))
    try:
        result = run_backtest(strategy, candles, config, symbol=request.symbol,
                              timeframe=request.timeframe)
    except Exception as exc:  # the strategy's own code failed: say so, keep the screen
        raise JobError(f"{request.strategy} failed: {type(exc).__name__}: {exc}") from None
    progress("computing the metrics")
    metrics = result_metrics(result)
    return BacktestOutcome(result, metrics, chart_candles(candles), trade_fills(result))


def pnl_sign(value: str | None) -> int:
    """-1, 0 or 1 for a PnL written as a string (report rows keep money exact as text)."""
    if not value:
        return 0
    number = Decimal(value)
    return (number > 0) - (number < 0)
