"""A backtest job as the engine runs it for the backtest screen: the form's choices in, a
display-ready :class:`~tradeterm.core.events.BacktestReport` out.

It is the ``tradeterm backtest`` path with the same pieces (``backtest.cli.load_candles`` and its
download hint, ``BacktestConfig.from_settings``, ``run_backtest``, ``result_metrics``, the
report's rows): the screen and the CLI give the same trades for the same choices. Every problem
the user can fix comes back as a :class:`JobError` with a one-line message, never a traceback.

The engine runs it in a child process (:func:`run_isolated`, called from a thread by
``tradeterm.service.backtests``): the engine may be holding live positions, and a strategy under
test that crashes, hangs or eats memory must not take that process with it. The child also lists
the strategies (:func:`list_isolated`), so no strategy file is imported into the engine for the
screen. The child's memory (candles, frames, the compiled backtester: ~200 MB for 130,000 1m
bars) is returned when it exits; what comes back is the small plain report, so neither the
engine nor any screen imports polars, numpy or the backtester to show it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradeterm.core.events import BacktestReport
from tradeterm.core.models import Candle, Side
from tradeterm.core.trading import Fill, Liquidity

if TYPE_CHECKING:
    from tradeterm.backtest.metrics import Metrics
    from tradeterm.backtest.runner import BacktestResult
    from tradeterm.strategy.loader import LoadedStrategy

CHART_BARS = 2_000
"""Candles handed to the chart (the newest): it shows one per column, and scrolls through these."""
REPORT_BARS = 1_000
"""Candles in the report every attached client receives (the newest; ~60 KB)."""
REPORT_TRADES = 500
"""Trades in the report's table (the newest); the total is said beside it."""
EQUITY_POINTS = 200
"""Samples of the equity and drawdown curves in the report (what a terminal chart can show)."""
STAGES = 4
"""Progress steps of a run: starting the process, loading candles, running, metrics."""


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
    from tradeterm.backtest.cli import store_path
    from tradeterm.indicators.candle_file import CandleFileError, read_candle_times

    path = store_path(settings.data_dir, symbol, timeframe)
    if not path.is_file():
        return False, (f"no stored candles for {symbol} {timeframe}; fetch them with: "
                       f"tradeterm download {symbol} --timeframe {timeframe} --from YYYY-MM-DD")
    try:
        times = read_candle_times(path)
    except CandleFileError as exc:
        return False, str(exc)
    if not times.len():
        return False, f"{path.name}: no candles"
    first, last = int(times.min()), int(times.max())  # type: ignore[arg-type]
    return True, f"{path.name}: {times.len():,} bars, {_day(first)} → {_day(last)} UTC"


def trade_fills(result: BacktestResult) -> tuple[Fill, ...]:
    """Each trade as its entry and exit fills (the chart draws fills, live or backtested)."""
    fills: list[Fill] = []
    for n, bt in enumerate(result.trades):
        t = bt.trade
        exit_side: Side = "sell" if t.side == "buy" else "buy"
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


