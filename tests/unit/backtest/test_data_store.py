"""The candle store: dedup with newer rows winning, atomic writes, gaps, the resume manifest."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from tradeterm.backtest.data import store
from tradeterm.backtest.data.store import Gap

M = 60_000


def frame(times: list[int], price: float) -> pl.DataFrame:
    return pl.DataFrame({"open_time": times, "open": [price] * len(times),
                         "high": [price] * len(times), "low": [price] * len(times),
                         "close": [price] * len(times), "volume": [1.0] * len(times)},
                        schema=store.SCHEMA)


def test_merge_sorts_dedups_and_newer_rows_win() -> None:
    merged = store.merge(frame([3 * M, 1 * M, 2 * M], 1.0), frame([2 * M, 4 * M, 3 * M], 2.0))
    assert merged["open_time"].to_list() == [M, 2 * M, 3 * M, 4 * M]
    assert merged["close"].to_list() == [1.0, 2.0, 2.0, 2.0]


def test_gaps_are_listed_with_their_first_and_last_missing_bar() -> None:
    times = pl.Series([0, M, 2 * M, 6 * M, 7 * M, 9 * M])
    assert store.find_gaps(times, M) == [Gap(3 * M, 5 * M, 3), Gap(8 * M, 8 * M, 1)]
    assert store.find_gaps(pl.Series([0, M, 2 * M]), M) == []
    assert store.find_gaps(pl.Series([5 * M]), M) == []


def test_write_atomic_round_trips_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "candles" / "BTCUSDT_1m.parquet"
    store.write_atomic(frame([0, M], 1.0), path)
    assert store.read_candles(path).equals(frame([0, M], 1.0))
    assert [p.name for p in path.parent.iterdir()] == ["BTCUSDT_1m.parquet"]


def test_a_failed_write_keeps_the_old_file_whole(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "BTCUSDT_1m.parquet"
    store.write_atomic(frame([0, M], 1.0), path)

    def killed(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        store.write_atomic(frame([0, M, 2 * M], 2.0), path)
    monkeypatch.undo()
    assert store.read_candles(path).equals(frame([0, M], 1.0))
    assert [p.name for p in tmp_path.iterdir()] == ["BTCUSDT_1m.parquet"]


def test_manifest_is_ignored_when_the_candle_file_is_gone(tmp_path: Path) -> None:
    store.write_atomic(frame([0], 1.0), store.candle_path(tmp_path, "BTCUSDT", "1h"))
    store.save_done(tmp_path, "BTCUSDT", "1h", {"monthly/2024-01", "daily/2024-02-01"})
    assert store.load_done(tmp_path, "BTCUSDT", "1h") == {"monthly/2024-01", "daily/2024-02-01"}
    store.candle_path(tmp_path, "BTCUSDT", "1h").unlink()
    assert store.load_done(tmp_path, "BTCUSDT", "1h") == set()


def test_list_stored_reads_range_bars_and_gaps(tmp_path: Path) -> None:
    store.write_atomic(frame([0, M, 5 * M], 1.0), store.candle_path(tmp_path, "ETHUSDT", "1m"))
    store.write_atomic(frame([0], 1.0), store.candle_path(tmp_path, "BTCUSDT", "1h"))
    store.write_atomic(frame([0], 1.0), store.candle_path(tmp_path, "BTCUSDT", "1m"))
    (store.candles_dir(tmp_path) / "notes_x.parquet").write_bytes(b"")
    rows = store.list_stored(tmp_path)
    assert [(r.symbol, r.timeframe, r.first_ms, r.last_ms, r.bars, r.gaps) for r in rows] == [
        ("BTCUSDT", "1m", 0, 0, 1, 0), ("BTCUSDT", "1h", 0, 0, 1, 0),
        ("ETHUSDT", "1m", 0, 5 * M, 3, 1),
    ]
