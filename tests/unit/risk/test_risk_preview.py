"""The order ticket's preview through the real desk (risk engine, paper broker's filters, a real
SQLite journal in tmp_path) on a simulated clock, numbers computed by hand.

Market: tick 0.01, lot step 0.00001, min notional 5; book 100 bid / 101 ask (mid 100.5);
equity 10000; taker fee 0.1 %; risk 1 % per trade.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal as D
from pathlib import Path

import pytest

from tradeterm.config import Settings
from tradeterm.core.commands import KillSwitch, PlaceOrder
from tradeterm.core.events import Event
from tradeterm.core.models import BookSnapshot, EnginePhase, Trade
from tradeterm.core.preview import TicketDraft
from tradeterm.core.trading import Bracket, OrderRequest, OrderType
from tradeterm.desk import Desk
from tradeterm.engine import Engine
from tradeterm.risk import TradingState
from tradeterm.risk.preview import RISK_NEEDS_STOP

SYMBOL = "BTC/USDT"
MARKET = {
    "symbol": SYMBOL, "precision": {"price": 0.01, "amount": 0.00001},
    "limits": {"amount": {"min": 0.00001, "max": 9000.0}, "cost": {"min": 5.0}},
}
BOOK = BookSnapshot(SYMBOL, bids=((100.0, 50.0),), asks=((101.0, 50.0),))
T0 = 1_717_203_600_000  # 2024-06-01 01:00 UTC


def draft(side="buy", type=OrderType.MARKET, size="100", unit="quote", price=None, stop=None,
          target=None) -> TicketDraft:
    def d(v):
        return None if v is None else D(v)

    return TicketDraft(SYMBOL, side, type, D(size), unit, d(price), d(stop), d(target))


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[tuple[Desk, list[Event]]]:
    events: list[Event] = []
    desk = Desk(Settings(journal_path=tmp_path / "journal.sqlite"), events.append, lambda: T0,
                timer_s=3600)
    await desk.start()
    desk.attach_markets({SYMBOL: MARKET})
    desk.on_book(SYMBOL, BOOK)
    try:
        yield desk, events
    finally:
        await desk.close()


async def test_preview_when_market_buy_quote_100_with_stop_then_sized_at_the_ask(desk):
    d, _ = desk
    p = d.preview(draft(size="100", stop="95", target="113"))
    assert p.allowed and p.reason is None
    assert p.reference_price == D("101")  # a buy takes the ask
    assert p.quantity == D("0.99009")  # 100 / 101 = 0.990099.. floored to the step
    assert p.notional == D("99.99909")
    # fees: 0.1 % of 101 x 0.99009 in, 0.1 % of 95 x 0.99009 out at the stop
    assert p.fee_estimate == D("0.09999909") + D("0.09405855")
    assert p.risk_amount == D("6") * D("0.99009") + D("0.19405764") == D("6.13459764")
    assert p.risk_pct == D("0.0613459764")
    assert p.reward_risk == D("2")  # (113 - 101) / (101 - 95)
    assert p.request == OrderRequest(
        SYMBOL, "buy", OrderType.MARKET, D("0.99009"), bracket=Bracket(D("95"), D("113")))


async def test_preview_when_risk_pct_sizing_then_budget_over_stop_distance_floored(desk):
    d, _ = desk
    p = d.preview(draft(side="sell", size="1", unit="risk", stop="103"))
    assert p.allowed, p.reason
    assert p.reference_price == D("100")  # a sell takes the bid
    assert p.quantity == D("33.33333")  # 1 % of 10000 = 100 over |100 - 103| = 33.333.. floored
    assert p.notional == D("3333.333")
    assert p.fee_estimate == D("6.76666599")  # 33.33333 x (100 + 103) x 0.001
    assert p.risk_amount == D("99.99999") + D("6.76666599")
    assert p.risk_pct == D("1.0676665599")
    assert p.reward_risk is None  # no target


async def test_preview_when_risk_pct_without_stop_then_no_order(desk):
    d, _ = desk
    p = d.preview(draft(size="1", unit="risk"))
    assert (p.request, p.allowed, p.reason) == (None, False, RISK_NEEDS_STOP)


async def test_preview_when_base_size_and_limit_price_off_grid_then_snapped(desk):
    d, _ = desk
    p = d.preview(draft(type=OrderType.LIMIT, size="0.123456789", unit="base", price="100.007",
                        stop="98.004", target="104.996"))
    assert p.allowed, p.reason
    assert p.quantity == D("0.12345")  # down to the lot step
    assert p.reference_price == D("100.00")  # a buy's limit rounds down to the tick
    assert p.request is not None
    assert p.request.price == D("100.00")
    assert p.request.bracket == Bracket(D("98.00"), D("105.00"))  # nearest tick
    assert p.reward_risk == D("2.5")  # 5 / 2


async def test_preview_when_limit_sell_then_reward_risk_from_the_limit(desk):
    d, _ = desk
    p = d.preview(draft(side="sell", type=OrderType.LIMIT, size="200", price="102", stop="104",
                        target="96"))
    assert p.allowed, p.reason
    assert p.reward_risk == D("3")  # (102 - 96) / (104 - 102)
    assert p.quantity == D("1.96078")  # 200 / 102 = 1.960784.. floored


async def test_preview_when_below_min_notional_then_denied_by_the_filter(desk):
    d, _ = desk
    p = d.preview(draft(size="4"))
    assert p.quantity == D("0.03960")
    assert not p.allowed
    assert p.request is not None  # the order exists; the exchange would refuse it
    assert p.reason is not None  # at the mid 100.5, as the broker measures a market order
    assert p.reason.startswith("MIN_NOTIONAL: notional 3.98 below minimum 5.00")


async def test_preview_when_stop_above_a_buy_then_denied_with_reason(desk):
    d, _ = desk
    p = d.preview(draft(stop="102"))
    assert not p.allowed and p.request is None
    assert p.reason == "stop 102 is not below the entry 101"


async def test_preview_when_daily_loss_limit_reached_then_entry_denied(desk):
    d, _ = desk
    d.risk.tick(D("10000"))
    d.risk.on_fill_realized(D("-300"))  # 3 % of the day's starting equity
    assert d.risk.state is TradingState.REDUCING
    p = d.preview(draft(stop="95"))
    assert not p.allowed
    assert p.reason is not None and p.reason.startswith("daily_loss_limit: realised -300")
    assert p.quantity == D("0.99009")  # the numbers are still shown


async def test_preview_when_halted_then_denied_by_the_kill_switch(desk):
    d, _ = desk
    d.handle(KillSwitch("test"))
    p = d.preview(draft(stop="95"))
    assert not p.allowed and p.reason is not None and p.reason.startswith("kill_switch")


async def test_preview_when_repeated_then_no_order_counted_and_nothing_published(tmp_path):
    events: list[Event] = []
    settings = Settings(journal_path=tmp_path / "j.sqlite", risk={"max_orders_per_minute": 1})
    d = Desk(settings, events.append, lambda: T0, timer_s=3600)
    await d.start()
    try:
        d.attach_markets({SYMBOL: MARKET})
        d.on_book(SYMBOL, BOOK)
        version, count = d.version, len(events)
        for _ in range(30):
            p = d.preview(draft(stop="95"))
        assert p.allowed and p.request is not None
        assert d.version == version and len(events) == count
        assert d.handle(PlaceOrder(p.request)) is None
        assert len(d.account().positions) == 1  # the one-per-minute budget was still free
        assert not d.preview(draft(stop="95")).allowed  # now it is used up
    finally:
        await d.close()


async def test_preview_when_no_book_then_last_trade_price_is_the_reference(tmp_path):
    d = Desk(Settings(journal_path=tmp_path / "j.sqlite"), lambda e: None, lambda: T0,
             timer_s=3600)
    await d.start()
    try:
        d.attach_markets({SYMBOL: MARKET})
        assert d.preview(draft()).reason == f"no price for {SYMBOL} yet"
        d.on_trades(SYMBOL, [Trade("1", T0, 100.5, 1.0, "buy")])
        p = d.preview(draft())
        assert p.reference_price == D("100.5") and p.quantity == D("0.99502")
        assert p.reason is not None and p.reason.startswith("price_band: no book mid")
    finally:
        await d.close()


async def test_preview_when_desk_not_started_then_not_allowed(tmp_path):
    d = Desk(Settings(journal_path=tmp_path / "j.sqlite"), lambda e: None, lambda: T0)
    p = d.preview(draft())
    assert not p.allowed and p.reason == "the journal is not open yet"


async def test_engine_preview_when_not_connected_then_clear_reason(tmp_path):
    engine = Engine(Settings(journal_path=tmp_path / "j.sqlite", demo=True))
    assert engine.snapshot().phase is EnginePhase.STARTING
    p = engine.preview(draft())
    assert not p.allowed and p.reason == "not connected to binance: starting"
