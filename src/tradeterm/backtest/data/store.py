"""The candle store: one parquet file per symbol and timeframe, and what was already fetched.

``<data_dir>/candles/BTCUSDT_1m.parquet`` holds ``open_time:int64`` (ms, UTC) and ``open, high,
low, close, volume:float64``, sorted and unique by ``open_time``; the same columns the replay and
``check-strategy --data`` readers take. Files are replaced atomically (temp file, fsync, rename),
so a killed download never leaves half a file. Missing bars are reported as gaps, never filled:
a backtest on invented candles would lie.

Beside each file, ``.BTCUSDT_1m.done.json`` lists the archive periods already merged into it, so
a second download does not fetch them again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tradeterm.indicators.candle_file import read_candle_file, read_candle_times
from tradeterm.indicators.frame import CANDLE_SCHEMA

SCHEMA = CANDLE_SCHEMA
"""The store keeps exactly the project's candle frame (``indicators.frame``)."""


@dataclass(frozen=True, slots=True)
class Gap:
    """Missing bars: ``first_ms`` .. ``last_ms`` are the open times of the first and last missing
    bar; ``bars`` how many are missing."""

    first_ms: int
    last_ms: int
    bars: int


def candles_dir(data_dir: Path) -> Path:
    return data_dir / "candles"


def candle_path(data_dir: Path, symbol: str, timeframe: str) -> Path:
    return candles_dir(data_dir) / f"{symbol}_{timeframe}.parquet"


def manifest_path(data_dir: Path, symbol: str, timeframe: str) -> Path:
    return candles_dir(data_dir) / f".{symbol}_{timeframe}.done.json"


def read_candles(path: Path) -> pl.DataFrame:
    """The stored candles, or an empty frame of the store's schema if there is no file."""
    if not path.exists():
        return pl.DataFrame(schema=SCHEMA)
    return read_candle_file(path, allow_empty=True)


def merge(older: pl.DataFrame, newer: pl.DataFrame) -> pl.DataFrame:
    """Union of two candle frames, sorted; for a bar in both, ``newer``'s row wins."""
    both = pl.concat([older.select(list(SCHEMA)).cast(SCHEMA),  # type: ignore[arg-type]
                      newer.select(list(SCHEMA)).cast(SCHEMA)])  # type: ignore[arg-type]
    return both.unique("open_time", keep="last", maintain_order=True).sort("open_time")


def write_atomic(df: pl.DataFrame, path: Path) -> None:
    """Write ``df`` to ``path`` so that readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        df.write_parquet(tmp, statistics=True)
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def find_gaps(open_times: pl.Series, step_ms: int) -> list[Gap]:
    """Runs of missing bars between consecutive stored bars (the edges are not gaps)."""
    if open_times.len() < 2:
        return []
    df = pl.DataFrame({"t": open_times}).with_columns(d=pl.col("t").diff())
    holes = df.filter(pl.col("d") > step_ms)
    return [
        Gap(t - d + step_ms, t - step_ms, d // step_ms - 1)
        for t, d in zip(holes["t"].to_list(), holes["d"].to_list(), strict=True)
    ]


def load_done(data_dir: Path, symbol: str, timeframe: str) -> set[str]:
    """Periods already merged, or none when the candle file itself is gone (then refetch)."""
    path = manifest_path(data_dir, symbol, timeframe)
    if not candle_path(data_dir, symbol, timeframe).is_file() or not path.is_file():
        return set()
    try:
        return set(json.loads(path.read_text())["periods"])
    except (OSError, ValueError, KeyError, TypeError):
        return set()  # a damaged manifest only costs a refetch


def save_done(data_dir: Path, symbol: str, timeframe: str, periods: set[str]) -> None:
    path = manifest_path(data_dir, symbol, timeframe)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"periods": sorted(periods)}, indent=0))
    os.replace(tmp, path)


@dataclass(frozen=True, slots=True)
class StoredFile:
    """One row of ``tradeterm data list``."""

    symbol: str
    timeframe: str
    path: Path
    first_ms: int | None
    last_ms: int | None
    bars: int
    gaps: int
    size: int


def list_stored(data_dir: Path) -> list[StoredFile]:
    """Every candle file in the store, by symbol then timeframe (unknown names skipped).

    A damaged file raises :class:`CandleFileError` (one line naming it)."""
    from tradeterm.core.models import TIMEFRAME_MS

    out: list[StoredFile] = []
    for path in sorted(candles_dir(data_dir).glob("*.parquet")):
        symbol, _, timeframe = path.stem.rpartition("_")
        if not symbol or timeframe not in TIMEFRAME_MS:
            continue
        times = read_candle_times(path)
        out.append(StoredFile(
            symbol, timeframe, path,
            times.min() if times.len() else None,  # type: ignore[arg-type]
            times.max() if times.len() else None,  # type: ignore[arg-type]
            times.len(), len(find_gaps(times, TIMEFRAME_MS[timeframe])), path.stat().st_size,
        ))
    order = list(TIMEFRAME_MS)
    return sorted(out, key=lambda f: (f.symbol, order.index(f.timeframe)))
