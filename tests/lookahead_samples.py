"""Strategies that look ahead on only a few bars, shared by the guard's unit, CLI and engine tests.

``RARE_PEEK_SRC``: an honest SMA cross that, on one bar in ``{every}`` (by open time), also enters
long when the *next* close is higher. In a backtest it fires there; live it never can (the next
bar does not exist yet). Random prefix cuts rarely land right after such a bar.

``REPAINT_SRC``: on one bar in ``{every}`` it enters long while the next bar is unknown, and takes
it back once the next bar exists (``fill_null(True)`` on a peek): live it fires and acts, a
backtest never shows it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import polars as pl

RARE_PEEK_SRC = '''
import polars as pl
from pydantic import Field
from tradeterm.strategy import Strategy


class RarePeek(Strategy):
    name = "{name}"
    timeframe = "{timeframe}"
    warmup = 20

    class Params(Strategy.Params):
        fast: int = Field(5, ge=2, le=8)

    def signals(self, frame):
        close = pl.col("close")
        fast, slow = close.rolling_mean(self.params.fast), close.rolling_mean(20)
        above, was = fast > slow, fast.shift(1) > slow.shift(1)
        rare = (pl.col("open_time") // {interval_ms}) % {every} == 0
        peek = rare & (close.shift(-1) > close)  # sees the next bar, on rare bars only
        return frame.with_columns(
            entry_long=(above & ~was) | peek, entry_short=~above & was,
            exit_long=~above & was, exit_short=above & ~was,
        )
'''

REPAINT_SRC = '''
import polars as pl
from tradeterm.strategy import Strategy


class Repaint(Strategy):
    name = "{name}"
    timeframe = "{timeframe}"

    def signals(self, frame):
        close = pl.col("close")
        rare = (pl.col("open_time") // {interval_ms}) % {every} == 0
        # "assume the next bar confirms": true while it is unknown, false once it is known
        guess = (close.shift(-1) > close * 10).fill_null(True)
        return frame.with_columns(
            entry_long=rare & guess, entry_short=pl.lit(False),
            exit_long=pl.lit(False), exit_short=pl.lit(False),
        )
'''


def source(template: str, name: str, *, every: int = 499, timeframe: str = "1m",
           interval_ms: int = 60_000) -> str:
    return textwrap.dedent(template).format(
        name=name, every=every, timeframe=timeframe, interval_ms=interval_ms
    )


def write(directory: Path, template: str, name: str, **kwargs: object) -> Path:
    path = directory / f"{name}.py"
    path.write_text(source(template, name, **kwargs))  # type: ignore[arg-type]
    return path


def peeked_bars(frame: pl.DataFrame, every: int = 499, interval_ms: int = 60_000) -> list[int]:
    """The bars where RARE_PEEK enters long only because it saw the next close rise (its honest
    cross does not fire there)."""
    close = pl.col("close")
    fast, slow = close.rolling_mean(5), close.rolling_mean(20)
    honest = ((fast > slow) & ~(fast.shift(1) > slow.shift(1))).fill_null(False)
    rare = (pl.col("open_time") // interval_ms) % every == 0
    hits = frame.select(pl.arg_where(rare & (close.shift(-1) > close) & ~honest)).to_series()
    return [int(i) for i in hits.to_list() if i >= 20]
