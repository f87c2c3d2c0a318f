"""The one candle reader: a clean file comes back as the project's candle frame, exactly; the
readers that used to exist elsewhere go through it. (Its refusals are in the bad-input corpus.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tradeterm.indicators.candle_file import (
    CandleFileError,
    read_candle_file,
    read_candle_times,
)
from tradeterm.indicators.frame import CANDLE_SCHEMA, synthetic_candles


def test_a_clean_file_is_the_candle_frame_as_stored(tmp_path: Path) -> None:
    frame = synthetic_candles(50, seed=1)
    path = tmp_path / "c.parquet"
    frame.write_parquet(path)
    assert read_candle_file(path).equals(frame)
    assert read_candle_times(path).to_list() == frame["open_time"].to_list()


def test_archive_names_and_narrow_types_are_read_losslessly(tmp_path: Path) -> None:
    frame = pl.DataFrame({
        "timestamp_ms": pl.Series([0, 60_000], dtype=pl.UInt64),
        "open": pl.Series([1, 2], dtype=pl.Int32), "high": [1.5, 2.5],
        "low": pl.Series([0.5, 1.5], dtype=pl.Float32), "close": [1.2, 2.2], "volume": [0, 3],
        "trades": [4, 5],  # extra columns are left out
    })
    path = tmp_path / "c.parquet"
    frame.write_parquet(path)
    out = read_candle_file(path)
    assert dict(out.schema) == CANDLE_SCHEMA
    assert out.row(1) == (60_000, 2.0, 2.5, 1.5, 2.2, 3.0)


def test_an_empty_store_file_is_allowed_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    synthetic_candles(5).head(0).write_parquet(path)
    assert read_candle_file(path, allow_empty=True).is_empty()
    with pytest.raises(CandleFileError, match="no candles"):
        read_candle_file(path)


def test_the_four_readers_share_it_and_check_strategy_does_not_import_the_simulator() -> None:
    code = (
        "import sys; import tradeterm.strategy.check as c; "
        "assert not [m for m in sys.modules if m.startswith('tradeterm.sim')], 'sim imported'; "
        "from tradeterm.indicators import candle_file as f; "
        "from tradeterm.sim import replay; from tradeterm.backtest.data import store; "
        "assert c.read_candle_file is f.read_candle_file and c.DataError is f.CandleFileError; "
        "assert replay.read_candle_file is f.read_candle_file; "
        "assert replay.ReplayFileError is f.CandleFileError; "
        "assert store.read_candle_file is f.read_candle_file"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
