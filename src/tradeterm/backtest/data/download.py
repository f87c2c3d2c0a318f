"""``tradeterm download``: archive files in parallel, then REST for the newest bars, then one
atomic merge per symbol into the store.

Resume works at two levels. A zip that passed its checksum is kept under
``<data_dir>/archive/`` until its candles are merged, so a killed run does not download it again;
once merged, its period goes into the store's manifest (``store.load_done``) and the zip is
deleted. A 404 means the period is not published (before listing, or too recent): not an error,
a monthly file then falls back to daily files, and whatever the archive lacks at the end of the
range is paged over REST.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import polars as pl

from tradeterm.backtest.data import DEFAULT_ARCHIVE_URL, archive, store
from tradeterm.backtest.data.archive import ArchiveFileError, Period
from tradeterm.backtest.data.rest import RestError, fetch_closed_bars
from tradeterm.core.models import timeframe_ms
from tradeterm.indicators.candle_file import CandleFileError


class NetworkError(RuntimeError):
    """A request that kept failing after retries; the message names the URL."""


@dataclass(frozen=True, slots=True)
class DownloadRequest:
    """What to fetch. ``symbols`` are Binance ids (``BTCUSDT``); ``start``/``end`` UTC days,
    both included."""

    symbols: tuple[str, ...]
    timeframe: str
    start: date
    end: date
    archive_url: str = DEFAULT_ARCHIVE_URL
    exchange_id: str = "binance"
    sim_base_url: str | None = None  # a Binance-compatible REST host (the simulator in tests)
    use_rest: bool = True
    concurrency: int = 4
    retries: int = 3
    retry_delay_s: float = 0.5


@dataclass(slots=True)
class SymbolReport:
    """What one symbol's download did, for the summary and for tests."""

    symbol: str
    timeframe: str
    path: Path
    fetched: list[str] = field(default_factory=list)  # period keys downloaded now
    cached: list[str] = field(default_factory=list)  # verified zips reused from a killed run
    skipped: list[str] = field(default_factory=list)  # merged by an earlier run
    missing: list[str] = field(default_factory=list)  # 404: not published
    rest_bars: int = 0
    bars: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    gaps: list[store.Gap] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class _Http:
    """GETs with a shared concurrency limit and retries; ``None`` for a 404."""

    def __init__(self, client: httpx.AsyncClient, request: DownloadRequest) -> None:
        self.client = client
        self.sem = asyncio.Semaphore(request.concurrency)
        self.retries = max(1, request.retries)
        self.delay = request.retry_delay_s

    async def get(self, url: str) -> bytes | None:
        reason = ""
        for attempt in range(self.retries):
            if attempt:
                await asyncio.sleep(self.delay * 2 ** (attempt - 1))
            try:
                async with self.sem:
                    resp = await self.client.get(url)
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__}: {exc}".rstrip(": ")
                continue
            if resp.status_code == 404:
                return None
            if resp.status_code == 200:
                return resp.content
            reason = f"HTTP {resp.status_code}"
            if resp.status_code < 500 and resp.status_code != 429:
                break
        raise NetworkError(f"{url}: {reason} (after {attempt + 1} attempts)")


@dataclass(slots=True)
class _Outcome:
    period: Period
    frame: pl.DataFrame | None = None
    how: str = "missing"  # fetched | cached | missing | error
    error: str = ""


class _SymbolJob:
    """Fetches one symbol's archive periods and hands back their frames."""

    def __init__(self, http: _Http, request: DownloadRequest, symbol: str, cache_dir: Path,
                 advance: Callable[[int, int], None]) -> None:
        self.http, self.request, self.symbol = http, request, symbol
        self.cache_dir = cache_dir
        self.advance = advance  # (done delta, total delta)

    def cache_file(self, period: Period) -> Path:
        tf = self.request.timeframe
        name = archive.file_name(self.symbol, tf, period)
        return self.cache_dir / period.kind / self.symbol / tf / name

    async def period(self, period: Period) -> _Outcome:
        tf = self.request.timeframe
        name = archive.file_name(self.symbol, tf, period)
        cached = self.cache_file(period)
        try:
            if cached.is_file():
                frame = archive.read_zip(cached.read_bytes(), name)
                return _Outcome(period, frame, "cached")
            url = archive.zip_url(self.request.archive_url, self.symbol, tf, period)
            data = await self.http.get(url)
            if data is None:
                return _Outcome(period)
            checksum = await self.http.get(url + ".CHECKSUM")
            if checksum is None:
                raise ArchiveFileError(f"{name}: no published .CHECKSUM; file refused")
            archive.verify_checksum(data, archive.parse_checksum(checksum.decode(), name), name)
            frame = archive.read_zip(data, name)
            _write_file(cached, data)
            return _Outcome(period, frame, "fetched")
        except (ArchiveFileError, NetworkError) as exc:
            return _Outcome(period, how="error", error=str(exc))
        finally:
            self.advance(1, 0)

    async def periods(self, periods: list[Period], done: set[str], last_day: date,
                      today: date) -> list[_Outcome]:
        """Fetch ``periods``; a 404 for last month's file (published a few days into the next
        month) is replaced by its daily files. An older month's 404 means no trading that month
        (before listing, delisted): its days are not asked one by one."""
        outcomes = await asyncio.gather(*(self.period(p) for p in periods))
        result: list[_Outcome] = []
        last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        for out in outcomes:
            result.append(out)
            if out.how == "missing" and out.period.kind == "monthly" \
                    and out.period.first_day >= last_month:
                lo = max(out.period.first_day, self.request.start)
                hi = min(out.period.last_day, last_day)
                days = [d for d in archive.daily_periods(lo, hi) if d.key not in done]
                self.advance(0, len(days))
                result.extend(await asyncio.gather(*(self.period(d) for d in days)))
        return result


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _covered(period: Period, done: set[str]) -> bool:
    if period.key in done:
        return True
    return period.kind == "monthly" and all(f"daily/{d:%Y-%m-%d}" in done for d in period.days())


