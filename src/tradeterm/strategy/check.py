"""``tradeterm check-strategy NAME [--data FILE]``: the look-ahead guard from the command line.

The whole guard (:mod:`tradeterm.strategy.guard`): random prefix cuts, then the strategy
recomputed at every bar where a signal fires. Exit status: 0 no look-ahead found, 1 look-ahead
(the column, the bar(s) and what changed are printed), 2 the strategy or the data cannot be
loaded (or the strategy raises on the data). ``backtest`` and ``optimize`` refuse a caught
strategy with exit status 2 instead: for them it is unusable input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.markup import escape

from tradeterm.core.models import timeframe_ms
from tradeterm.indicators.candle_file import CandleFileError, read_candle_file
from tradeterm.strategy.guard import CACHE_DIR, cached_guard
from tradeterm.strategy.loader import load_directory

SYNTHETIC_BARS = 5000
MIN_CUTS = 20
"""The command line can afford more cuts than the check at enable time."""

DataError = CandleFileError
"""The ``--data`` file cannot be used; the message (one line) names the file and says why."""


def read_candles(path: Path) -> pl.DataFrame:
    """A candle frame from a parquet of candles (``open_time`` or ``timestamp_ms``, OHLCV),
    checked by the project's one candle reader."""
    return read_candle_file(path)


def check_strategy_command(
    name: str, data: Path | None, settings: Any, console: Console | None = None
) -> int:
    """Load strategy ``name`` from ``settings.strategies.dir`` and run the look-ahead guard on
    ``data`` (or on synthetic candles of its timeframe); print the verdict; return the status."""
    out = console or Console()
    directory = settings.strategies.dir
    result = load_directory(directory)
    loaded = result.strategies.get(name)
    if loaded is None:
        broken = [e for e in result.errors if e.file.stem == name]
        for err in broken:  # soft_wrap: one line each, however long the path
            out.print(f"[bold red]cannot load[/] {escape(str(err))}", soft_wrap=True)
        if not broken:
            known = ", ".join(sorted(result.strategies)) or "none"
            out.print(f"[bold red]no strategy named {escape(repr(name))}[/] in "
                      f"{escape(str(directory))} (found: {known})", soft_wrap=True)
        return 2
    cls = loaded.cls
    try:
        if data is not None:
            frame = read_candles(data)
            source = f"{data} ({frame.height} bars)"
        else:
            from tradeterm.indicators.frame import synthetic_candles

            frame = synthetic_candles(
                SYNTHETIC_BARS, seed=0, interval_ms=timeframe_ms(cls.timeframe)
            )
            source = f"{SYNTHETIC_BARS} synthetic {cls.timeframe} bars"
    except DataError as exc:
        out.print(f"[bold red]cannot load the data:[/] {escape(str(exc))}", soft_wrap=True)
        return 2
    cuts = max(settings.strategies.lookahead_cuts, MIN_CUTS)
    out.print(f"checking [bold]{name}[/] ({loaded.file}) on {source}, {cuts} prefix cuts "
              "and every bar where a signal fires")
    try:
        verdict = cached_guard(loaded.file, cls(), frame, cuts=cuts,
                               cache_dir=guard_cache_dir(settings))
    except Exception as exc:  # the strategy itself fails on this data
        out.print(f"[bold red]the strategy failed:[/] {type(exc).__name__}: {exc}")
        return 2
    if verdict.ok:
        out.print(f"[bold green]ok[/]: {escape(verdict.line)}{_cost(verdict)}", soft_wrap=True)
        return 0
    out.print(f"[bold red]LOOK-AHEAD[/] {escape(verdict.line)}. This strategy refuses to run "
              "live.", soft_wrap=True)
    return 1


def guard_cache_dir(settings: Any) -> Path | None:
    """``<data_dir>/guard-cache`` (None if the settings have no data dir)."""
    data_dir = getattr(settings, "data_dir", None)
    return Path(data_dir) / CACHE_DIR if data_dir is not None else None


def _cost(verdict: Any) -> str:
    if verdict.cached:
        return " (cached verdict)"
    note = f" ({verdict.seconds:.1f} s"
    if verdict.window_only:
        note += (f"; at {verdict.window_only} of them only the {verdict.window}-bar window "
                 "signals differently: the strategy needs more history than that")
    return note + ")"
