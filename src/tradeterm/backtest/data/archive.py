"""Binance's public data archive (data.binance.vision): which files to fetch, and how to read one.

Pure functions only (no I/O), so the rules that decide what lands in the store are tested without
a network: the period plan, the ``.CHECKSUM`` check, and the zip + CSV parser.

Facts (``/work/shared/reference/binance-protocol.md``): monthly files
``data/spot/monthly/klines/SYM/TF/SYM-TF-YYYY-MM.zip`` and daily files
``data/spot/daily/klines/SYM/TF/SYM-TF-YYYY-MM-DD.zip``, each with a ``.zip.CHECKSUM`` (sha256)
beside it; one headerless CSV per zip; spot timestamps from 2025-01-01 on are microseconds.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import polars as pl

from tradeterm.backtest.data.store import SCHEMA

DAY_MS = 86_400_000

# The archive's CSV columns, in order. Only the first six are stored (see store.py).
CSV_COLUMNS = (
    "open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
    "trades", "taker_buy_base", "taker_buy_quote", "ignore",
)
# A millisecond epoch has 13 digits until the year 2286; anything from 10**14 up is microseconds.
_MICROS_FROM = 10**14


class ArchiveFileError(ValueError):
    """A downloaded file that must not be stored (bad checksum, corrupt zip, bad CSV)."""


@dataclass(frozen=True, slots=True)
class Period:
    """One archive file: a whole month or a single day of one symbol and timeframe."""

    kind: Literal["monthly", "daily"]
    first_day: date
    last_day: date  # inclusive

    @property
    def label(self) -> str:
        return self.first_day.strftime("%Y-%m" if self.kind == "monthly" else "%Y-%m-%d")

    @property
    def key(self) -> str:
        """Stable identity in the resume manifest: ``monthly/2024-01``, ``daily/2024-02-03``."""
        return f"{self.kind}/{self.label}"

    @property
    def start_ms(self) -> int:
        return day_ms(self.first_day)

    @property
    def end_ms(self) -> int:
        """Exclusive end: midnight after ``last_day``."""
        return day_ms(self.last_day) + DAY_MS

    def days(self) -> list[date]:
        n = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=i) for i in range(n)]


def day_ms(day: date) -> int:
    """Midnight UTC of ``day`` in epoch milliseconds."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def month_period(first: date) -> Period:
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return Period("monthly", first.replace(day=1), nxt - timedelta(days=1))


def daily_periods(first: date, last: date) -> list[Period]:
    n = (last - first).days + 1
    return [Period("daily", d, d) for d in (first + timedelta(days=i) for i in range(max(n, 0)))]


def plan_periods(start: date, end: date, today: date) -> list[Period]:
    """Archive files covering ``start..end`` (inclusive), oldest first.

    Whole past months come as monthly files (fewest requests); days of the current month before
    ``today`` as daily files; ``today`` itself is never in the archive (REST covers it).
    """
    last = min(end, today - timedelta(days=1))
    if last < start:
        return []
    periods: list[Period] = []
    month = start.replace(day=1)
    this_month = today.replace(day=1)
    while month <= last:
        if month < this_month:
            periods.append(month_period(month))
        else:
            periods.extend(daily_periods(max(start, month), last))
        month = month_period(month).last_day + timedelta(days=1)
    return periods


def file_name(symbol: str, timeframe: str, period: Period) -> str:
    return f"{symbol}-{timeframe}-{period.label}.zip"


def zip_url(base_url: str, symbol: str, timeframe: str, period: Period) -> str:
    """URL of one archive zip; its checksum is the same URL plus ``.CHECKSUM``."""
    name = file_name(symbol, timeframe, period)
    return f"{base_url.rstrip('/')}/data/spot/{period.kind}/klines/{symbol}/{timeframe}/{name}"


def parse_checksum(text: str, name: str) -> str:
    """The sha256 hex digest of a ``.CHECKSUM`` file (``<hex>  <file name>``)."""
    token = text.strip().split()[0].lower() if text.strip() else ""
    if len(token) != 64 or any(c not in "0123456789abcdef" for c in token):
        raise ArchiveFileError(f"{name}: its .CHECKSUM file holds no sha256 digest")
    return token


def verify_checksum(data: bytes, expected: str, name: str) -> None:
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ArchiveFileError(
            f"{name}: sha256 mismatch (published {expected[:12]}..., got {actual[:12]}...); "
            "file refused, nothing stored from it"
        )


def read_zip(data: bytes, name: str) -> pl.DataFrame:
    """Candles of one archive zip: ``open_time`` (ms), open, high, low, close, volume.

    Timestamps are normalised per value by magnitude, not by date: a file of microseconds
    (2025-on spot files) and one of milliseconds give identical ms open times.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            members = [m for m in zf.namelist() if m.lower().endswith(".csv")]
            if len(members) != 1:
                raise ArchiveFileError(f"{name}: expected one CSV inside, found {len(members)}")
            raw = zf.read(members[0])
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise ArchiveFileError(f"{name}: corrupt or truncated zip ({exc}); file refused") from None
    return parse_csv(raw, name)


def parse_csv(raw: bytes, name: str) -> pl.DataFrame:
    """Parse the archive CSV (headerless; a header line, which some archives add, is skipped)."""
    if not raw.strip():
        return empty_frame()
    has_header = not raw[:1].isdigit()
    try:
        df = pl.read_csv(
            io.BytesIO(raw), has_header=has_header, new_columns=list(CSV_COLUMNS),
            schema_overrides={"open_time": pl.Int64, "open": pl.Float64, "high": pl.Float64,
                              "low": pl.Float64, "close": pl.Float64, "volume": pl.Float64},
        )
    except pl.exceptions.PolarsError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ArchiveFileError(f"{name}: unreadable CSV ({first}); file refused") from None
    if df.width < 6:
        raise ArchiveFileError(f"{name}: CSV has {df.width} columns, expected 12")
    t = pl.col("open_time")
    return df.select(
        pl.when(t >= _MICROS_FROM).then(t // 1000).otherwise(t).alias("open_time"),
        "open", "high", "low", "close", "volume",
    )


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)
