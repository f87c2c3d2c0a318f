"""The journal screen's charts: the equity curve (cumulative realised PnL, after fees, of the
closed trades the filters keep) and the PnL of each UTC day, as exact decimal strings.

Why realised PnL and not the ``equity`` table: that table is the whole account's, so it cannot
follow a symbol or strategy filter; the sum of the filtered trades can, and over the whole
journal it is the account's equity minus its starting balance at each close. The trades stream
from SQLite (constant memory); the curve is downsampled to the chart's width, keeping the last
point of each bucket (the cumulative value is exact there) and always the very last one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tradeterm.journal.filters import JournalFilter
from tradeterm.journal.reader import JournalReader

ZERO = Decimal(0)
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class Curve:
    """``equity``: (closed ms, cumulative PnL) at most ``width`` points; ``daily``: (UTC day,
    that day's PnL) for every day with a closed trade, oldest first; ``trades`` counted."""

    equity: list[tuple[int, Decimal]]
    daily: list[tuple[str, Decimal]]
    trades: int


def day_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def read_curve(reader: JournalReader, flt: JournalFilter, width: int) -> Curve:
    """The filtered trades' curve and daily sums (see the module docstring)."""
    total = reader.count("positions", flt.since_ms, flt.strategy, **flt.query())
    every = max(1, -(-total // max(1, width)))  # ceil: at most ``width`` points
    cumulative = ZERO
    equity: list[tuple[int, Decimal]] = []
    daily: dict[int, Decimal] = {}  # by UTC day number: named once at the end (a million
    # strftime calls would be most of the time)
    n = last_ms = 0
    for pnl, closed_ms in reader.columns("positions", "pnl, closed_ms", flt.since_ms,
                                         flt.strategy, **flt.query()):
        value = Decimal(pnl)
        cumulative += value
        day = closed_ms // DAY_MS
        daily[day] = daily.get(day, ZERO) + value
        n += 1
        last_ms = closed_ms
        if n % every == 0:
            equity.append((closed_ms, cumulative))
    if n and (not equity or equity[-1] != (last_ms, cumulative)):
        equity.append((last_ms, cumulative))  # the end of the curve is always shown
    return Curve(equity, [(day_of(day * DAY_MS), v) for day, v in sorted(daily.items())], n)
