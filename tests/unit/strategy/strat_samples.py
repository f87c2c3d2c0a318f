"""Small strategies (as classes and as file sources) shared by the strategy tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import polars as pl
from pydantic import Field

from tradeterm.strategy.api import Strategy


class SmaCross(Strategy):
    """A clean strategy: fast/slow SMA cross with a stop and targets."""

    name = "sma_cross"
    timeframe = "1m"
    warmup = 20

    class Params(Strategy.Params):
        fast: int = Field(5, ge=2, le=50)
        slow: int = Field(20, ge=5, le=200)
        risk: float = Field(0.01, gt=0, lt=0.5)

    def indicators(self, frame: pl.DataFrame) -> pl.DataFrame:
        p = self.params
        return frame.with_columns(
            fast=pl.col("close").rolling_mean(p.fast), slow=pl.col("close").rolling_mean(p.slow)
        )

    def signals(self, frame: pl.DataFrame) -> pl.DataFrame:
        above = pl.col("fast") > pl.col("slow")
        was = pl.col("fast").shift(1) > pl.col("slow").shift(1)
        r = pl.col("close") * self.params.risk
        return frame.with_columns(
            entry_long=above & ~was,
            entry_short=~above & was,
            exit_long=~above & was,
            exit_short=above & ~was,
            stop=pl.col("close") - r,
            target_1=pl.col("close") + r,
            target_2=pl.col("close") + 2 * r,
            confidence=pl.lit(0.5),
            reasons=pl.lit("fast>slow; trend"),
        )


class Peeker(SmaCross):
    """Looks one bar ahead: enters long when the next close is higher."""

    name = "peeker"

    def indicators(self, frame: pl.DataFrame) -> pl.DataFrame:
        return super().indicators(frame).with_columns(next_close=pl.col("close").shift(-1))

    def signals(self, frame: pl.DataFrame) -> pl.DataFrame:
        out = super().signals(frame)
        return out.with_columns(entry_long=pl.col("next_close") > pl.col("close"))


class Centered(SmaCross):
    """A centred rolling window: bar t sees bars t+1 and t+2."""

    name = "centered"

    def indicators(self, frame: pl.DataFrame) -> pl.DataFrame:
        return super().indicators(frame).with_columns(
            smooth=pl.col("close").rolling_mean(5, center=True)
        )


ALWAYS_SRC = '''
import polars as pl
from pydantic import Field
from tradeterm.strategy import Strategy


class {cls}(Strategy):
    name = "{name}"
    symbols = {symbols}
    timeframe = "{timeframe}"
    warmup = {warmup}

    class Params(Strategy.Params):
        size: float = Field(1.0, gt=0)

    def signals(self, frame):
        return frame.with_columns(
            entry_long=pl.lit(True),
            entry_short=pl.lit(False),
            exit_long=pl.lit(False),
            exit_short=pl.lit(False),
            stop=pl.col("low"),
            target_1=pl.col("close") * 1.01,
            confidence=pl.lit(0.8),
            reasons=pl.lit("always; test"),
        )
'''


def always_source(
    name: str = "always", *, symbols: tuple[str, ...] = (), timeframe: str = "1m",
    warmup: int = 0, cls: str = "Always",
) -> str:
    """A strategy file that signals entry_long on every bar."""
    return ALWAYS_SRC.format(
        name=name, symbols=repr(symbols), timeframe=timeframe, warmup=warmup, cls=cls
    )


RAISES_SRC = '''
import polars as pl
from tradeterm.strategy import Strategy


class Raises(Strategy):
    name = "raises"

    def signals(self, frame):
        if frame.height > 3000:  # passes the guard on its synthetic candles, fails live
            raise RuntimeError("boom in user code")
        return frame.with_columns(
            entry_long=pl.lit(False), entry_short=pl.lit(False),
            exit_long=pl.lit(False), exit_short=pl.lit(False),
        )
'''


def write(directory: Path, filename: str, source: str) -> Path:
    path = directory / filename
    path.write_text(textwrap.dedent(source))
    return path
