"""The look-ahead guard at every bar where a signal fires: rarity cannot dodge it.

Random prefix cuts (:mod:`tradeterm.strategy.lookahead`) only see the bar just before each cut,
so a strategy that peeks on a few bars passes them by luck. Here the strategy is recomputed on
its lookback window *ending at* each bar where a signal fires in the full-history evaluation:
that bar is the window's last row, no later bar exists, and its signal (the four entry/exit
columns and the price columns) must be the one the full history gave. A strategy that fires at
bar t because it saw bar t+1 fires there in a backtest and never live; it is caught at t.

Which bars: every bar where an entry column is true, and every bar where an exit column *turns
on* (true there, not on the bar before), after the warm-up. An exit that is a state (``close <
middle band``, true on half the bars) is checked where it begins, not on each of its bars
(that would be a recomputation for nearly every bar).

The window is twice the warm-up (the history the live engine fetches), at least
:data:`MIN_WINDOW` bars. A recursive indicator (an EMA) seeded at the window's first bar is not
bit-for-bit the full history's, so near a crossover a window can disagree without any
look-ahead. A disagreement is therefore checked again on a window :data:`WIDEN` times longer,
then on the whole prefix ``frame[:t+1]``, which a causal strategy computes exactly as the full
history does: only a difference that survives the exact prefix is look-ahead. Honest strategies
are never refused for a short window; the bars where only the window disagreed are counted
(live, with that much history, the strategy could signal differently there).

Cost: one strategy call per fired bar (the fixed cost of a call dominates: a window of a few
hundred rows costs a good part of what the whole history does), plus an exact prefix for each
bar only the short window disagrees on (``benchmarks/lookahead_guard.py``). No stacking of windows into one
frame is done: in a stack the row after a window's last bar is the next window's first bar, a
real bar a peek would read, so a peek could agree by chance; only a frame that *ends* at the
bar shows what live shows. Calls run on ``threads`` threads (polars and TA-Lib release the GIL),
each with its own instance of the strategy.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

from tradeterm.strategy.api import ENTRY_EXIT_COLUMNS, PRICE_COLUMNS, Strategy

MIN_WINDOW = 64
"""The shortest lookback window tried (a strategy with no warm-up still gets some history)."""

WIDEN = 8
"""A disagreement on the window is checked on a window this many times longer, then exactly."""

PRICE_TOL = 1e-6
"""Relative tolerance on price columns (the signal columns must be equal)."""

MAX_FOUND = 3
"""Look-ahead bars confirmed before the check stops (the report names them)."""

CHUNK = 256
"""Fired bars checked between two looks at whether enough look-ahead was found."""


def window_bars(warmup: int) -> int:
    """The lookback window of a strategy with this warm-up: 2 x warm-up, at least MIN_WINDOW."""
    return max(2 * warmup, MIN_WINDOW)


def fired_bars(evaluated: pl.DataFrame) -> list[int]:
    """Indices of the bars where an entry is true or an exit turns on, in an ``evaluate``
    output (whose warm-up rows are already False)."""
    fires = [
        pl.col(c) if c.startswith("entry") else pl.col(c) & ~pl.col(c).shift(1, fill_value=False)
        for c in ENTRY_EXIT_COLUMNS
    ]
    found = evaluated.select(pl.arg_where(pl.any_horizontal(fires))).to_series()
    return [int(i) for i in found.to_list()]


def signal_columns(evaluated: pl.DataFrame) -> tuple[str, ...]:
    """The columns compared at a bar: the four signals and the price columns it has."""
    return (*ENTRY_EXIT_COLUMNS, *(c for c in PRICE_COLUMNS if c in evaluated.columns))


def same_value(a: object, b: object) -> bool:
    """Signals equal; prices equal to :data:`PRICE_TOL` (null and NaN equal each other)."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        if _missing(a) and _missing(b):
            return True
        return a == b
    if isinstance(a, float | int) and isinstance(b, float | int):
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return abs(fa - fb) <= max(abs(fa), abs(fb)) * PRICE_TOL or fa == fb
    return a == b


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def changes(
    expected: dict[str, object], got: dict[str, object], columns: tuple[str, ...]
) -> list[tuple[str, object, object]]:
    """``(column, expected, got)`` for every column that differs."""
    return [
        (c, expected.get(c), got.get(c)) for c in columns
        if not same_value(expected.get(c), got.get(c))
    ]


@dataclass(frozen=True, slots=True)
class BarChange:
    """A bar whose signal differs without the bars after it: look-ahead, confirmed exactly."""

    bar: int
    bar_time: int
    column: str
    full_value: object  # with the later bars (the full history)
    cut_value: object  # without them (the prefix ending at the bar)


