"""A strategy's trade through the real desk (risk, paper broker, a real SQLite journal) tells its
story in the journal: the entry signal's reasons, entry and exit time, holding duration, MAE
and MFE in R from the marks the desk saw while the position was open; a restart in the middle
keeps the running excursions and the link to the entry signal."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradeterm.config import Settings
from tradeterm.core.events import SignalEmitted
from tradeterm.core.models import BookSnapshot, Signal
from tradeterm.desk import Desk
from tradeterm.service.journal_requests import read_pages

SYMBOL = "BTC/USDT"
MARKET = {
    "symbol": SYMBOL, "precision": {"price": 0.01, "amount": 0.00001},
    "limits": {"amount": {"min": 0.00001, "max": 9000.0}, "cost": {"min": 5.0}},
}
T0 = 1_717_200_000_000  # 2024-06-01 00:00 UTC
MIN = 60_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> int:
        return self.now


def book(mid: str) -> BookSnapshot:
    """A book around ``mid`` (half a unit each side), deep enough for any order here."""
    m = float(mid)
    return BookSnapshot(SYMBOL, bids=((m - 0.25, 1_000.0),), asks=((m + 0.25, 1_000.0),))


async def until(predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := predicate()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
    return result


async def open_desk(path: Path, clock: Clock, mid: str) -> Desk:
    desk = Desk(Settings(journal_path=path), lambda event: None, clock, timer_s=3600)
    await desk.start()
    desk.attach_markets({SYMBOL: MARKET})
    desk.on_book(SYMBOL, book(mid))
    return desk


def trades_page(path: Path) -> tuple[list[str], list[list[str]]]:
    table = read_pages(path, ("trades",), 10, True)["tables"]["trades"]
    return table["headers"], table["rows"]


async def test_a_strategy_trade_through_the_desk_journals_its_story(tmp_path: Path):
    """Entry at 100.25 (the ask) with the stop at 90.25: 1R is 10 per unit. The marks go down
    to 85.25 (-1.5R: the tape printed nothing there, so the stop never traded), the engine
    restarts, the marks go up to 120.25 (+2R), and the strategy exits at 110 after 2 h 15 m."""
    path = tmp_path / "journal.sqlite"
    clock = Clock()
    desk = await open_desk(path, clock, "100")
    entry = Signal("story", SYMBOL, "1m", T0, "entry", "buy", entry=100.25, stop=90.25,
                   reasons=("close above the 20-bar high", "volume 2.1x"))
    desk.on_signal(SignalEmitted(T0, entry))
    (pos,) = desk.broker.positions()
    assert pos.average_entry == Decimal("100.25") and pos.initial_risk == 10 * pos.quantity
    for minutes, mid in ((5, "95.5"), (20, "85.25"), (30, "92")):
        clock.now = T0 + minutes * MIN
        desk.on_book(SYMBOL, book(mid))
    clock.now = T0 + 31 * MIN
    await desk.close()  # a restart with the position open: restored from the journal

    desk = await open_desk(path, clock, "92")
    try:
        for minutes, mid in ((60, "110"), (90, "120.25"), (120, "111")):
            clock.now = T0 + minutes * MIN
            desk.on_book(SYMBOL, book(mid))
        clock.now = T0 + 135 * MIN
        desk.on_book(SYMBOL, book("110.25"))
        desk.on_signal(SignalEmitted(clock.now, Signal("story", SYMBOL, "1m", clock.now, "exit",
                                                       "sell")))
        assert desk.broker.positions() == ()
        headers, rows = await until(lambda: trades_page(path)[1] and trades_page(path),
                                    "the closed trade in the journal")
    finally:
        await desk.close()
    (row,) = rows
    cell = dict(zip(headers, row, strict=True))
    assert (cell["MAE R"], cell["MFE R"]) == ("-1.50", "2.00")
    assert cell["R"] == "0.95"  # exit at the bid 110: (110 - 100.25) / 10, less the fees
    assert cell["opened (UTC)"] == "2024-06-01 00:00:00"
    assert cell["closed (UTC)"] == "2024-06-01 02:15:00"
    assert cell["held"] == "2h 15m"
    assert cell["reasons"] == "close above the 20-bar high; volume 2.1x"
    assert cell["strategy"] == "story"
