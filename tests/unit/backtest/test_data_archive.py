"""Archive rules: which files a range needs, the checksum gate, and the zip + CSV parser."""

from __future__ import annotations

import hashlib
from datetime import date

import polars as pl
import pytest

from tradeterm.backtest.data import archive
from tradeterm.backtest.data.archive import ArchiveFileError, Period
from unit.backtest.archive_fakes import kline_rows, make_zip, ms

H = 3_600_000


def test_plan_uses_monthly_files_for_past_months_and_daily_files_for_this_month() -> None:
    plan = archive.plan_periods(date(2024, 11, 15), date(2025, 2, 20), today=date(2025, 2, 4))
    assert [p.key for p in plan] == [
        "monthly/2024-11", "monthly/2024-12", "monthly/2025-01",
        "daily/2025-02-01", "daily/2025-02-02", "daily/2025-02-03",
    ]


def test_plan_never_asks_the_archive_for_today() -> None:
    assert archive.plan_periods(date(2025, 2, 4), date(2025, 2, 4), today=date(2025, 2, 4)) == []


def test_period_bounds_cover_whole_utc_days() -> None:
    feb = archive.month_period(date(2024, 2, 10))
    assert (feb.first_day, feb.last_day) == (date(2024, 2, 1), date(2024, 2, 29))
    assert feb.end_ms - feb.start_ms == 29 * archive.DAY_MS


def test_zip_url_follows_the_archive_layout() -> None:
    url = archive.zip_url("https://data.binance.vision/", "BTCUSDT", "1m",
                          Period("daily", date(2024, 1, 2), date(2024, 1, 2)))
    assert url == ("https://data.binance.vision/data/spot/daily/klines/BTCUSDT/1m/"
                   "BTCUSDT-1m-2024-01-02.zip")


def test_millisecond_and_microsecond_files_give_identical_ms_open_times() -> None:
    start = ms(date(2025, 1, 1))
    in_ms = archive.read_zip(make_zip("a.csv", kline_rows(start, 24, H)), "a.zip")
    in_us = archive.read_zip(make_zip("b.csv", kline_rows(start, 24, H, micros=True)), "b.zip")
    assert in_us.equals(in_ms)
    assert in_ms["open_time"].to_list() == [start + i * H for i in range(24)]
    assert in_ms.schema == {"open_time": pl.Int64, "open": pl.Float64, "high": pl.Float64,
                            "low": pl.Float64, "close": pl.Float64, "volume": pl.Float64}


def test_a_header_line_is_skipped() -> None:
    start = ms(date(2024, 3, 1))
    df = archive.read_zip(make_zip("a.csv", kline_rows(start, 3, H), header=True), "a.zip")
    assert df["open_time"].to_list() == [start, start + H, start + 2 * H]
    assert df["open"].to_list() == [100.0, 101.0, 102.0]


def test_checksum_mismatch_is_refused_naming_the_file() -> None:
    data = b"zip bytes"
    good = archive.parse_checksum(f"{hashlib.sha256(data).hexdigest()}  X.zip\n", "X.zip")
    archive.verify_checksum(data, good, "X.zip")
    with pytest.raises(ArchiveFileError, match=r"X\.zip: sha256 mismatch"):
        archive.verify_checksum(data + b"!", good, "X.zip")


def test_checksum_file_without_a_digest_is_refused() -> None:
    with pytest.raises(ArchiveFileError, match="X.zip"):
        archive.parse_checksum("<html>not found</html>", "X.zip")


def test_truncated_zip_is_refused_naming_the_file() -> None:
    data = make_zip("a.csv", kline_rows(ms(date(2024, 3, 1)), 500, H))
    with pytest.raises(ArchiveFileError, match=r"BTCUSDT-1h-2024-03\.zip: corrupt or truncated"):
        archive.read_zip(data[: len(data) // 2], "BTCUSDT-1h-2024-03.zip")


def test_garbage_csv_is_refused() -> None:
    with pytest.raises(ArchiveFileError, match="a.zip"):
        archive.read_zip(make_zip("a.csv", [["1704067200000", "x", "y"]]), "a.zip")
