"""``tradeterm backtest`` end to end on a small generated parquet."""

from __future__ import annotations

import argparse
import csv
import json
from decimal import Decimal
from pathlib import Path

from rich.console import Console

from tradeterm.backtest.cli import add_backtest_parser, backtest_command, store_path
from tradeterm.config import load_settings
from tradeterm.indicators.frame import synthetic_candles

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"


def _run(tmp_path: Path, *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    add_backtest_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["backtest", *argv])
    settings = load_settings(None, data_dir=tmp_path, strategies={"dir": STRATEGIES})
    console = Console(record=True, width=120, force_terminal=False)
    return backtest_command(args, settings, console), console.export_text()


def test_backtest_on_a_parquet_writes_json_and_csv(tmp_path):
    data = tmp_path / "candles.parquet"
    synthetic_candles(4000, seed=5).write_parquet(data)
    out_json, out_csv = tmp_path / "r.json", tmp_path / "t.csv"
    status, text = _run(tmp_path, "ema_cross", "--data", str(data), "--param", "fast=12",
                        "--timeframe", "1m", "--json", str(out_json), "--csv", str(out_csv),
                        "--no-chart")
    assert status == 0, text
    assert "profit factor" in text and "max drawdown" in text
    doc = json.loads(out_json.read_text())
    assert doc["strategy"] == "ema_cross" and doc["params"]["fast"] == 12
    trades = doc["trades"]
    assert doc["metrics"]["stats"]["trades"] == len(trades) > 0
    final = Decimal(doc["metrics"]["final_balance"])
    assert final == Decimal(10000) + sum(Decimal(t["pnl"]) for t in trades)
    rows = list(csv.DictReader(out_csv.open()))
    assert [r["pnl"] for r in rows] == [t["pnl"] for t in trades]


def test_store_and_date_range(tmp_path):
    path = store_path(tmp_path, "BTC/USDT", "1m")
    path.parent.mkdir(parents=True)
    synthetic_candles(3 * 1440, seed=2).write_parquet(path)  # 2024-01-01 .. 01-03
    out_json = tmp_path / "r.json"
    status, text = _run(tmp_path, "ema_cross", "--symbol", "BTC/USDT", "--timeframe", "1m",
                        "--from", "2024-01-02", "--to", "2024-01-02", "--json", str(out_json))
    assert status == 0, text
    doc = json.loads(out_json.read_text())
    assert doc["metrics"]["bars"] == 1440
    assert doc["start"] == "2024-01-02 00:00" and doc["end"] == "2024-01-02 23:59"


def test_missing_store_says_how_to_download(tmp_path):
    status, text = _run(tmp_path, "ema_cross", "--symbol", "ETH/USDT")
    assert status == 2
    assert "tradeterm download ETH/USDT" in " ".join(text.split())


def test_unknown_strategy_and_bad_param(tmp_path):
    assert _run(tmp_path, "nope")[0] == 2
    data = tmp_path / "c.parquet"
    synthetic_candles(500, seed=1).write_parquet(data)
    status, text = _run(tmp_path, "ema_cross", "--data", str(data), "--param", "fast=1")
    assert status == 2 and "fast" in text


def test_chart_draws_equity_and_drawdown_as_text():
    import numpy as np

    from tradeterm.backtest.report import chart

    text = chart(np.array([100.0, 110.0, 90.0, 120.0] * 100), width=60, height=16)
    assert "Equity" in text and "Drawdown %" in text
    # the curves themselves, not only the frames (plotext 6 drew empty plots for a while)
    plotted = set("▖▗▘▙▚▛▜▝▞▟▀▄▌▐█")
    assert sum(ch in plotted for ch in text) > 50


def test_candles_of_another_timeframe_than_the_run_are_refused(tmp_path):
    """ema_cross trades 1h bars by default: a file of 1m candles is not silently taken as
    hours (every duration and annualised figure would be 60 times off)."""
    data = tmp_path / "candles.parquet"
    synthetic_candles(600, seed=5).write_parquet(data)
    status, text = _run(tmp_path, "ema_cross", "--data", str(data), "--no-chart")
    assert status == 2
    shown = " ".join(text.split())
    assert "the candles are 1m bars but ema_cross is backtested on 1h" in shown
    assert "--timeframe 1m" in shown
    hourly = tmp_path / "hours.parquet"
    synthetic_candles(600, seed=5, interval_ms=3_600_000).write_parquet(hourly)
    status, text = _run(tmp_path, "ema_cross", "--data", str(hourly), "--no-chart")
    assert status == 0, text
