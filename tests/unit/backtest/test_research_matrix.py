"""The research matrix: ``optimize`` and ``backtest`` over several symbols and timeframes in one
command, read from the candle store, one row per market; a market without candles is named."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polars as pl
from rich.console import Console
from test_opt_command import HOLD

from tradeterm.backtest.cli import add_backtest_parser, backtest_command, store_path
from tradeterm.backtest.optimize_cli import add_optimize_parser, optimize_command
from tradeterm.backtest.runner import BacktestConfig, rules_for, run_backtest
from tradeterm.config import load_settings
from tradeterm.strategy.loader import load_file

MARKETS = {("BTC/USDT", "1m"): 60_000, ("BTC/USDT", "5m"): 300_000,
           ("ETH/USDT", "1m"): 60_000, ("ETH/USDT", "5m"): 300_000}


def _candles(n: int, step_ms: int, slope: float) -> pl.DataFrame:
    close = [100.0 + slope * i for i in range(n)]
    return pl.DataFrame({
        "open_time": [1_704_067_200_000 + i * step_ms for i in range(n)],
        "open": [c - 0.5 * slope for c in close], "high": [c + 0.2 for c in close],
        "low": [c - 0.7 for c in close], "close": close, "volume": [1.0] * n})


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "hold.py").write_text(HOLD)
    for k, ((symbol, tf), ms) in enumerate(MARKETS.items()):
        path = store_path(tmp_path, symbol, tf)
        path.parent.mkdir(parents=True, exist_ok=True)
        _candles(200 + 20 * k, ms, 1.0 + k).write_parquet(path)
    return strategies, tmp_path


def _run(add, command, tmp_path, strategies, *argv):
    parser = argparse.ArgumentParser()
    add(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    settings = load_settings(None, data_dir=tmp_path, strategies={"dir": strategies})
    console = Console(record=True, width=220, force_terminal=False)
    return command(args, settings, console), console.export_text()


def test_optimize_over_two_symbols_and_two_timeframes(tmp_path):
    strategies, _ = _setup(tmp_path)
    out = tmp_path / "m.json"
    status, text = _run(add_optimize_parser, optimize_command, tmp_path, strategies,
                        "optimize", "hold", "--symbols", "BTC/USDT,ETH/USDT", "--timeframes",
                        "1m", "--timeframes", "5m", "--param", "hold=2,8,20", "--metric",
                        "total_return", "--jobs", "1", "--json", str(out))
    assert status == 0, text
    docs = json.loads(out.read_text())["matrix"]
    assert [(d["symbol"], d["timeframe"]) for d in docs] == list(MARKETS)
    assert [d["in_sample"]["bars"] for d in docs] == [140, 154, 168, 182]  # 0.7 of each file
    assert all(d["top"][0]["params"]["hold"] == 20 for d in docs)  # rising prices: hold longest
    assert "research matrix" in text and text.count("hold=20") >= 4


def test_optimize_matrix_names_a_missing_market(tmp_path):
    strategies, _ = _setup(tmp_path)
    status, text = _run(add_optimize_parser, optimize_command, tmp_path, strategies,
                        "optimize", "hold", "--symbols", "BTC/USDT,SOL/USDT", "--param",
                        "hold=2,8", "--jobs", "1")
    assert status == 2 and "no stored candles for SOL/USDT 1m" in text


def test_backtest_matrix_rows_equal_single_backtests(tmp_path):
    strategies, _ = _setup(tmp_path)
    out = tmp_path / "b.json"
    status, text = _run(add_backtest_parser, backtest_command, tmp_path, strategies,
                        "backtest", "hold", "--symbols", "BTC/USDT", "--symbols",
                        "ETH/USDT,SOL/USDT", "--timeframes", "1m,5m", "--param", "hold=5",
                        "--no-store", "--json", str(out))
    assert status == 0, text
    rows = json.loads(out.read_text())["matrix"]
    assert [(r["symbol"], r["timeframe"]) for r in rows] == [*MARKETS, ("SOL/USDT", "1m"),
                                                            ("SOL/USDT", "5m")]
    cls = next(c for c in load_file(strategies / "hold.py") if c.name == "hold")
    settings = load_settings(None, data_dir=tmp_path, strategies={"dir": strategies})
    for row in rows[:4]:
        candles = pl.read_parquet(store_path(tmp_path, row["symbol"], row["timeframe"]))
        config = BacktestConfig.from_settings(settings, rules_for(row["symbol"]))
        alone = run_backtest(cls({"hold": 5}), candles, config, symbol=row["symbol"],
                             timeframe=row["timeframe"])
        assert row["trades"] == len(alone.trades) > 0
        assert row["final_balance"] == str(alone.final_balance)
    assert all("error" in r for r in rows[4:])
    assert "no candles" in text and "SOL/USDT 1m: no stored candles" in text


def test_backtest_matrix_refuses_a_peeking_strategy_on_every_market(tmp_path):
    from lookahead_samples import RARE_PEEK_SRC, write

    from tradeterm.indicators.frame import synthetic_candles

    strategies = tmp_path / "strategies"
    strategies.mkdir()
    write(strategies, RARE_PEEK_SRC, "rare_peek")
    for symbol in ("BTC/USDT", "ETH/USDT"):
        path = store_path(tmp_path, symbol, "1m")
        path.parent.mkdir(parents=True, exist_ok=True)
        synthetic_candles(3000, seed=len(symbol)).write_parquet(path)
    out = tmp_path / "m.json"
    status, text = _run(add_backtest_parser, backtest_command, tmp_path, strategies,
                        "backtest", "rare_peek", "--symbols", "BTC/USDT,ETH/USDT",
                        "--timeframes", "1m", "--no-store", "--json", str(out))
    rows = json.loads(out.read_text())["matrix"]
    assert [r.get("error", "")[:34] for r in rows] == ["refused: rare_peek looks ahead at "] * 2
    assert "trades" not in rows[0]
    status, text = _run(add_backtest_parser, backtest_command, tmp_path, strategies,
                        "backtest", "rare_peek", "--symbols", "BTC/USDT,ETH/USDT",
                        "--timeframes", "1m", "--no-store", "--no-guard", "--json", str(out))
    assert "look-ahead guard: SKIPPED (--no-guard)" in text
    assert all("trades" in r for r in json.loads(out.read_text())["matrix"])
