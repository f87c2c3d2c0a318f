"""The desk's recent fills (the snapshot's ``fills``): added once journaled, bounded, restored
from the journal after a restart. Real SQLite journal in tmp_path, no network."""

from __future__ import annotations

import asyncio
from decimal import Decimal as D
from pathlib import Path

from tradeterm import desk as desk_module
from tradeterm.config import Settings
from tradeterm.core.commands import PlaceOrder
from tradeterm.core.events import Event, OrderFilled
from tradeterm.core.models import BookSnapshot
from tradeterm.core.trading import OrderRequest, OrderType
from tradeterm.desk import Desk
from tradeterm.journal import JournalReader

SYMBOL = "BTC/USDT"
MARKET = {
    "symbol": SYMBOL, "precision": {"price": 0.01, "amount": 0.001},
    "limits": {"amount": {"min": 0.001, "max": 9000.0}, "cost": {"min": 1.0}},
}
BOOK = BookSnapshot(SYMBOL, bids=((100.0, 500.0),), asks=((101.0, 500.0),))
T0 = 1_717_203_600_000


async def started(path: Path, events: list[Event]) -> Desk:
    desk = Desk(Settings(journal_path=path), events.append, lambda: T0, timer_s=3600)
    await desk.start()
    desk.attach_markets({SYMBOL: MARKET})
    desk.on_book(SYMBOL, BOOK)
    return desk


async def until_filled(events: list[Event], count: int) -> None:
    for _ in range(2000):
        if sum(isinstance(e, OrderFilled) for e in events) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{count} fills were not published")


def buy(side: str = "buy") -> PlaceOrder:
    return PlaceOrder(OrderRequest(SYMBOL, side, OrderType.MARKET, D("0.1")))


async def test_fills_when_order_fills_then_in_recent_fills_once_published(tmp_path):
    events: list[Event] = []
    desk = await started(tmp_path / "j.sqlite", events)
    try:
        assert desk.fills() == ()
        desk.handle(buy())
        await until_filled(events, 1)
        (fill,) = desk.fills()
        assert (fill.side, fill.price, fill.quantity) == ("buy", D("101"), D("0.1"))
        with JournalReader(tmp_path / "j.sqlite") as reader:  # journaled before it was shown
            assert [f.id for f in reader.fills()] == [fill.id]
    finally:
        await desk.close()


async def test_fills_when_restarted_then_last_ones_restored_oldest_first(tmp_path, monkeypatch):
    monkeypatch.setattr(desk_module, "FILLS_KEPT", 3)
    path = tmp_path / "j.sqlite"
    events: list[Event] = []
    desk = await started(path, events)
    try:
        for i in range(4):
            desk.handle(buy("buy" if i % 2 == 0 else "sell"))
        await until_filled(events, 4)
        before = [f.id for f in desk.fills()]
    finally:
        await desk.close()
    again = await started(path, [])
    try:
        with JournalReader(path) as reader:
            ids = [f.id for f in reader.fills()]
        assert len(ids) == 4
        assert [f.id for f in again.fills()] == ids[-3:]
        assert before[-3:] == ids[-3:]
    finally:
        await again.close()