@dataclass(frozen=True, slots=True)
class SignalBarReport:
    """What the check at every fired bar found."""

    checked: int  # fired bars recomputed
    fired: int  # fired bars in the full history
    window: int
    found: tuple[BarChange, ...] = ()  # the first look-ahead bars (at most MAX_FOUND)
    window_only: int = 0  # bars where only the short window disagreed (not look-ahead)

    @property
    def ok(self) -> bool:
        return not self.found


class _Instances:
    """One strategy instance per thread: user code is never shared between threads."""

    def __init__(self, strategy: Strategy) -> None:
        self._strategy = strategy
        self._local = threading.local()

    def get(self) -> Strategy:
        instance: Strategy | None = getattr(self._local, "instance", None)
        if instance is None:
            instance = type(self._strategy)(self._strategy.params)
            self._local.instance = instance
        return instance


def last_row(
    strategy: Strategy, frame: pl.DataFrame, bar: int, length: int | None,
    columns: tuple[str, ...],
) -> dict[str, object] | None:
    """The signal columns at ``bar`` computed on the ``length`` bars ending there (None: the
    whole prefix); None if the strategy raised or left a column out on that window."""
    try:
        return exact_row(strategy, frame, bar, length, columns)
    except Exception:  # noqa: BLE001 - a short window the strategy rejects: widen, then exact
        return None


def exact_row(
    strategy: Strategy, frame: pl.DataFrame, bar: int, length: int | None,
    columns: tuple[str, ...],
) -> dict[str, object]:
    """:func:`last_row` letting the strategy's errors through."""
    start = 0 if length is None else max(0, bar + 1 - length)
    row = strategy.evaluate(frame.slice(start, bar + 1 - start)).row(-1, named=True)
    return {c: row.get(c) for c in columns}


def check_signal_bars(
    strategy: Strategy,
    frame: pl.DataFrame,
    evaluated: pl.DataFrame | None = None,
    *,
    window: int | None = None,
    threads: int = 1,
    max_found: int = MAX_FOUND,
) -> SignalBarReport:
    """Recompute ``strategy`` on the window ending at every fired bar; see the module doc.

    ``evaluated`` is ``strategy.evaluate(frame)`` if already computed. An error on the exact
    prefix propagates (the strategy fails on its own data; the guard only judges causality).
    """
    if evaluated is None:
        evaluated = strategy.evaluate(frame)
    length = window or window_bars(strategy.warmup)
    columns = signal_columns(evaluated)
    bars = fired_bars(evaluated)
    full = {c: evaluated.get_column(c).to_list() for c in columns}
    times = frame.get_column("open_time")
    instances = _Instances(strategy)

    def settled(bar: int, length_now: int | None) -> tuple[int, dict[str, object] | None, bool]:
        """The signal at ``bar`` on the window of ``length_now`` bars (None: the exact prefix,
        which lets the strategy's errors through), and whether it is the full history's."""
        expected = {c: full[c][bar] for c in columns}
        got: dict[str, object] | None
        if length_now is None:
            got = exact_row(instances.get(), frame, bar, None, columns)
        else:
            got = last_row(instances.get(), frame, bar, length_now, columns)
        return bar, got, got is not None and not changes(expected, got, columns)

    found: list[BarChange] = []
    window_only = 0
    checked = 0
    pool = ThreadPoolExecutor(threads) if threads > 1 else None

    def run(length_now: int | None, chunk: list[int]
            ) -> list[tuple[int, dict[str, object] | None, bool]]:
        if pool is not None and chunk:
            return list(pool.map(settled, chunk, [length_now] * len(chunk)))
        return [settled(b, length_now) for b in chunk]

    try:
        for chunk in _chunks(bars, CHUNK):
            checked += len(chunk)
            differ = [b for b, _, ok in run(length, chunk) if not ok]
            wide_differ = [b for b, _, ok in run(length * WIDEN, differ) if not ok]
            window_only += len(differ) - len(wide_differ)
            # Exactly, a few at a time: a strategy that peeks everywhere stops at max_found.
            for batch in _chunks(wide_differ, max(2, threads)):
                for bar, exact, ok in run(None, batch):
                    if ok:
                        window_only += 1
                        continue
                    assert exact is not None
                    expected = {c: full[c][bar] for c in columns}
                    column, full_value, cut_value = changes(expected, exact, columns)[0]
                    found.append(BarChange(bar, int(times[bar]), column, full_value, cut_value))
                if len(found) >= max_found:
                    break
            if len(found) >= max_found:
                break
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return SignalBarReport(
        checked=checked, fired=len(bars), window=length, found=tuple(found[:max_found]),
        window_only=window_only,
    )


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
