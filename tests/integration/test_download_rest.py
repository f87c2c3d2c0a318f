"""The newest bars come over ccxt REST from the simulator; archive and REST data overlap and
deduplicate (the newer source wins a bar)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from tradeterm.backtest.data import store
from tradeterm.backtest.data.download import DownloadRequest, download
from tradeterm.sim import SimServer
from unit.backtest.archive_fakes import ArchiveServer, kline_rows, ms

pytestmark = pytest.mark.integration
H = 3_600_000


@pytest.fixture
def archive() -> Iterator[ArchiveServer]:
    with ArchiveServer() as srv:
        yield srv


async def test_rest_fills_what_the_archive_lacks_then_a_late_archive_file_wins(
    sim: SimServer, archive: ArchiveServer, tmp_path: Path,
) -> None:
    now = int(time.time() * 1000)
    today = datetime.fromtimestamp(now / 1000, UTC).date()
    yesterday = today - timedelta(days=1)
    request = DownloadRequest(symbols=("BTCUSDT",), timeframe="1h",
                              start=yesterday, end=today, archive_url=archive.base_url,
                              sim_base_url=sim.base_url, retry_delay_s=0.01)
    closed_today = (now - ms(today)) // H
    expected = [ms(yesterday) + i * H for i in range(24 + closed_today)]

    # Run 1: yesterday is not published yet (404), so REST pages yesterday and today.
    [first] = await download(request, tmp_path, now_ms=now, show_progress=False)
    assert first.errors == [] and first.missing == [f"daily/{yesterday}"]
    assert first.rest_bars == len(expected)
    df = pl.read_parquet(store.candle_path(tmp_path, "BTCUSDT", "1h"))
    assert df["open_time"].to_list() == expected  # closed bars only, no gaps
    assert (df["open_time"] + H <= now).all()
    assert first.gaps == []

    # Run 2: the archive now has yesterday, with prices unlike the simulator's.
    archive.add("BTCUSDT", "1h", "daily", f"{yesterday}",
                kline_rows(ms(yesterday), 24, H, price=1.0, micros=True))
    [second] = await download(request, tmp_path, now_ms=now, show_progress=False)
    assert second.errors == [] and second.fetched == [f"daily/{yesterday}"]
    assert second.rest_bars == closed_today  # REST now starts where the archive ends
    df2 = pl.read_parquet(store.candle_path(tmp_path, "BTCUSDT", "1h"))
    assert df2["open_time"].to_list() == expected  # deduplicated: one row per bar
    assert df2["open"].to_list()[:24] == [1.0 + i for i in range(24)]  # the archive's rows
    assert df2.filter(pl.col("open_time") >= ms(today)).equals(
        df.filter(pl.col("open_time") >= ms(today)))
