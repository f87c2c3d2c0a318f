"""``download`` argument checking (one line, status 2) and the ``data list`` table."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from tradeterm.backtest.data import store
from tradeterm.backtest.data.cli import (
    DataArgError,
    add_data_parsers,
    build_request,
    data_command,
    parse_symbol,
)
from tradeterm.config import Settings


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tradeterm")
    add_data_parsers(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


def test_symbols_in_ccxt_or_binance_form_map_to_the_binance_id() -> None:
    assert parse_symbol("BTC/USDT") == "BTCUSDT"
    assert parse_symbol("ethusdt") == "ETHUSDT"
    for bad in ("BTC/", "/USDT", "BTC/USDT:USDT", "B", "BTC USDT"):
        with pytest.raises(DataArgError, match="bad symbol"):
            parse_symbol(bad)


def test_request_from_arguments(tmp_path: Path) -> None:
    args = parse(["download", "BTC/USDT", "BTCUSDT", "eth/usdt", "--timeframe", "5m",
                  "--from", "2024-01-01", "--archive-url", "http://127.0.0.1:1"])
    req = build_request(args, settings(tmp_path), today=date(2024, 3, 1))
    assert req.symbols == ("BTCUSDT", "ETHUSDT")
    assert (req.timeframe, req.start, req.end) == ("5m", date(2024, 1, 1), date(2024, 3, 1))
    assert req.archive_url == "http://127.0.0.1:1" and req.use_rest


@pytest.mark.parametrize(("argv", "message"), [
    (["--timeframe", "7m", "--from", "2024-01-01"], "unknown timeframe '7m'"),
    (["--timeframe", "1m", "--from", "2024-13-01"], "bad --from date '2024-13-01'"),
    (["--timeframe", "1m", "--from", "2024-01-05", "--to", "2024-01-01"],
     "--to 2024-01-01 is before --from 2024-01-05"),
    (["--timeframe", "1m", "--from", "2999-01-01"], "is in the future"),
])
def test_bad_arguments_exit_2_with_one_line(argv: list[str], message: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert data_command(parse(["download", "BTCUSDT", *argv]), settings(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("tradeterm download: ")


def test_data_list_shows_each_stored_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    h = 3_600_000
    t0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC
    times = [t0 + i * h for i in (0, 1, 2, 5, 6)]
    df = pl.DataFrame({"open_time": times, **{c: [1.0] * 5 for c in
                       ("open", "high", "low", "close", "volume")}}, schema=store.SCHEMA)
    store.write_atomic(df, store.candle_path(tmp_path, "BTCUSDT", "1h"))

    assert data_command(parse(["data", "list"]), settings(tmp_path)) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "BTCUSDT" in line)
    cells = [c.strip() for c in row.strip("│ ").split("│")]
    assert cells[:6] == ["BTCUSDT", "1h", "2024-01-01 00:00", "2024-01-01 06:00", "5", "1"]
    assert cells[6].endswith(("B", "KB"))


def test_data_list_with_nothing_stored_says_how_to_fetch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert data_command(parse(["data", "list"]), settings(tmp_path)) == 0
    assert "tradeterm download" in capsys.readouterr().out
