"""``download`` against a local archive over real HTTP: what is stored, what is refused, what a
second run does not fetch again. No REST here: every range ends before "today"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tradeterm.backtest.data import store
from tradeterm.backtest.data.download import DownloadRequest, SymbolReport, download
from unit.backtest.archive_fakes import ArchiveServer, kline_rows, ms

pytestmark = pytest.mark.integration
H = 3_600_000
D = 86_400_000


@pytest.fixture
def server() -> Iterator[ArchiveServer]:
    with ArchiveServer() as srv:
        yield srv


async def run(server: ArchiveServer, data_dir: Path, start: date, end: date, today: date,
              tf: str = "1h", symbols: tuple[str, ...] = ("BTCUSDT",),
              archive_url: str | None = None) -> list[SymbolReport]:
    request = DownloadRequest(symbols=symbols, timeframe=tf, start=start, end=end,
                              archive_url=archive_url or server.base_url, use_rest=False,
                              retry_delay_s=0.01)
    return await download(request, data_dir, now_ms=ms(today, 12), show_progress=False)


async def test_monthly_ms_file_and_daily_us_files_are_stored_as_one_ms_series(
    server: ArchiveServer, tmp_path: Path,
) -> None:
    server.add("BTCUSDT", "1h", "monthly", "2024-12", kline_rows(ms(date(2024, 12, 1)), 744, H))
    for day in (1, 2):
        server.add("BTCUSDT", "1h", "daily", f"2025-01-0{day}",
                   kline_rows(ms(date(2025, 1, day)), 24, H, micros=True))
    [report] = await run(server, tmp_path, date(2024, 12, 30), date(2025, 1, 2), date(2025, 1, 3))

    assert report.errors == [] and report.gaps == []
    assert report.fetched == ["monthly/2024-12", "daily/2025-01-01", "daily/2025-01-02"]
    df = pl.read_parquet(store.candle_path(tmp_path, "BTCUSDT", "1h"))
    start = ms(date(2024, 12, 1))
    assert df["open_time"].to_list() == [start + i * H for i in range(744 + 48)]
    assert report.bars == 744 + 48 and report.last_ms == ms(date(2025, 1, 2), 23)


async def test_stored_parquet_has_exactly_the_archive_candles(
    server: ArchiveServer, tmp_path: Path,
) -> None:
    server.add("ETHUSDT", "1d", "daily", "2025-01-01",
               kline_rows(ms(date(2025, 1, 1)), 1, D, price=3000.0, micros=True))
    server.add("ETHUSDT", "1d", "daily", "2025-01-02",
               kline_rows(ms(date(2025, 1, 2)), 1, D, price=3100.0, micros=True))
    await run(server, tmp_path, date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 5), tf="1d",
              symbols=("ETHUSDT",))

    df = pl.read_parquet(tmp_path / "candles" / "ETHUSDT_1d.parquet")
    expected = pl.DataFrame(
        {"open_time": [1735689600000, 1735776000000], "open": [3000.0, 3100.0],
         "high": [3002.0, 3102.0], "low": [2999.0, 3099.0], "close": [3001.0, 3101.0],
         "volume": [10.0, 10.0]},
        schema={"open_time": pl.Int64, "open": pl.Float64, "high": pl.Float64,
                "low": pl.Float64, "close": pl.Float64, "volume": pl.Float64},
    )
    assert df.equals(expected)


async def test_bad_checksum_is_refused_and_nothing_is_stored(
    server: ArchiveServer, tmp_path: Path,
) -> None:
    server.add("BTCUSDT", "1h", "monthly", "2024-06", kline_rows(ms(date(2024, 6, 1)), 720, H),
               checksum="bad")
    [report] = await run(server, tmp_path, date(2024, 6, 1), date(2024, 6, 30), date(2024, 7, 9))

    assert len(report.errors) == 1
    assert "BTCUSDT-1h-2024-06.zip: sha256 mismatch" in report.errors[0]
    assert not store.candle_path(tmp_path, "BTCUSDT", "1h").exists()
    assert not any(tmp_path.rglob("*.zip"))  # not even kept for a resume


async def test_truncated_zip_is_refused_and_nothing_is_stored(
    server: ArchiveServer, tmp_path: Path,
) -> None:
    server.add("BTCUSDT", "1h", "monthly", "2024-06", kline_rows(ms(date(2024, 6, 1)), 720, H),
               truncate=True)
    [report] = await run(server, tmp_path, date(2024, 6, 1), date(2024, 6, 30), date(2024, 7, 9))

    assert len(report.errors) == 1
    assert "BTCUSDT-1h-2024-06.zip: corrupt or truncated zip" in report.errors[0]
    assert report.bars == 0
    assert not store.candle_path(tmp_path, "BTCUSDT", "1h").exists()


async def test_last_months_missing_file_falls_back_to_daily_files(
    server: ArchiveServer, tmp_path: Path,
) -> None:
    # On 2024-06-03 May's monthly file may not be published yet; its days are.
    for day in (30, 31):
        server.add("BTCUSDT", "1h", "daily", f"2024-05-{day}",
                   kline_rows(ms(date(2024, 5, day)), 24, H))
    server.add("BTCUSDT", "1h", "daily", "2024-06-01", kline_rows(ms(date(2024, 6, 1)), 24, H))
    [report] = await run(server, tmp_path, date(2024, 5, 30), date(2024, 6, 1), date(2024, 6, 3))

    assert report.errors == []
    assert report.missing == ["monthly/2024-05"]
    assert report.fetched == ["daily/2024-05-30", "daily/2024-05-31", "daily/2024-06-01"]
    assert report.bars == 72 and report.gaps == []


async def test_an_old_missing_month_is_not_asked_day_by_day(
    server: ArchiveServer, tmp_path: Path,
) -> None:
    # Before listing: no monthly file, and no point asking for 31 daily ones.
    server.add("BTCUSDT", "1h", "monthly", "2024-06", kline_rows(ms(date(2024, 6, 1)), 720, H))
    [report] = await run(server, tmp_path, date(2024, 5, 1), date(2024, 6, 30), date(2024, 9, 9))

    assert report.missing == ["monthly/2024-05"] and report.fetched == ["monthly/2024-06"]
    assert sorted(server.zip_requests()) == [
        "/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-05.zip",
        "/data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-06.zip",
    ]
    assert report.bars == 720


async def test_gaps_are_reported_not_filled(server: ArchiveServer, tmp_path: Path) -> None:
    server.add("BTCUSDT", "1h", "daily", "2025-03-01",
               kline_rows(ms(date(2025, 3, 1)), 24, H, skip=frozenset({5, 6, 7}), micros=True))
    # 2025-03-02 is not published (404): a whole day missing between stored days.
    server.add("BTCUSDT", "1h", "daily", "2025-03-03", kline_rows(ms(date(2025, 3, 3)), 24, H))
    [report] = await run(server, tmp_path, date(2025, 3, 1), date(2025, 3, 3), date(2025, 3, 5))

    assert report.missing == ["daily/2025-03-02"]
    assert [(g.first_ms, g.last_ms, g.bars) for g in report.gaps] == [
        (ms(date(2025, 3, 1), 5), ms(date(2025, 3, 1), 7), 3),
        (ms(date(2025, 3, 2), 0), ms(date(2025, 3, 2), 23), 24),
    ]
    assert report.bars == 21 + 24


async def test_second_run_fetches_nothing_already_verified(
    server: ArchiveServer, tmp_path: Path,
) -> None:
    server.add("BTCUSDT", "1h", "monthly", "2024-12", kline_rows(ms(date(2024, 12, 1)), 744, H))
    for day in (1, 2):
        server.add("BTCUSDT", "1h", "daily", f"2025-01-0{day}",
                   kline_rows(ms(date(2025, 1, day)), 24, H, micros=True))
    args = (date(2024, 12, 1), date(2025, 1, 2), date(2025, 1, 3))
    await run(server, tmp_path, *args)
    first = pl.read_parquet(store.candle_path(tmp_path, "BTCUSDT", "1h"))
    assert len(server.zip_requests()) == 3
    server.requests.clear()

    [report] = await run(server, tmp_path, *args)
    assert server.requests == []
    assert report.skipped == ["monthly/2024-12", "daily/2025-01-01", "daily/2025-01-02"]
    assert pl.read_parquet(store.candle_path(tmp_path, "BTCUSDT", "1h")).equals(first)

    # Next day: only the new daily file is fetched.
    server.add("BTCUSDT", "1h", "daily", "2025-01-03",
               kline_rows(ms(date(2025, 1, 3)), 24, H, micros=True))
    [report] = await run(server, tmp_path, date(2024, 12, 1), date(2025, 1, 3), date(2025, 1, 4))
    assert server.zip_requests() == ["/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2025-01-03.zip"]
    assert report.bars == 744 + 72


async def test_a_verified_zip_left_by_a_killed_run_is_not_downloaded_again(
    server: ArchiveServer, tmp_path: Path,
) -> None:
    path = server.add("BTCUSDT", "1h", "daily", "2025-01-01",
                      kline_rows(ms(date(2025, 1, 1)), 24, H, micros=True))
    cached = tmp_path / "archive" / "daily" / "BTCUSDT" / "1h" / "BTCUSDT-1h-2025-01-01.zip"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(server.files[path])  # verified and kept, but never merged

    [report] = await run(server, tmp_path, date(2025, 1, 1), date(2025, 1, 1), date(2025, 1, 5))
    assert server.requests == []
    assert report.cached == ["daily/2025-01-01"] and report.bars == 24
    assert not cached.exists()  # merged now: the manifest remembers it


async def test_network_failure_names_the_url(tmp_path: Path, server: ArchiveServer) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    [report] = await run(server, tmp_path, date(2025, 1, 1), date(2025, 1, 1), date(2025, 1, 5),
                         archive_url=dead)
    assert len(report.errors) == 1
    assert report.errors[0].startswith(
        f"{dead}/data/spot/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2025-01-01.zip: ConnectError")
    assert "after 3 attempts" in report.errors[0]


async def test_a_zip_without_a_published_checksum_is_refused(
    server: ArchiveServer, tmp_path: Path,
) -> None:
    server.add("BTCUSDT", "1h", "daily", "2025-01-01",
               kline_rows(ms(date(2025, 1, 1)), 24, H, micros=True), checksum="none")
    [report] = await run(server, tmp_path, date(2025, 1, 1), date(2025, 1, 1), date(2025, 1, 5))
    assert report.errors == ["BTCUSDT-1h-2025-01-01.zip: no published .CHECKSUM; file refused"]
    assert not store.candle_path(tmp_path, "BTCUSDT", "1h").exists()
