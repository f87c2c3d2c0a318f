"""``tradeterm download`` end to end through ``data_command``: summary lines, gaps, exit status."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradeterm.backtest.data.cli import add_data_parsers, data_command
from tradeterm.config import Settings
from unit.backtest.archive_fakes import ArchiveServer, kline_rows, ms

pytestmark = pytest.mark.integration
H = 3_600_000


@pytest.fixture
def server() -> Iterator[ArchiveServer]:
    with ArchiveServer() as srv:
        yield srv


def cli(argv: list[str], data_dir: Path) -> int:
    parser = argparse.ArgumentParser(prog="tradeterm")
    add_data_parsers(parser.add_subparsers(dest="command"))
    return data_command(parser.parse_args(argv), Settings(data_dir=data_dir))


def test_download_prints_stored_range_and_gaps(
    server: ArchiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import date

    server.add("BTCUSDT", "1h", "monthly", "2024-02",
               kline_rows(ms(date(2024, 2, 1)), 29 * 24, H, skip=frozenset({10, 11})))
    argv = ["download", "BTC/USDT", "--timeframe", "1h", "--from", "2024-02-01",
            "--to", "2024-02-29", "--archive-url", server.base_url]
    assert cli(argv, tmp_path) == 0
    out = capsys.readouterr().out
    assert f"BTCUSDT 1h: 694 bars in {tmp_path / 'candles' / 'BTCUSDT_1h.parquet'}" in out
    assert "(2024-02-01 00:00 .. 2024-02-29 23:00 UTC)" in out
    assert "gaps: 1 (2 missing bars, not filled)" in out
    assert "2024-02-01 10:00 .. 2024-02-01 11:00 UTC (2 bars)" in out


def test_refused_file_exits_1_naming_it(
    server: ArchiveServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from datetime import date

    server.add("BTCUSDT", "1h", "monthly", "2024-02",
               kline_rows(ms(date(2024, 2, 1)), 29 * 24, H), checksum="bad")
    argv = ["download", "BTCUSDT", "--timeframe", "1h", "--from", "2024-02-01",
            "--to", "2024-02-29", "--archive-url", server.base_url, "--no-rest"]
    assert cli(argv, tmp_path) == 1
    err = capsys.readouterr().err
    assert err.startswith("tradeterm download: BTCUSDT-1h-2024-02.zip: sha256 mismatch")
    assert not (tmp_path / "candles" / "BTCUSDT_1h.parquet").exists()
