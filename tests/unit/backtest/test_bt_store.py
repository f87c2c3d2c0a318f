"""Backtests stored in the journal and re-read: the same trades (exact Decimals), the same curve,
the same metrics; ``tradeterm backtest`` stores by default and ``tradeterm journal backtest ID``
prints the report from what the journal holds."""

from __future__ import annotations

import argparse
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
from bt_helpers import config
from rich.console import Console

from tradeterm.backtest.cli import add_backtest_parser, backtest_command, show_stored
from tradeterm.backtest.metrics import result_metrics
from tradeterm.backtest.runner import run_backtest
from tradeterm.backtest.store import load, save
from tradeterm.cli import main as tradeterm_main
from tradeterm.config import load_settings
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.journal import JournalReader
from tradeterm.journal.cli import journal_command
from tradeterm.strategy.loader import load_directory

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"


def _ema_cross_result(bps: str = "0"):
    cls = load_directory(STRATEGIES).strategies["ema_cross"].cls
    return run_backtest(cls({"fast": 12}), synthetic_candles(3000, seed=5),
                        config(slippage_bps=Decimal(bps)), symbol="TEST/USDT")


def test_stored_backtest_when_reread_then_identical_to_the_run(tmp_path):
    result = _ema_cross_result("1.5")
    assert len(result.trades) > 5  # something to compare
    journal = tmp_path / "journal.sqlite"
    first = save(journal, result, created_ms=1)
    second = save(journal, result, created_ms=2)
    assert second == first + 1
    found = load(journal, first)
    assert found is not None
    row, again = found
    assert again.trades == result.trades  # every Decimal equal, every bar index equal
    assert [str(t.trade.pnl) for t in again.trades] == [str(t.trade.pnl) for t in result.trades]
    assert again.final_balance == result.final_balance
    assert str(again.final_balance) == str(result.final_balance)
    assert again.config == result.config and again.params == result.params == row.params
    assert np.array_equal(again.equity, result.equity)
    assert np.array_equal(again.open_time, result.open_time)
    assert (again.skipped, again.exposure_bars) == (result.skipped, result.exposure_bars)
    assert result_metrics(again) == result_metrics(result)
    assert row.metrics["stats"]["net_pnl"] == str(result_metrics(result).stats.net_pnl)
    assert (row.start_ms, row.end_ms, row.bars) == (
        int(result.open_time[0]), int(result.open_time[-1]), result.open_time.size)
    with JournalReader(journal) as reader:
        assert [b.id for b in reader.backtests()] == [second, first]


def _cli(tmp_path: Path, *argv: str, **settings: object) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    add_backtest_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["backtest", *argv])
    conf = load_settings(None, data_dir=tmp_path, strategies={"dir": STRATEGIES}, **settings)
    console = Console(record=True, width=160, force_terminal=False)
    return backtest_command(args, conf, console), console.export_text()


def test_backtest_command_stores_by_default_and_journal_shows_it_again(tmp_path, capsys,
                                                                        monkeypatch):
    data = tmp_path / "candles.parquet"
    synthetic_candles(3000, seed=5).write_parquet(data)
    status, text = _cli(tmp_path, "ema_cross", "--timeframe", "1m", "--data", str(data), "--no-chart",
                        "--slippage-ticks", "2", "--balance", "5000")
    assert status == 0, text
    match = re.search(r"stored as backtest (\d+)", text)
    assert match, text
    backtest_id = int(match.group(1))
    settings = load_settings(None, data_dir=tmp_path)
    found = load(settings.journal_file, backtest_id)
    assert found is not None
    _, result = found
    assert result.config.slippage_ticks == 2 and result.config.starting_balance == 5000
    net = result_metrics(result).stats.net_pnl

    assert journal_command(["backtests"], settings) == 0
    listing = capsys.readouterr().out
    assert "ema_cross" in listing and str(backtest_id) in listing
    assert journal_command(["backtest", str(backtest_id)], settings) == 1  # needs the CLI's hook
    assert "not available" in capsys.readouterr().err
    assert journal_command(["backtest", str(backtest_id)], settings, show_stored) == 0
    report = capsys.readouterr().out
    assert "profit factor" in report and f"{net:,.2f}" in report
    assert journal_command(["backtest", "999"], settings, show_stored) == 1
    capsys.readouterr()
    # The command line hands the backtest's report printer to the journal's command.
    monkeypatch.chdir(tmp_path)  # no ./config.toml: defaults and the environment only
    monkeypatch.setenv("TRADETERM_DATA_DIR", str(tmp_path))
    assert tradeterm_main(["journal", "backtest", str(backtest_id)]) == 0
    assert "profit factor" in capsys.readouterr().out

    status, text = _cli(tmp_path, "ema_cross", "--timeframe", "1m", "--data", str(data),
                        "--no-chart", "--no-store")
    assert status == 0 and "stored as" not in text
    with JournalReader(settings.journal_file) as reader:
        assert len(reader.backtests()) == 1


def test_backtest_settings_give_the_costs_and_flags_override_them(tmp_path):
    data = tmp_path / "candles.parquet"
    synthetic_candles(600, seed=5).write_parquet(data)
    backtest = {"slippage_ticks": 3, "slippage_bps": "2", "taker_fee": "0.0004", "store": False}
    status, text = _cli(tmp_path, "ema_cross", "--timeframe", "1m", "--data", str(data), "--no-chart",
                        backtest=backtest, paper={"starting_balance": "777"})
    assert status == 0 and "stored as" not in text  # [backtest] store = false
    from tradeterm.backtest.cli import config_from_args

    settings = load_settings(None, backtest=backtest, paper={"starting_balance": "777"})
    cfg = config_from_args(settings, "BTC/USDT", None, None, None)
    assert (cfg.slippage_ticks, cfg.slippage_bps) == (3, Decimal(2))
    assert (cfg.taker_fee, cfg.maker_fee) == (Decimal("0.0004"), Decimal("0.001"))
    assert cfg.starting_balance == Decimal(777)  # unset in [backtest]: [paper]'s
    cfg = config_from_args(settings, "BTC/USDT", 0, "0.5", "1000")
    assert (cfg.slippage_ticks, cfg.slippage_bps, cfg.starting_balance) == (
        0, Decimal("0.5"), Decimal(1000))
    status, text = _cli(tmp_path, "ema_cross", "--timeframe", "1m", "--data", str(data), "--balance", "-1")
    assert status == 2 and "--balance" in text
