"""The journal screen's requests: ``journal.page`` and ``journal.stats``.

The engine answers them from its own journal file, read in a worker thread (SQLite on the disk
never holds up the engine's loop), with the ``tradeterm journal`` views (``journal/views.py``:
the same columns and money display as the CLI). Answers are display cells (strings: the exact
values' display, never floats), so a screen needs no journal code and never opens the file.

The tables are their newest rows read newest first by index and counted by SQLite on demand,
so a page costs the same on a million trades as on ten; the statistics stream every trade
(constant memory) and are asked separately, after the first page is shown.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradeterm.service.asking import Asker, RequestRefused

if TYPE_CHECKING:
    from tradeterm.engine import Engine

MAX_ROWS = 2_000
"""The most rows one page may ask for."""


def read_pages(path: Path, tabs: tuple[str, ...], limit: int, counted: bool) -> dict[str, Any]:
    """``{"tables": {tab: {"headers", "rows", "total", "text"}}, "journal": path}`` (``total`` None when not
    counted and the page is full; ``text``: the left-aligned columns), or ``{"message": why}``
    when there is no journal to read. Blocking (SQLite): call it in a thread."""
    from tradeterm.journal.files import JournalError
    from tradeterm.journal.markets import MarketDisplay
    from tradeterm.journal.reader import JournalReader
    from tradeterm.journal.views import PAGED, TEXT_COLUMNS

    if not path.is_file():
        return {"message": f"No journal at {path} yet: it is created when tradeterm first trades."}
    tables: dict[str, Any] = {}
    try:
        with JournalReader(path) as reader:
            markets = MarketDisplay(reader)
            for name in tabs:
                view = PAGED[name]
                rows = reader.rows(view.table, newest_first=True, limit=limit)
                shown = [view.cells(row, markets)[1] for row in rows]
                total = reader.count(view.table) if counted or len(shown) < limit else None
                tables[name] = {"headers": list(view.headers), "rows": shown, "total": total,
                                "text": [h for h in view.headers if h in TEXT_COLUMNS]}
    except JournalError as exc:
        return {"message": str(exc)}
    return {"tables": tables, "journal": str(path)}


def read_stats(path: Path) -> dict[str, Any]:
    """``{"headers", "rows", "text"}`` of the statistics (overall, by strategy, by UTC day),
    or ``{"message": why}``. Blocking: call it in a thread."""
    from tradeterm.journal.files import JournalError
    from tradeterm.journal.reader import JournalReader
    from tradeterm.journal.views import STATS_HEADERS, TEXT_COLUMNS, grouped_stats_cells

    if not path.is_file():
        return {"message": f"No journal at {path} yet."}
    try:
        with JournalReader(path) as reader:
            cells = grouped_stats_cells(reader.stats(), reader.account_quote())
    except JournalError as exc:
        return {"message": str(exc)}
    return {"headers": list(STATS_HEADERS), "rows": [shown for _, shown in cells],
            "text": [h for h in STATS_HEADERS if h in TEXT_COLUMNS]}


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
    return await asyncio.to_thread(read_pages, engine.settings.journal_file, tabs, limit,
                                   counted)


async def stats(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    return await asyncio.to_thread(read_stats, engine.settings.journal_file)
