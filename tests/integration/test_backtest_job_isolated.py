"""The engine runs a backtest screen's job in a child process: what a strategy under test does
there (print, crash, hang) never reaches the engine, which keeps running and gets a one-line
error; what comes back is the small plain report."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tradeterm.backtest.data.store import candle_path, write_atomic
from tradeterm.config import Settings
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.loader import load_directory
from tradeterm.backtest.job import BacktestRequest, JobError, list_isolated, run_isolated

TEMPLATE = """
import os
import sys
import time

import polars as pl

from tradeterm.strategy import Strategy


class Misbehaving(Strategy):
    name = "{name}"
    timeframe = "1m"

    def indicators(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame

    def signals(self, frame: pl.DataFrame) -> pl.DataFrame:
        {misbehave}
        up = pl.col("close") > pl.col("open")
        return frame.with_columns(
            entry_long=up, entry_short=pl.lit(False), exit_long=~up, exit_short=pl.lit(False),
            stop=pl.col("close") * 0.99, target_1=pl.col("close") * 1.02)
"""
MISBEHAVIOUR = {
    # would break the answer's frames if it reached the pipe
    "noisy": 'print("x" * 100_000); print("on stderr", file=sys.stderr); os.write(1, b"raw")',
    "crash": "os._exit(3)",  # as a segfault in a C extension would: no exception, no answer
    "hang": "time.sleep(600)",
}


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Settings, dict]:
    (tmp_path / "strategies").mkdir()
    for name, misbehave in MISBEHAVIOUR.items():
        (tmp_path / "strategies" / f"{name}.py").write_text(
            TEMPLATE.format(name=name, misbehave=misbehave))
    write_atomic(synthetic_candles(500, seed=3, start_price=60_000.0),
                 candle_path(tmp_path, "BTCUSDT", "1m"))
    settings = Settings(data_dir=tmp_path, symbols=["BTC/USDT"],
                        strategies={"dir": tmp_path / "strategies"})
    return settings, load_directory(tmp_path / "strategies").strategies  # they load


def _request(name: str) -> BacktestRequest:
    return BacktestRequest(name, "BTC/USDT", "1m")


def test_what_a_strategy_prints_stays_in_the_child(setup):
    settings, loaded = setup
    stages: list[str] = []
    report = run_isolated(settings, _request("noisy"), stages.append)
    assert report.trades_total > 10 and report.bars == 500
    assert len(report.trades) == report.trades_total == len(report.trade_signs)
    assert stages == ["starting the backtest process", "loading BTC/USDT 1m candles",
                      "running noisy on 500 bars", "computing the metrics"]


def test_a_child_that_dies_is_a_clear_error(setup):
    settings, loaded = setup
    with pytest.raises(JobError, match="ended without a result \\(exit code 3\\)"):
        run_isolated(settings, _request("crash"))


def test_cancelling_kills_the_child(setup):
    settings, loaded = setup
    stop = threading.Event()
    started = time.monotonic()
    threading.Timer(1.5, stop.set).start()
    with pytest.raises(JobError, match="cancelled"):
        run_isolated(settings, _request("hang"), cancelled=stop.is_set)
    assert time.monotonic() - started < 30  # not the strategy's 600 s


def test_an_unknown_strategy_is_a_clear_error(setup):
    settings, _ = setup
    with pytest.raises(JobError, match="no strategy 'nope' in"):
        run_isolated(settings, _request("nope"))


def test_the_strategies_are_listed_in_the_child(setup):
    settings, _ = setup
    choices, errors = list_isolated(settings.strategies.dir)
    assert [c.name for c in choices] == ["crash", "hang", "noisy"] and errors == []
    assert all(c.timeframe == "1m" for c in choices)


def test_reading_a_report_loads_no_backtest_machinery(setup):
    # the engine unpickles the child's report and broadcasts it: that must not import numba
    # (~60 MB), polars or the backtester into the process that trades
    import pickle
    import subprocess
    import sys

    settings, _ = setup
    report = run_isolated(settings, _request("noisy"))
    code = ("import pickle, sys; report = pickle.load(sys.stdin.buffer); "
            "assert report.trades_total > 10; "
            "bad = [m for m in ('numba', 'polars', 'numpy', 'tradeterm.backtest.runner') "
            "if m in sys.modules]; assert not bad, bad")
    done = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(report),
                          capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
