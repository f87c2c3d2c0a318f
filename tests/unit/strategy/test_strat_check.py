"""``check_strategy_command``: 0 clean, 1 look-ahead (column and bar printed), 2 cannot load."""

from __future__ import annotations

import io

import polars as pl
import pytest
from rich.console import Console
from strat_samples import always_source, write
from test_strat_engine import PEEK_SRC

from tradeterm.config import Settings, StrategySettings
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.check import check_strategy_command


@pytest.fixture
def setup(tmp_path):
    folder = tmp_path / "strats"
    folder.mkdir()
    write(folder, "always.py", always_source())
    write(folder, "peek.py", PEEK_SRC)
    write(folder, "broken.py", "x = (\n")
    settings = Settings(strategies=StrategySettings(dir=folder, lookahead_cuts=4))
    return folder, settings


def run(name, data, settings):
    buf = io.StringIO()
    code = check_strategy_command(name, data, settings, Console(file=buf, width=200))
    return code, buf.getvalue()


def test_a_clean_strategy_is_ok_on_synthetic_candles(setup):
    code, text = run("always", None, setup[1])
    assert code == 0 and "ok" in text and "5000 synthetic 1m bars" in text


def test_a_peeking_strategy_reports_column_and_bar(setup):
    code, text = run("peek", None, setup[1])
    assert code == 1 and "LOOK-AHEAD" in text and "entry_long" in text and "at bar" in text


def test_unknown_or_broken_strategies_cannot_load(setup):
    code, text = run("ghost", None, setup[1])
    assert code == 2 and "no strategy named 'ghost'" in text and "always" in text
    code, text = run("broken", None, setup[1])
    assert code == 2 and "broken.py:" in text and "syntax error" in text


@pytest.mark.parametrize("time_column", ["timestamp_ms", "open_time"])
def test_data_from_a_parquet_of_candles(setup, tmp_path, time_column):
    path = tmp_path / "candles.parquet"
    synthetic_candles(800, seed=9).rename({"open_time": time_column}).write_parquet(path)
    code, text = run("peek", path, setup[1])
    assert code == 1 and "(800 bars)" in text


def test_unusable_data_is_status_2(setup, tmp_path):
    path = tmp_path / "bad.parquet"
    pl.DataFrame({"x": [1]}).write_parquet(path)
    assert run("always", path, setup[1])[0] == 2
    assert run("always", tmp_path / "missing.parquet", setup[1])[0] == 2
