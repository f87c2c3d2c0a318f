"""The journal screen's trades table laid out for a screen, not a CSV: every column a trader
reads per trade within 120 columns, without scrolling.

The engine answers the ``tradeterm journal`` view (``journal/views.py``: full
``YYYY-MM-DD HH:MM:SS`` times, the close first, the entry time near the end), which at 120
columns put the entry time past the right edge. Here the same cells are reordered (entry and
exit time, holding duration, then symbol, side, quantity, prices, PnL, R, MAE/MFE in R and the
strategy; fees, MAE/MFE in quote and the entry's reasons after them, seen at 200 columns or by
scrolling) and the times shortened: ``05-02 13:05`` (the year, when all rows share it, is in
the tab's note), and the exit time as ``13:47`` when the trade closed on the day it opened.
Times stay UTC, to the minute (the holding duration keeps the seconds of a short trade).
"""

from __future__ import annotations

from collections.abc import Sequence

OPENED, CLOSED = "opened (UTC)", "closed (UTC)"
SHOWN_ORDER = (
    OPENED, CLOSED, "held", "symbol", "side", "qty", "entry", "exit", "pnl", "R", "MAE R",
    "MFE R", "strategy", "fees", "MAE", "MFE", "reasons",
)
"""The trades columns in the order they are shown (unknown columns follow, as answered)."""
TITLES = {OPENED: "opened", CLOSED: "closed"}
"""Shorter headers (the tab's note says the times are UTC)."""


def _split(stamp: str) -> tuple[str, str, str] | None:
    """``("2024", "05-02", "13:05")`` of ``2024-05-02 13:05:07``; None if not such a time."""
    day, _, clock = stamp.partition(" ")
    if len(day) != 10 or len(clock) < 5:
        return None
    return day[:4], day[5:], clock[:5]


def compact_trades(headers: Sequence[str], rows: Sequence[Sequence[str]],
                   ) -> tuple[list[str], list[list[str]], str]:
    """``(headers, rows, year)``: the trades table reordered and its times shortened (see the
    module docstring); ``year`` is the one year every time is in ("" when they span years, and
    the times then keep it: ``24-05-02 13:05``)."""
    order = [headers.index(h) for h in SHOWN_ORDER if h in headers]
    order += [i for i, h in enumerate(headers) if h not in SHOWN_ORDER]
    at_open = headers.index(OPENED) if OPENED in headers else None
    at_close = headers.index(CLOSED) if CLOSED in headers else None
    years = {parts[0] for row in rows for i in (at_open, at_close) if i is not None
             for parts in [_split(row[i])] if parts is not None}
    year = next(iter(years)) if len(years) == 1 else ""

    def short(stamp: str, same_day_as: str | None = None) -> str:
        parts = _split(stamp)
        if parts is None:
            return stamp
        y, day, clock = parts
        if same_day_as is not None and same_day_as[:10] == stamp[:10]:
            return clock
        return f"{day} {clock}" if year else f"{y[2:]}-{day} {clock}"

    shown = []
    for row in rows:
        cells = list(row)
        opened = row[at_open] if at_open is not None else None
        if at_close is not None:
            cells[at_close] = short(row[at_close], opened)
        if at_open is not None:
            cells[at_open] = short(row[at_open])
        shown.append([cells[i] for i in order])
    return [TITLES.get(headers[i], headers[i]) for i in order], shown, year
