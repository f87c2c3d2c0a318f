"""The desk under a full disk: every denial is shown while the journal is halted, the recovery
is announced, and the signals that kept coming are journaled as counts (real SQLite journal,
the "disk" is SQLite's ``max_page_count``)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from test_desk_pipeline import BOOK, SYMBOL, Clock, buy, make_settings, open_desk, until

from tradeterm.core.commands import PlaceOrder
from tradeterm.core.events import OrderDenied, OrderFilled, SignalEmitted, TradingStateChanged
from tradeterm.core.models import Signal
from tradeterm.core.trading import OrderRequest, OrderType
from tradeterm.journal import JournalReader


async def test_desk_when_halted_by_full_disk_then_every_denial_shown_and_recovery_announced(
    tmp_path,
):
    clock = Clock()
    h = await open_desk(make_settings(tmp_path), clock)
    d = h.desk
    assert d.writer is not None
    try:
        d.handle(buy("0.1"))
        await until(lambda: h.of(OrderFilled), "a first fill")
        await asyncio.to_thread(d.writer.set_max_size, 1)  # no page more: as a full disk
        for _ in range(200):  # trade until the journal needs a page it cannot have
            clock.now += 61_000
            d.on_book(SYMBOL, BOOK)
            d.handle(buy("0.1"))
            d.handle(PlaceOrder(OrderRequest(SYMBOL, "sell", OrderType.MARKET, Decimal("0.1"))))
            await asyncio.sleep(0.005)
            if d.trading_state == "halted":
                break
        await until(lambda: d.trading_state == "halted", "the halt")
        shown = len(h.of(OrderDenied))
        fills_shown = {e.fill.id for e in h.of(OrderFilled)}
        for _ in range(300):  # the strategy keeps signalling; every signal is denied
            clock.now += 1_000
            signal = Signal("ema", SYMBOL, "1m", clock.now, "entry", "buy", entry=101.0,
                            stop=95.0)
            d.on_signal(SignalEmitted(clock.now, signal))
        d.handle(buy("0.1"))  # and the trader tries by hand
        await until(lambda: len(h.of(OrderDenied)) >= shown + 301, "every denial shown")
        assert d.writer.coalesced >= 600  # 300 signals + 300 denials, as counts
        await asyncio.to_thread(d.writer.set_max_size, None)  # space returns

        def recovery() -> list[TradingStateChanged]:
            return [e for e in h.of(TradingStateChanged) if "recovered" in e.reason]

        (notice,) = await until(recovery, "the recovery notice")
        assert notice.state == "halted" and "until resumed" in notice.reason
        await until(lambda: d.writer is not None and d.writer.coalesced == 0, "counts written")
        assert d.trading_state == "halted"
    finally:
        await d.close()
    with JournalReader(d.settings.journal_file) as reader:
        assert fills_shown <= {f.id for f in reader.fills()}  # nothing shown was lost
        ((rows, total),) = reader.db.execute(
            "SELECT count(*), sum(coalesced) FROM signals WHERE strategy = 'ema'").fetchall()
        commands = reader.db.execute(
            "SELECT count(*) FROM commands WHERE command = 'PlaceOrder'").fetchone()[0]
    assert rows == 1 and total == 300
    assert commands >= 3  # the manual order was kept, not coalesced
