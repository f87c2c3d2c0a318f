"""scripts/strategies_table.py: its resampling keeps complete buckets only, exactly aggregated,
and docs/strategies.md holds the markers it writes between."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("strategies_table",
                                              ROOT / "scripts" / "strategies_table.py")
assert SPEC is not None and SPEC.loader is not None
table = importlib.util.module_from_spec(SPEC)
sys.modules["strategies_table"] = table  # its dataclasses look their module up
SPEC.loader.exec_module(table)

T0 = 1_704_067_200_000  # 2024-01-01 00:00 UTC


def test_one_minute_bars_become_complete_hours(tmp_path: Path) -> None:
    minutes = [m for m in range(180) if m != 75]  # the second hour misses a minute
    price = np.arange(180, dtype=float) + 100
    frame = pl.DataFrame({
        "timestamp_ms": [T0 + m * 60_000 for m in minutes],
        "open": price[minutes], "high": price[minutes] + 0.5, "low": price[minutes] - 0.5,
        "close": price[minutes] + 0.25, "volume": [1.0] * len(minutes)})
    path = tmp_path / "binance_spot_BTCUSDT_1m_2024-01-01_2024-01-01_x.parquet"
    frame.write_parquet(path)
    [source] = table.sources(tmp_path)
    assert (source.symbol, source.timeframe, source.in_sample) == ("BTC/USDT", "1m", False)
    hours = table.load(source, "1h")
    assert hours["open_time"].to_list() == [T0, T0 + 2 * 3_600_000]  # the gappy hour is dropped
    first = hours.row(0, named=True)
    assert (first["open"], first["high"], first["low"], first["close"], first["volume"]) == (
        100.0, 159.5, 99.5, 159.25, 60.0)


def test_the_doc_has_the_table_between_its_markers() -> None:
    doc = (ROOT / "docs" / "strategies.md").read_text()
    body = doc.split(table.BEGIN, 1)[1].split(table.END, 1)[0]
    assert body.strip().startswith("| strategy | market | data range (UTC) |")
    assert body.count("\n|") >= 6 * 3  # every shipped strategy, several ranges
