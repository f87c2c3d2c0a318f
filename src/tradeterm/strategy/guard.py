"""The whole look-ahead guard as the commands run it: random prefix cuts, then a recomputation at
every bar where a signal fires (:mod:`tradeterm.strategy.bar_guard`); one verdict, one line.

``check-strategy``, ``backtest`` and ``optimize`` run it before showing results. The verdict is
cached (``<data_dir>/guard-cache/<key>.json``) under a key made of the strategy file's bytes
(SHA-256), the parameters, the candles (a hash of their columns), the number of cuts and the
guard's own version: the same file on the same data is judged once. A file the strategy imports
is not part of the key; edit the strategy file (or delete the cache) after changing one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from tradeterm.strategy.api import CANDLE_COLUMNS, Strategy, normalise_output
from tradeterm.strategy.bar_guard import SignalBarReport, check_signal_bars
from tradeterm.strategy.lookahead import LookaheadReport, check_lookahead

log = logging.getLogger(__name__)

GUARD_VERSION = 2
"""Bumped when the guard's rules change, so older cached verdicts are not reused."""

CACHE_DIR = "guard-cache"
DEFAULT_THREADS = 2


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """Passed or caught, with one line for the user."""

    ok: bool
    line: str  # caught: where and what changed ("at bar 9970 (...): entry_long is True with
    # the later bars, False without them"); passed: what was checked
    bars: int  # candles the guard ran on
    cuts: int  # prefix cuts tried
    fired: int  # bars where a signal fires, each recomputed
    window: int  # the lookback window length (bars)
    window_only: int = 0  # fired bars where only the short window disagreed
    seconds: float = 0.0
    cached: bool = False


def when(ms: int | None) -> str:
    """``2024-01-07 22:10 UTC`` for an open time in ms."""
    if ms is None:
        return "?"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def cut_line(report: LookaheadReport) -> str:
    """The finding of the prefix cuts, one line (to follow "LOOK-AHEAD ")."""
    return (
        f"in column {report.column} at bar {report.first_bar} ({when(report.bar_time)}): "
        f"{report.full_value!r} with the later bars, {report.prefix_value!r} without them"
    )


def bar_line(report: SignalBarReport) -> str:
    """The finding at fired bars, one line naming the bar(s) and what changed (to follow
    "LOOK-AHEAD ")."""
    first, *more = report.found
    line = (
        f"at bar {first.bar} ({when(first.bar_time)}): {first.column} is "
        f"{first.full_value!r} with the later bars, {first.cut_value!r} without them"
    )
    if more:
        line += "; also at bar " + ", ".join(
            f"{c.bar} ({c.column} {c.full_value!r} -> {c.cut_value!r})" for c in more
        )
    return line


def run_guard(
    strategy: Strategy, frame: pl.DataFrame, *, cuts: int, seed: int = 0,
    threads: int = DEFAULT_THREADS, window: int | None = None,
) -> GuardVerdict:
    """Cuts first (they name an indicator column that peeks), then every fired bar.

    The strategy's own errors on ``frame`` propagate (it cannot run on these candles at all).
    """
    start = time.perf_counter()
    raw = strategy.compute(frame)
    evaluated = normalise_output(raw, frame.height, strategy.warmup, strategy.name)
    cut_report = check_lookahead(strategy, frame, cuts=cuts, seed=seed, full=raw)
    height, cuts_tried = frame.height, len(cut_report.cuts)
    if not cut_report.ok:
        return GuardVerdict(False, cut_line(cut_report), height, cuts_tried, fired=0, window=0,
                            seconds=time.perf_counter() - start)
    bars = check_signal_bars(strategy, frame, evaluated, window=window, threads=threads)
    seconds = time.perf_counter() - start
    if not bars.ok:
        return GuardVerdict(False, bar_line(bars), height, cuts_tried, fired=bars.fired,
                            window=bars.window, window_only=bars.window_only, seconds=seconds)
    line = (
        f"no look-ahead in {cuts_tried} prefix cuts and at the {bars.checked} bars "
        f"where a signal fires (each recomputed on its {bars.window}-bar window)"
    )
    return GuardVerdict(True, line, height, cuts_tried, fired=bars.fired, window=bars.window,
                        window_only=bars.window_only, seconds=seconds)


# -- the cache ----------------------------------------------------------------------------------


def frame_digest(frame: pl.DataFrame) -> str:
    """A hash of the candle columns' bytes (the data's identity, wherever it came from)."""
    digest = hashlib.sha256()
    digest.update(str(frame.height).encode())
    for column in CANDLE_COLUMNS:
        if column in frame.columns:
            values = frame.get_column(column).cast(pl.Float64).to_numpy()
            digest.update(column.encode())
            digest.update(values.tobytes())
    return digest.hexdigest()


def cache_key(file: Path, strategy: Strategy, frame: pl.DataFrame, cuts: int) -> str:
    """The strategy file's bytes, its class and parameters, the candles, the cuts, the version."""
    digest = hashlib.sha256()
    digest.update(Path(file).read_bytes())
    params = strategy.params.model_dump(mode="json")
    digest.update(json.dumps(
        [GUARD_VERSION, strategy.name, params, cuts, frame_digest(frame)], sort_keys=True,
        default=str,
    ).encode())
    return digest.hexdigest()[:32]


def cached_guard(
    file: Path, strategy: Strategy, frame: pl.DataFrame, *, cuts: int,
    cache_dir: Path | None, threads: int = DEFAULT_THREADS,
) -> GuardVerdict:
    """:func:`run_guard`, answered from ``cache_dir`` when the same file was judged on the same
    candles with the same parameters; a cache that cannot be read or written is skipped."""
    path = cache_dir / f"{cache_key(file, strategy, frame, cuts)}.json" if cache_dir else None
    if path is not None and path.is_file():
        try:
            data = json.loads(path.read_text())
            return GuardVerdict(**{**data, "cached": True})
        except (OSError, ValueError, TypeError) as exc:
            log.warning("look-ahead guard cache %s unreadable: %s", path, exc)
    verdict = run_guard(strategy, frame, cuts=cuts, threads=threads)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(asdict(verdict)))
            tmp.replace(path)
        except OSError as exc:
            log.warning("look-ahead guard cache %s not written: %s", path, exc)
    return verdict
