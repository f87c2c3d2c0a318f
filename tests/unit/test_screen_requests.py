"""The journal and backtest requests' arguments are checked before anything runs: a client's
bad request is a one-line refusal, never a job or a read (``service/backtests.py``,
``service/journal_requests.py``), and a start while a job runs is refused naming it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest

from tradeterm.config import Settings
from tradeterm.service.asking import Asker, RequestRefused
from tradeterm.service.backtests import Backtests, request_of
from tradeterm.service.requests import answer

TRADER = Asker("trader", lambda: 1, 0)
READER = Asker("read-only", lambda: 1, 0)


def _engine(tmp_path: Path) -> SimpleNamespace:
    events: list[object] = []
    return SimpleNamespace(settings=Settings(data_dir=tmp_path, symbols=["BTC/USDT"]),
                           publish=events.append, events=events)


def test_a_start_is_read_from_plain_args() -> None:
    request = request_of({"strategy": "ema_cross", "symbol": "btc/usdt", "timeframe": "5m",
                          "first_day": "2024-01-02", "params": {"slow": "30", "fast": "7"}})
    assert (request.strategy, request.symbol, request.timeframe) == ("ema_cross", "BTC/USDT",
                                                                     "5m")
    assert request.first_day == "2024-01-02" and request.last_day is None
    assert request.params == (("fast", "7"), ("slow", "30"))


@pytest.mark.parametrize(("args", "reason"), [
    ({"strategy": "x", "symbol": "BTC/USDT", "timeframe": "7m"}, "timeframe: one of"),
    ({"symbol": "BTC/USDT", "timeframe": "1m"}, "strategy: required"),
    ({"strategy": "x", "symbol": "BTC/USDT", "timeframe": "1m", "params": [["fast", 7]]},
     "params: a map"),
    ({"strategy": "x" * 300, "symbol": "BTC/USDT", "timeframe": "1m"}, "strategy: a short"),
])
def test_a_bad_start_is_refused_with_the_reason(args: dict, reason: str) -> None:
    with pytest.raises(RequestRefused, match=reason):
        request_of(args)


async def test_a_read_only_client_cannot_start_and_bad_pages_are_refused(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    with pytest.raises(RequestRefused, match="read-only"):
        await answer(engine, READER, "backtest.start",  # type: ignore[arg-type]
                     {"strategy": "ema_cross", "symbol": "BTC/USDT", "timeframe": "1m"})
    for args, reason in (({"tabs": ["trades", "passwords"]}, "tabs: a list of"),
                         ({"limit": -1}, "limit: a number"), ({"limit": True}, "limit")):
        with pytest.raises(RequestRefused, match=reason):
            await answer(engine, TRADER, "journal.page", args)  # type: ignore[arg-type]
    no_journal = await answer(engine, READER, "journal.page", {})  # type: ignore[arg-type]
    assert "No journal at" in no_journal["message"]


async def test_one_job_at_a_time_and_the_engine_hears_its_end(tmp_path: Path) -> None:
    engine = _engine(tmp_path)  # no strategies directory: the job ends with the child's error
    jobs = Backtests(engine)  # type: ignore[arg-type]
    first = jobs.begin(request_of({"strategy": "nope", "symbol": "BTC/USDT", "timeframe": "1m"}))
    with pytest.raises(RequestRefused, match="a backtest is running \\(nope on BTC/USDT 1m, job 1"):
        jobs.begin(request_of({"strategy": "other", "symbol": "BTC/USDT", "timeframe": "1m"}))
    for _ in range(600):
        if jobs.running is None:
            break
        await asyncio.sleep(0.05)
    assert jobs.last is not None and jobs.last.job == first and jobs.last.report is None
    assert "no strategy 'nope'" in (jobs.last.error or "")
    assert engine.events[-1] is jobs.last  # published, as every client hears it
    assert jobs.begin(request_of({"strategy": "nope", "symbol": "BTC/USDT",
                                  "timeframe": "1m"})) == 2  # free again
    await jobs.close()


def test_a_finished_backtest_is_one_short_line_in_the_engine_log() -> None:
    from tradeterm.core.events import BacktestFinished, BacktestReport
    from tradeterm.core.models import Candle
    from tradeterm.headless import describe

    report = BacktestReport("ema_cross on BTC/USDT 1m", 4000, (("trades", "55"),) * 20,
                            (("long",) * 9,) * 500, (1,) * 500, 55, (1.0,) * 200, (0.0,) * 200,
                            tuple(Candle(i, 1, 1, 1, 1, 1) for i in range(1000)), ())
    line = describe(BacktestFinished(0, 3, "ema_cross", "BTC/USDT", "1m", report=report))
    assert line.endswith("BacktestFinished job=3 ema_cross BTC/USDT 1m trades=55 bars=4000")
    failed = describe(BacktestFinished(0, 4, "x", "BTC/USDT", "1m", error="cancelled"))
    assert failed.endswith("job=4 x BTC/USDT 1m error=cancelled")
