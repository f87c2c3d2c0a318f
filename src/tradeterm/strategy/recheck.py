"""The live half of the look-ahead guard: each bar a strategy acted on is computed again a few bars
later, and the strategy is stopped if its signal there changed.

Live, a strategy is evaluated with the bar that just closed as the last row: nothing after it
exists. A strategy that peeks (``shift(-1)`` filled with a guess, a pivot confirmed by later
bars) signals there on a guess that later bars contradict, and a backtest of it shows other
signals than the ones it gave live. The worker keeps the frame each signal came from; when the
strategy is evaluated :data:`RECHECK_BARS` bars later, it computes that same frame with the bars
that closed since appended (the bars up to the signal's bar are exactly the ones it acted on, so
an honest strategy gives the same row bit for bit) and compares the signal columns at that bar.
A difference is look-ahead; the reason names the column, the bar and both values.

A strategy whose signals also depend on something besides the candles that it replaces on
purpose (``ml_signal``: a retrained model) says so with ``recheck_epoch`` (the model's version):
a bar acted on under another epoch is not computed again, since the new model is expected to
see the same bars differently.

This runs in the strategy's worker process, inside the evaluation that falls due: the engine's
loop only awaits the worker's reply, as for any evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from tradeterm.strategy.api import ENTRY_EXIT_COLUMNS, Strategy
from tradeterm.strategy.bar_guard import changes, signal_columns

RECHECK_BARS = 3
"""How many bars after a signal its bar is computed again."""

MAX_PENDING = 64
"""Signals waiting for their recheck, per symbol and timeframe (older ones are dropped)."""


@dataclass(slots=True)
class _Acted:
    bar_time: int
    frame: pl.DataFrame  # the bars the signal came from, ending at its bar
    row: dict[str, object]  # the signal columns at that bar
    columns: tuple[str, ...]
    epoch: object = None  # the strategy's recheck_epoch when it acted


@dataclass(slots=True)
class Recheck:
    """Signals waiting to be computed again, per ``(symbol, timeframe)``."""

    bars: int = RECHECK_BARS
    _pending: dict[tuple[str, str], list[_Acted]] = field(default_factory=dict)

    def acted(self, key: tuple[str, str], frame: pl.DataFrame, evaluated: pl.DataFrame,
              epoch: object = None) -> None:
        """Remember the last bar of ``evaluated`` if a signal fired there."""
        if evaluated.is_empty():
            return
        row = evaluated.row(-1, named=True)
        if not any(row[c] for c in ENTRY_EXIT_COLUMNS):
            return
        columns = signal_columns(evaluated)
        bar_time = int(row["open_time"])
        pending = self._pending.setdefault(key, [])
        if pending and pending[-1].bar_time == bar_time:
            return  # the same bar evaluated twice
        pending.append(_Acted(bar_time, frame, {c: row[c] for c in columns}, columns, epoch))
        del pending[:-MAX_PENDING]

    def verify(
        self, strategy: Strategy, key: tuple[str, str], frame: pl.DataFrame, interval_ms: int
    ) -> str | None:
        """Recompute every signal of ``key`` that is :attr:`bars` bars old in ``frame`` (the
        bars now known); the reason to stop the strategy, or None. The strategy's errors
        propagate (as they would from any evaluation)."""
        pending = self._pending.get(key)
        if not pending or frame.is_empty():
            return None
        last = int(frame.get_column("open_time")[-1])
        due = [p for p in pending if last >= p.bar_time + self.bars * interval_ms]
        if not due:
            return None
        self._pending[key] = [p for p in pending if p not in due]
        epoch = getattr(strategy, "recheck_epoch", None)
        for acted in due:
            if acted.epoch != epoch:
                continue  # acted on under a model (or other input) since replaced on purpose
            later = frame.filter(pl.col("open_time") > acted.bar_time)
            try:
                extended = pl.concat([acted.frame, later.select(acted.frame.columns)],
                                     how="vertical", rechunk=True)
            except (pl.exceptions.PolarsError, KeyError):
                continue  # the candles' shape changed meanwhile: nothing comparable
            row = strategy.evaluate(extended).row(acted.frame.height - 1, named=True)
            diff = changes(acted.row, {c: row.get(c) for c in acted.columns}, acted.columns)
            if diff:
                column, then, now = diff[0]
                return (
                    f"look-ahead: its {column} at the bar of {_hhmm(acted.bar_time)} "
                    f"(open_time {acted.bar_time}) was {then!r} when it acted and is {now!r} "
                    f"{later.height} bars later: the signal depended on bars not yet closed"
                )
        return None


def _hhmm(ms: int) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ms / 1000))
