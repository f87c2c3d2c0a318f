"""``backtest.optimize``'s arguments are checked before anything runs (one-line refusals), and
an optimisation is one line in the engine's log, not one per trial (``service/backtests.py``,
``core/event_lines.py``, ``service/status_log.py``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradeterm.core.events import (
    EquityCurve,
    OptimizeFinished,
    OptimizeHeatmap,
    OptimizeProgressed,
    OptimizeReport,
    OptimizeTrial,
)
from tradeterm.core.models import EnginePhase, EngineSnapshot, MarketSnapshot
from tradeterm.service.asking import RequestRefused
from tradeterm.service.backtests import optimize_request_of
from tradeterm.service.status_log import StatusLog
from tradeterm.wire.codec import event_frame, event_of

BASE = {"strategy": "ema_cross", "symbol": "btc/usdt", "timeframe": "1h"}


def test_an_optimisation_is_read_from_plain_args_with_defaults() -> None:
    r = optimize_request_of({**BASE, "params": {"trend": "100"}})
    assert (r.symbol, r.method, r.trials, r.objective, r.x, r.y, r.split) == (
        "BTC/USDT", "tpe", 50, "sharpe", None, None, 0.7)
    assert r.params == (("trend", "100"),)
    r = optimize_request_of({**BASE, "method": "grid", "steps": 3, "x": "fast", "y": "slow",
                             "objective": "max_drawdown", "split": 1})
    assert (r.method, r.steps, r.x, r.y, r.objective, r.split) == ("grid", 3, "fast", "slow",
                                                                  "max_drawdown", 1.0)


@pytest.mark.parametrize(("extra", "reason"), [
    ({"method": "nsga2"}, "method: one of tpe, grid, random"),
    ({"objective": "luck"}, "objective: one of"),
    ({"trials": 0}, "trials: a number from 1 to 2000"),
    ({"trials": "many"}, "trials: a number"),
    ({"trials": True}, "trials: a number"),
    ({"steps": 1}, "steps: a number from 2"),
    ({"split": 0}, "split: a number"),
    ({"timeframe": "7m"}, "timeframe: one of"),
])
def test_a_bad_optimisation_is_refused_with_the_reason(extra: dict, reason: str) -> None:
    with pytest.raises(RequestRefused, match=reason):
        optimize_request_of({**BASE, **extra})


def _report() -> OptimizeReport:
    trial = OptimizeTrial(3, (("fast", "9"), ("slow", "21")), float("inf"),
                          ("12", "inf", "1.50", "0.70", "2.10"), None, "15.25")
    return OptimizeReport("t", "grid", "profit_factor", 4000, 2800, (trial,) * 81, 2, 0,
                          OptimizeHeatmap("fast", "slow", ("9",), ("21",), ((float("inf"),),)),
                          (EquityCurve(3, "#1 fast=9 slow=21", (10_000.0,) * 200),))


def test_the_report_travels_the_wire_unchanged() -> None:
    event = OptimizeFinished(0, 5, "ema_cross", "BTC/USDT", "1h", report=_report())
    assert event_of(event_frame(event)) == event


def test_an_optimisation_is_a_few_lines_in_the_engine_log_not_one_per_trial() -> None:
    lines: list[str] = []
    snap = EngineSnapshot(1, EnginePhase.RUNNING, "binance", "paper", True, ("BTC/USDT",),
                          "BTC/USDT", "1h", MarketSnapshot("BTC/USDT", "1h"))
    log = StatusLog(lambda: snap, lines.append, every_s=60, limit_pct=Decimal(3))
    for done in range(0, 51):
        log.on_event(OptimizeProgressed(0, 5, "ema_cross", "BTC/USDT", "1h", "trials", done, 50))
    log.on_event(OptimizeFinished(0, 5, "ema_cross", "BTC/USDT", "1h", report=_report()))
    assert len(lines) == 3, lines  # the phase's start and end, the result
    assert lines[-1].endswith("OptimizeFinished job=5 ema_cross BTC/USDT 1h trials=81 "
                              "bars=4000")
    assert lines[0].endswith("job=5 trials 0/50") and lines[1].endswith("trials 50/50")
