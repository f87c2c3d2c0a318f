"""``backtest.optimize`` through the real engine service: a headless engine process, real
protocol clients over its socket, the search run in the engine's backtest child on generated
candles in the engine's download store. The heatmap must be the trial table's objectives, the
equity curves the best trials', and the job slot shared with backtests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_helpers import EngineProcess, attached, until

from tradeterm.backtest.data.store import candle_path, write_atomic
from tradeterm.core.events import Event, OptimizeFinished, OptimizeProgressed
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.wire.codec import convert
from tradeterm.wire.remote import RequestFailed

pytestmark = pytest.mark.integration

BTC = "BTC/USDT"
STRATEGIES = Path(__file__).resolve().parents[2] / "strategies"
BARS = 3000
GRID = {"strategy": "ema_cross", "symbol": BTC, "timeframe": "1h", "method": "grid",
        "steps": 3, "objective": "sharpe", "x": "fast", "y": "slow", "split": 1.0}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    root = tmp_path_factory.mktemp("optimize")
    proc = EngineProcess(root)
    try:
        (root / "strategies").symlink_to(STRATEGIES)  # the engine's strategies.dir (its cwd)
        write_atomic(synthetic_candles(BARS, seed=12, start_price=60_000.0,
                                       interval_ms=3_600_000),
                     candle_path(proc.journal.parent, "BTCUSDT", "1h"))
        asyncio.run(proc.ready())
        yield proc
    finally:
        proc.stop()


async def test_a_grid_search_streams_progress_and_ends_with_its_heatmap(
        engine: EngineProcess) -> None:
    async with attached(engine.socket, client="optimizer") as trader:
        heard: list[Event] = []
        trader.add_listener(lambda e: heard.append(e)
                            if isinstance(e, OptimizeProgressed | OptimizeFinished) else None)
        async with attached(engine.socket, role="read-only", client="watcher") as watcher:
            with pytest.raises(RequestFailed, match="read-only"):
                await watcher.ask("backtest.optimize", GRID)
        with pytest.raises(RequestFailed, match="method: one of tpe, grid, random"):
            await trader.ask("backtest.optimize", {**GRID, "method": "nope"})
        job = (await trader.ask("backtest.optimize", GRID))["job"]
        # one job at a time, backtest or optimisation
        with pytest.raises(RequestFailed, match="an optimisation is running"):
            await trader.ask("backtest.start", {"strategy": "ema_cross", "symbol": BTC,
                                                "timeframe": "1h"})
        with pytest.raises(RequestFailed, match="an optimisation is running"):
            await trader.ask("backtest.optimize", GRID)
        await until(trader, lambda s: any(isinstance(e, OptimizeFinished) for e in heard),
                    timeout=180)
        state = await trader.ask("backtest.state", {})
    (finished,) = [e for e in heard if isinstance(e, OptimizeFinished)]
    assert finished.job == job and finished.error is None, finished.error
    report = finished.report
    assert report is not None
    assert convert(state["last_optimize"], OptimizeFinished, "state").report == report
    assert state["optimizing"] is None

    trials = [(e.done, e.total) for e in heard
              if isinstance(e, OptimizeProgressed) and e.phase == "trials"]
    # fast {2, 26, 50} x slow {5, 52, 100}; (26, 5) and (50, 5) break "fast < slow"
    assert trials == [(k, 7) for k in range(1, 8)]
    assert len(report.trials) == 7 and report.refused == 2

    # the heatmap is the trial table's objectives, cell by cell; the refused cells blank
    h = report.heatmap
    assert (h.x, h.y, h.x_values, h.y_values) == ("fast", "slow", ("2", "26", "50"),
                                                  ("5", "52", "100"))
    table = {(dict(t.params)["fast"], dict(t.params)["slow"]): t.objective
             for t in report.trials}
    cells = {(fast, slow): h.cells[r][c] for r, slow in enumerate(h.y_values)
             for c, fast in enumerate(h.x_values)}
    assert {k: v for k, v in cells.items() if v is not None} == table
    assert [k for k, v in cells.items() if v is None] == [("26", "5"), ("50", "5")]
    # the table is ranked best first; the progress' best so far ended at the best trial
    objectives = [t.objective for t in report.trials]
    assert objectives == sorted(objectives, reverse=True)
    last = [e for e in heard if isinstance(e, OptimizeProgressed)][-1]
    assert last.best == f"sharpe {objectives[0]:.3f}"

    # the equity curves are the best five trials', each ending where its backtest ended
    assert [c.trial for c in report.curves] == [t.number for t in report.trials[:5]]
    for curve, trial in zip(report.curves, report.trials, strict=False):
        assert 2 <= len(curve.equity) <= 201
        ret = (curve.equity[-1] / curve.equity[0] - 1) * 100
        assert abs(ret - float(trial.in_sample[2])) <= 0.006, (curve.label, trial)
        fast, slow = dict(trial.params)["fast"], dict(trial.params)["slow"]
        assert f"fast={fast} slow={slow}" in curve.label
