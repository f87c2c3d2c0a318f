"""The journal screen's requests: ``journal.page``, ``journal.stats`` and ``journal.curve``.

The engine answers them from its own journal file, read in a worker thread (SQLite on the disk
never holds up the engine's loop), with the ``tradeterm journal`` views (``journal/views.py``:
the same columns and money display as the CLI). Answers are display cells (strings: the exact
values' display, never floats), so a screen needs no journal code and never opens the file.

The tables are their newest rows read newest first by index and counted by SQLite on demand,
so a page costs the same on a million trades as on ten; the statistics stream every trade
(constant memory) and are asked separately, after the first page is shown.

Every request takes the screen's filters as arguments (``symbol``, ``strategy``, ``from``, ``to``:
texts as typed, read by ``journal/filters.py`` like the CLI's ``--symbol --strategy --from --to``);
``journal.curve`` answers the filtered trades' equity curve (downsampled to ``width`` points)
and daily PnL, as decimal strings.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradeterm.service.asking import Asker, RequestRefused

if TYPE_CHECKING:
    from tradeterm.engine import Engine
    from tradeterm.journal.filters import JournalFilter

MAX_ROWS = 2_000
"""The most rows one page may ask for."""


def read_pages(path: Path, tabs: tuple[str, ...], limit: int, counted: bool,
               flt: JournalFilter | None = None) -> dict[str, Any]:
    """``{"tables": {tab: {"headers", "rows", "total", "text"}}, "journal": path}`` (``total`` None when not
    counted and the page is full; ``text``: the left-aligned columns), or ``{"message": why}``
    when there is no journal to read. Blocking (SQLite): call it in a thread."""
    from tradeterm.journal.files import JournalError
    from tradeterm.journal.filters import JournalFilter
    from tradeterm.journal.markets import MarketDisplay
    from tradeterm.journal.reader import JournalReader
    from tradeterm.journal.views import PAGED, TEXT_COLUMNS

    flt = flt or JournalFilter()
    if not path.is_file():
        return {"message": f"No journal at {path} yet: it is created when tradeterm first trades."}
    tables: dict[str, Any] = {}
    try:
        with JournalReader(path) as reader:
            markets = MarketDisplay(reader)
            for name in tabs:
                view = PAGED[name]
                rows = reader.rows(view.table, flt.since_ms, flt.strategy, newest_first=True,
                                   limit=limit, **flt.query())
                shown = [view.cells(row, markets)[1] for row in rows]
                total = (reader.count(view.table, flt.since_ms, flt.strategy, **flt.query())
                         if counted or len(shown) < limit else None)
                tables[name] = {"headers": list(view.headers), "rows": shown, "total": total,
                                "text": [h for h in view.headers if h in TEXT_COLUMNS]}
    except JournalError as exc:
        return {"message": str(exc)}
    return {"tables": tables, "journal": str(path)}


def read_stats(path: Path, flt: JournalFilter | None = None) -> dict[str, Any]:
    """``{"headers", "rows", "text"}`` of the statistics (overall, by strategy, by UTC day),
    or ``{"message": why}``. Blocking: call it in a thread."""
    from tradeterm.journal.files import JournalError
    from tradeterm.journal.filters import JournalFilter
    from tradeterm.journal.reader import JournalReader
    from tradeterm.journal.views import STATS_HEADERS, TEXT_COLUMNS, grouped_stats_cells

    flt = flt or JournalFilter()
    if not path.is_file():
        return {"message": f"No journal at {path} yet."}
    try:
        with JournalReader(path) as reader:
            stats = reader.stats(flt.since_ms, flt.strategy, **flt.query())
            cells = grouped_stats_cells(stats, reader.account_quote())
    except JournalError as exc:
        return {"message": str(exc)}
    return {"headers": list(STATS_HEADERS), "rows": [shown for _, shown in cells],
            "text": [h for h in STATS_HEADERS if h in TEXT_COLUMNS]}


def read_curve(path: Path, flt: JournalFilter, width: int) -> dict[str, Any]:
    """``{"equity": [[ms, pnl]...], "daily": [[day, pnl]...], "trades", "quote"}`` (PnL as
    decimal strings), or ``{"message": why}``. Blocking: call it in a thread."""
    from tradeterm.journal.curve import read_curve as curve_of
    from tradeterm.journal.files import JournalError
    from tradeterm.journal.reader import JournalReader

    if not path.is_file():
        return {"message": f"No journal at {path} yet."}
    try:
        with JournalReader(path) as reader:
            curve = curve_of(reader, flt, width)
            quote = reader.account_quote()
    except JournalError as exc:
        return {"message": str(exc)}
    return {"equity": [[ms, str(v)] for ms, v in curve.equity],
            "daily": [[day, str(v)] for day, v in curve.daily],
            "trades": curve.trades, "quote": quote}


def _filter(args: dict[str, Any]) -> JournalFilter:
    from tradeterm.journal.filters import filter_of

    try:
        return filter_of(args)
    except ValueError as exc:
        raise RequestRefused(str(exc)) from None


def _tabs(args: dict[str, Any]) -> tuple[str, ...]:
    from tradeterm.journal.views import PAGED

    tabs = args.get("tabs", ["trades"])
    if not isinstance(tabs, list) or not all(isinstance(t, str) and t in PAGED for t in tabs):
        raise RequestRefused(f"tabs: a list of {', '.join(PAGED)}")
    return tuple(tabs)


async def page(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    limit = args.get("limit", 500)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= MAX_ROWS:
        raise RequestRefused(f"limit: a number of rows from 0 to {MAX_ROWS}")
    tabs = _tabs(args)
    counted = bool(args.get("counted", False))
    flt = _filter(args)
    return await asyncio.to_thread(read_pages, engine.settings.journal_file, tabs, limit,
                                   counted, flt)


async def stats(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    flt = _filter(args)
    return await asyncio.to_thread(read_stats, engine.settings.journal_file, flt)


MAX_WIDTH = 1_000
"""The most equity points one curve may ask for."""


async def curve(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    width = args.get("width", 200)
    if not isinstance(width, int) or isinstance(width, bool) or not 2 <= width <= MAX_WIDTH:
        raise RequestRefused(f"width: a number of points from 2 to {MAX_WIDTH}")
    flt = _filter(args)
    return await asyncio.to_thread(read_curve, engine.settings.journal_file, flt, width)