def report_of(outcome: BacktestOutcome) -> BacktestReport:
    """The display-ready, size-capped report of a run (what every attached client receives)."""
    import numpy as np

    from tradeterm.backtest.metrics import drawdown_series
    from tradeterm.backtest.report import (
        display_row,
        market_format,
        summary_rows,
        summary_title,
        trade_rows,
    )

    result = outcome.result
    fmt = market_format(result)
    rows = trade_rows(result, last=REPORT_TRADES)
    shown = [display_row(row, fmt) for row in rows]
    equity = result.equity
    step = max(1, equity.size // EQUITY_POINTS)
    drawdown = drawdown_series(equity) if equity.size else np.zeros(0)
    candles = outcome.candles[-REPORT_BARS:]
    first = candles[0].open_time if candles else 0
    return BacktestReport(
        title=summary_title(result), bars=outcome.metrics.bars,
        metrics=tuple(summary_rows(result, outcome.metrics)),
        trades=tuple(tuple(cells[c] for c in TRADE_COLUMNS) for cells in reversed(shown)),
        trade_signs=tuple(pnl_sign(row["pnl"]) for row in reversed(rows)),
        trades_total=len(result.trades),
        equity=tuple(float(v) for v in equity[::step]),
        drawdown_pct=tuple(float(v) for v in drawdown[::step]),
        candles=candles, fills=tuple(f for f in outcome.fills if f.timestamp >= first),
    )


TRADE_COLUMNS = ("side", "entry_time", "entry_price", "exit_time", "exit_price", "exit_reason",
                 "quantity", "pnl", "r_multiple")
"""The report's trade columns (``backtest.report.trade_rows`` keys), newest trade first."""


@dataclass(frozen=True, slots=True)
class StrategyChoice:
    """A strategy the backtest form offers: its name, timeframe and parameters (plain)."""

    name: str
    timeframe: str
    params: tuple[tuple[str, str, str, str], ...]  # (name, kind, default, bounds shown)
    descriptions: tuple[str, ...]  # per parameter, "" when none


def _bounds(spec: Any) -> str:
    low = spec.ge if spec.ge is not None else spec.gt
    high = spec.le if spec.le is not None else spec.lt
    if low is None and high is None:
        return ""
    return f"{'' if low is None else low}..{'' if high is None else high}"


def list_strategies(directory: Path) -> tuple[list[StrategyChoice], list[str]]:
    """The strategies of ``directory`` as form choices, and the load errors (one line each).
    Imports the strategy files: call it in the child (:func:`list_isolated`)."""
    from tradeterm.strategy.loader import load_directory

    loaded = load_directory(directory)
    kinds = {int: "integer", float: "number"}
    choices = []
    for name in sorted(loaded.strategies):
        cls = loaded.strategies[name].cls
        space = cls.param_space()
        choices.append(StrategyChoice(
            name, cls.timeframe,
            tuple((p, kinds.get(spec.type, "text"), str(spec.default), _bounds(spec))
                  for p, spec in space.items()),
            tuple(spec.description or "" for spec in space.values())))
    return choices, [str(e) for e in loaded.errors]


def run_isolated(settings: Any, request: BacktestRequest,
                 progress: Callable[[str], object] = lambda _: None,
                 cancelled: Callable[[], bool] = lambda: False) -> BacktestReport:
    """:func:`run_job` in a child process (a fresh interpreter: nothing of the engine's state
    is inherited; the strategy is loaded there from the strategies directory), returning its
    :func:`report_of`. The job goes in on the child's stdin, progress and the report come back
    on its stdout as length-prefixed pickles; a child that dies is a :class:`JobError`;
    ``cancelled()`` turning true kills it.

    Not ``multiprocessing``: it hands the terminal's stderr to its helper processes, and inside
    the app stderr is Textual's capture, which has no file descriptor."""
    progress("starting the backtest process")
    return _in_child(("run", settings, request), progress, cancelled)


def optimize_isolated(settings: Any, request: Any,
                      progress: Callable[[Any], object] = lambda _: None,
                      cancelled: Callable[[], bool] = lambda: False) -> Any:
    """``backtest.optimize_job.run_optimize_job`` in a child process, as :func:`run_isolated`
    (``request``: an ``OptimizeRequest``; ``progress`` hears ``(phase, done, total, best)``)."""
    return _in_child(("optimize", settings, request), progress, cancelled)


def list_isolated(directory: Path, cancelled: Callable[[], bool] = lambda: False
                  ) -> tuple[list[StrategyChoice], list[str]]:
    """:func:`list_strategies` in a child process (see :func:`run_isolated`)."""
    return _in_child(("list", directory), lambda _: None, cancelled)


def data_isolated(settings: Any, symbol: str, timeframe: str,
                  cancelled: Callable[[], bool] = lambda: False) -> tuple[bool, str]:
    """:func:`data_source` in a child process (reading candle files imports polars)."""
    return _in_child(("data", settings, symbol, timeframe),
                     lambda _: None, cancelled)


def _in_child(job: tuple[Any, ...], progress: Callable[[str], object],
              cancelled: Callable[[], bool]) -> Any:
    import pickle
    import select
    import subprocess

    entry = f"from {__name__} import _child_main; _child_main()"
    child = subprocess.Popen([sys.executable, "-c", entry], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, close_fds=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        try:
            pickle.dump(job, child.stdin)
            child.stdin.close()
        except BrokenPipeError:
            pass  # the child is gone already: reading says so
        while True:
            if cancelled():
                raise JobError("cancelled")
            if not select.select([child.stdout], [], [], 0.1)[0]:
                continue
            frame = _read_frame(child.stdout)
            if frame is None:
                raise JobError("the backtest process ended without a result "
                               f"(exit code {child.wait(5)})")
            try:
                kind, value = pickle.loads(frame)
            except Exception as exc:  # noqa: BLE001 - a version skew between the two sides
                raise JobError(f"unreadable answer from the backtest process: {exc}") from None
            if kind == "progress":
                progress(value)
            elif kind == "error":
                raise JobError(value)
            else:
                return value
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(5)
        child.stdout.close()


_HEADER = 8


def _read_frame(stream: Any) -> bytes | None:
    """One length-prefixed frame, or None at the end of the stream."""
    header = stream.read(_HEADER)
    if len(header) < _HEADER:
        return None
    size = int.from_bytes(header, "big")
    body = stream.read(size)
    return body if len(body) == size else None


def _child_main() -> None:
    """The child's side of :func:`run_isolated`. The protocol keeps the real stdout; file
    descriptors 1 and 2 go to /dev/null, so nothing a strategy or a library prints can reach
    the workstation's screen or break a frame."""
    import pickle

    out = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)

    def send(kind: str, value: Any) -> None:
        body = pickle.dumps((kind, value), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(len(body).to_bytes(_HEADER, "big") + body)
        out.flush()

    try:
        job = pickle.load(sys.stdin.buffer)
        if job[0] == "list":
            send("done", list_strategies(job[1]))
            return
        if job[0] == "data":
            send("done", data_source(*job[1:]))
            return
        kind, settings, request = job
        from tradeterm.strategy.loader import load_directory

        loaded = load_directory(settings.strategies.dir).strategies.get(request.strategy)
        if loaded is None:
            raise JobError(f"no strategy {request.strategy!r} in {settings.strategies.dir}")
        if kind == "optimize":
            from tradeterm.backtest.optimize_job import OptimizeJobError, run_optimize_job

            try:
                send("done", run_optimize_job(settings, loaded, request,
                                              lambda *step: send("progress", step)))
            except OptimizeJobError as exc:
                send("error", str(exc))
            return
        outcome = run_job(settings, loaded, request, lambda stage: send("progress", stage))
        send("done", report_of(outcome))
    except JobError as exc:
        send("error", str(exc))
    except Exception as exc:  # noqa: BLE001 - the screen shows it; the child ends anyway
        send("error", f"{type(exc).__name__}: {exc}")


def pnl_sign(value: str | None) -> int:
    """-1, 0 or 1 for a PnL written as a string (report rows keep money exact as text)."""
    if not value:
        return 0
    number = Decimal(value)
    return (number > 0) - (number < 0)
