"""A replay file is checked before use; every problem names the file and what is wrong."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tradeterm.sim.replay import ReplayFileError, load_candles


def candles(**overrides: list) -> pl.DataFrame:
    data = {
        "timestamp_ms": [120_000, 0, 60_000, 60_000],
        "open": [3.0, 1.0, 2.0, 2.0], "high": [3.5, 1.5, 2.5, 2.5],
        "low": [2.5, 0.5, 1.5, 1.5], "close": [3.2, 1.2, 2.2, 2.2],
        "volume": [1.0, 1.0, 1.0, 1.0],
    }
    data.update(overrides)
    return pl.DataFrame(data)


def test_good_file_is_read_as_the_replay_columns(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    candles().slice(1, 2).vstack(candles().head(1)).write_parquet(path)
    df = load_candles(path)
    assert df.columns == ["timestamp_ms", "open", "high", "low", "close", "volume"]
    assert df["timestamp_ms"].to_list() == [0, 60_000, 120_000]


def test_unsorted_or_duplicate_times_are_refused_not_repaired(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    candles().write_parquet(path)  # 120_000 before 0, and 60_000 twice
    with pytest.raises(ReplayFileError, match="out of order"):
        load_candles(path)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (candles().slice(1, 2).drop("volume"), "missing column\\(s\\) volume"),
        (candles().head(0), "no candles"),
        (candles(low=[2.5, -1.0, 1.5, 1.5]).slice(1, 2), "expected positive prices"),
    ],
)
def test_bad_content_is_refused(tmp_path: Path, frame: pl.DataFrame, message: str) -> None:
    path = tmp_path / "c.parquet"
    frame.write_parquet(path)
    with pytest.raises(ReplayFileError, match=message):
        load_candles(path)


def test_not_parquet_and_missing_file_are_refused(tmp_path: Path) -> None:
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    with pytest.raises(ReplayFileError, match="not a readable parquet file"):
        load_candles(junk)
    with pytest.raises(ReplayFileError, match="file not found"):
        load_candles(tmp_path / "absent.parquet")