async def download(
    request: DownloadRequest, data_dir: Path, *, now_ms: int | None = None,
    show_progress: bool | None = None,
) -> list[SymbolReport]:
    """Download ``request`` into ``data_dir``; one report per symbol (errors are in the report,
    not raised, so that one bad file does not cost the others)."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    today = datetime.fromtimestamp(now / 1000, UTC).date()
    step = timeframe_ms(request.timeframe)
    from tradeterm.backtest.data.progress import Bars

    exchange: list[Any] = []  # created on first REST need, shared by symbols
    lock = asyncio.Lock()

    async def client() -> Any:
        async with lock:
            if not exchange:
                from tradeterm.exchange.client import create_exchange

                exchange.append(create_exchange(request.exchange_id,
                                                sim_base_url=request.sim_base_url))
            return exchange[0]

    timeout = httpx.Timeout(30.0, connect=10.0)
    try:
        with Bars(show_progress) as bars:
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as http_client:
                http = _Http(http_client, request)
                return list(await asyncio.gather(*(
                    _one_symbol(http, request, sym, data_dir, now, today, step, bars, client)
                    for sym in request.symbols
                )))
    finally:
        if exchange:
            await exchange[0].close()


async def _one_symbol(
    http: _Http, request: DownloadRequest, symbol: str, data_dir: Path, now: int, today: date,
    step: int, bars: Any, client: Callable[[], Any],
) -> SymbolReport:
    tf = request.timeframe
    path = store.candle_path(data_dir, symbol, tf)
    report = SymbolReport(symbol, tf, path)
    try:
        stored = store.read_candles(path)
    except CandleFileError as exc:  # never merge into (and overwrite) a file we cannot read
        report.errors.append(f"{exc}; move it away to download afresh")
        return report
    done = store.load_done(data_dir, symbol, tf)
    planned = archive.plan_periods(request.start, request.end, today)
    pending = [p for p in planned if not _covered(p, done)]
    report.skipped = [p.key for p in planned if _covered(p, done)]
    task = bars.add(f"{symbol} {tf} archive", len(pending))
    job = _SymbolJob(http, request, symbol, data_dir / "archive",
                     lambda d, t: bars.advance(task, d, t))
    last_archive_day = min(request.end, today - timedelta(days=1))
    outcomes = await job.periods(pending, done, last_archive_day, today)

    covered_until = max([archive.day_ms(request.start)]
                        + [p.end_ms for p in planned if _covered(p, done)])
    frames, merged_now, covered_until = _tally(outcomes, report, covered_until)

    end_ms = archive.day_ms(request.end) + archive.DAY_MS
    if request.use_rest and covered_until < min(end_ms, now - now % step):
        pages = max(1, -(-(min(end_ms, now) - covered_until) // (step * 1000)))
        rtask = bars.add(f"{symbol} {tf} REST", pages)
        try:
            rest = await fetch_closed_bars(await client(), symbol, tf, covered_until, end_ms, now,
                                           step, lambda _n: bars.advance(rtask, 1, 0))
        except RestError as exc:
            report.errors.append(str(exc))
        else:
            report.rest_bars = rest.height
            frames.append(rest)  # last: the freshest source wins an overlapping bar

    merged = stored
    if any(f.height for f in frames):
        merged = store.merge(merged, pl.concat(frames))
        store.write_atomic(merged, path)
        store.save_done(data_dir, symbol, tf, done | {p.key for p in merged_now})
        for period in merged_now:
            job.cache_file(period).unlink(missing_ok=True)
    report.bars = merged.height
    if merged.height:
        report.first_ms = int(merged["open_time"][0])
        report.last_ms = int(merged["open_time"][-1])
    in_range = merged.filter((pl.col("open_time") >= archive.day_ms(request.start))
                             & (pl.col("open_time") < end_ms))
    report.gaps = store.find_gaps(in_range["open_time"], step)
    return report


def _tally(outcomes: list[_Outcome], report: SymbolReport,
           covered_until: int) -> tuple[list[pl.DataFrame], list[Period], int]:
    """Sort outcomes into the report; returns the frames to merge (oldest first), their periods,
    and where REST must start (after the last period fetched or refused; 404s are left to it)."""
    frames: list[pl.DataFrame] = []
    periods: list[Period] = []
    for out in outcomes:
        if out.how == "error":  # refused or unreachable: reported, not papered over by REST
            report.errors.append(out.error)
        elif out.how == "missing":
            report.missing.append(out.period.key)
            continue
        else:
            getattr(report, out.how).append(out.period.key)
            assert out.frame is not None
            frames.append(out.frame)
            periods.append(out.period)
        covered_until = max(covered_until, out.period.end_ms)
    return frames, periods, covered_until
