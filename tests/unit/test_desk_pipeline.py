"""The desk on its own: risk, paper broker and a real SQLite journal in tmp_path, fed by hand
(a fake ccxt market dict and book snapshots), on a simulated clock. No network."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradeterm.config import Settings
from tradeterm.core.commands import (
    CancelOrder, ClosePosition, KillSwitch, PlaceOrder, ResumeTrading,
)
from tradeterm.core.display import fmt_quote
from tradeterm.core.events import (
    Event, OrderDenied, OrderFilled, OrderUpdated, SignalEmitted, TradingStateChanged,
)
from tradeterm.core.models import BookSnapshot, Signal, Trade
from tradeterm.core.scale_out import leg_of
from tradeterm.core.trading import Bracket, OrderRequest, OrderStatus, OrderType
from tradeterm.desk import LIVE_REFUSAL, Desk
from tradeterm.journal import JournalReader, load_state
from tradeterm.risk import RiskContext, TradingState

SYMBOL = "BTC/USDT"
MARKET = {
    "symbol": SYMBOL, "precision": {"price": 0.01, "amount": 0.00001},
    "limits": {"amount": {"min": 0.00001, "max": 9000.0}, "cost": {"min": 5.0}},
}
BOOK = BookSnapshot(SYMBOL, bids=((100.0, 5.0), (99.0, 5.0)), asks=((101.0, 1.0), (102.0, 50.0)))
T0 = 1_717_200_000_000  # 2024-06-01 00:00 UTC


class Clock:
    def __init__(self) -> None:
        self.now = T0 + 3_600_000

    def __call__(self) -> int:
        return self.now


def make_settings(tmp_path: Path, **extra: Any) -> Settings:
    return Settings(journal_path=tmp_path / "journal.sqlite", **extra)


async def until(predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := predicate()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)
    return result


class Harness:
    def __init__(self, desk: Desk, events: list[Event]) -> None:
        self.desk, self.events = desk, events

    def of(self, cls: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]


async def open_desk(settings: Settings, clock: Clock,
                    on_event: Callable[[Event], None] | None = None) -> Harness:
    events: list[Event] = []

    def publish(event: Event) -> None:
        events.append(event)
        if on_event is not None:
            on_event(event)

    desk = Desk(settings, publish, clock, timer_s=3600)
    await desk.start()
    desk.attach_markets({SYMBOL: MARKET})
    desk.on_book(SYMBOL, BOOK)
    return Harness(desk, events)


@pytest.fixture
async def desk(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await open_desk(make_settings(tmp_path), Clock())
    try:
        yield h
    finally:
        await h.desk.close()


def buy(qty: str, **kw: Any) -> PlaceOrder:
    return PlaceOrder(OrderRequest(SYMBOL, "buy", OrderType.MARKET, Decimal(qty), **kw))


async def test_fill_is_published_only_after_a_separate_reader_can_read_it(tmp_path: Path):
    path = tmp_path / "journal.sqlite"
    seen_in_journal: list[bool] = []

    def check(event: Event) -> None:
        if isinstance(event, OrderFilled):
            with JournalReader(path) as reader:
                seen_in_journal.append(event.fill.id in {f.id for f in reader.fills()})

    h = await open_desk(make_settings(tmp_path), Clock(), check)
    try:
        assert h.desk.handle(buy("1.5")) is None  # walks two ask levels: two fills
        await until(lambda: len(h.of(OrderFilled)) == 2, "two fills published")
        assert seen_in_journal == [True, True]
        account = h.desk.broker.account()
        with JournalReader(path) as reader:
            state = reader.load_state()
            commands = reader.db.execute("SELECT command FROM commands").fetchall()
        assert state.balance == account.balance  # the account row came in the same commit
        assert [p.quantity for p in state.positions] == [Decimal("1.5")]
        assert commands == [("PlaceOrder",)]
    finally:
        await h.desk.close()


async def test_denied_order_is_an_event_and_a_journal_row_with_the_reason(desk: Harness):
    too_big = buy("60")  # 60 x 100.5 far above max_position_quote 5000
    desk.desk.handle(too_big)
    denial = (await until(lambda: desk.of(OrderDenied), "a denial"))[0]
    assert denial.rule == "max_position_quote" and denial.reason.startswith("max_position_quote")
    await until(lambda: _rows(desk, "SELECT rule, reason FROM risk_events WHERE kind='denied'"),
                "the denial journaled")
    assert _rows(desk, "SELECT rule FROM risk_events WHERE kind='denied'") == [
        ("max_position_quote",)]


async def test_exchange_filter_rejection_is_a_denial_naming_the_filter(desk: Harness):
    desk.desk.handle(buy("0.000001"))
    denial = (await until(lambda: desk.of(OrderDenied), "a denial"))[0]
    assert denial.rule == "LOT_SIZE" and "0.000001" in denial.reason


async def test_kill_switch_cancels_flattens_and_halts(desk: Harness):
    d = desk.desk
    d.handle(buy("0.5"))
    limit = OrderRequest(SYMBOL, "buy", OrderType.LIMIT, Decimal("0.1"), price=Decimal("99.5"))
    d.handle(PlaceOrder(limit))
    assert d.broker.positions() and d.broker.working_orders()
    d.handle(KillSwitch("test over"))
    assert d.broker.positions() == () and d.broker.working_orders() == ()
    assert d.trading_state == TradingState.HALTED.value
    change = (await until(lambda: desk.of(TradingStateChanged), "state change"))[0]
    assert change.state == "halted" and "test over" in change.reason
    d.handle(buy("0.1"))  # nothing new passes
    denial = (await until(lambda: desk.of(OrderDenied), "a denial"))[0]
    assert denial.rule == "kill_switch"
    await until(lambda: len(_rows(desk, "SELECT id FROM equity")) >= 2, "account rows")
    state = load_state(d.settings.journal_file)
    assert state.positions == () and state.orders == ()
    assert state.day_state is not None and state.day_state.state is TradingState.HALTED
    assert state.day_state.kill_reason == "test over"
    d.handle(ResumeTrading())
    assert d.trading_state == TradingState.ACTIVE.value


async def test_close_position_and_cancel_order_commands(desk: Harness):
    d = desk.desk
    d.handle(buy("0.5"))
    limit = OrderRequest(SYMBOL, "buy", OrderType.LIMIT, Decimal("0.1"), price=Decimal("99.5"))
    d.handle(PlaceOrder(limit))
    (order,) = d.broker.working_orders()
    assert d.handle(CancelOrder(order.id)) is None and d.broker.working_orders() == ()
    assert d.handle(CancelOrder("nope")) == "no working order nope"
    assert d.handle(ClosePosition(SYMBOL)) is None and d.broker.positions() == ()
    assert d.handle(ClosePosition(SYMBOL)) == f"no open position on {SYMBOL}"


async def test_restart_restores_balance_positions_orders_and_the_days_loss(tmp_path: Path):
    clock = Clock()
    settings = make_settings(tmp_path)
    first = await open_desk(settings, clock)
    d = first.desk
    d.handle(buy("1.2"))
    clock.now += 1000
    d.on_book(SYMBOL, BookSnapshot(SYMBOL, bids=((95.0, 5.0),), asks=((96.0, 5.0),)))
    d.handle(PlaceOrder(OrderRequest(SYMBOL, "sell", OrderType.MARKET, Decimal("0.7"))))  # loss
    stop = OrderRequest(SYMBOL, "sell", OrderType.STOP_MARKET, Decimal("0.5"),
                        stop_price=Decimal("94"), reduce_only=True)
    d.handle(PlaceOrder(stop))
    before = d.broker.account()
    day_before = d.risk.day_state()
    assert before.realized_pnl_today < 0 and day_before.realized == before.realized_pnl_today
    await d.close()

    clock.now += 1000
    second = await open_desk(settings, clock)
    try:
        after = second.desk.broker.account()
        assert after.balance == before.balance
        assert after.realized_pnl_today == before.realized_pnl_today
        assert [(p.symbol, p.quantity, p.average_entry) for p in after.positions] == [
            (p.symbol, p.quantity, p.average_entry) for p in before.positions]
        assert [(o.id, o.request, o.status) for o in after.orders] == [
            (o.id, o.request, o.status) for o in before.orders]
        assert second.desk.risk.day_state().realized == day_before.realized
        assert second.desk.restored == (
            f"restored: balance={fmt_quote(before.balance, 'USDT')} positions=1 orders=1 "
            f"realized_today={fmt_quote(before.realized_pnl_today, 'USDT')}")
    finally:
        await second.desk.close()


async def test_full_disk_halts_trading_and_recovery_does_not_resume(tmp_path: Path):
    clock = Clock()
    h = await open_desk(make_settings(tmp_path), clock)
    d = h.desk
    try:
        d.handle(buy("0.1"))
        await until(lambda: h.of(OrderFilled), "a first fill")
        await asyncio.to_thread(d.writer.set_max_size, 1)  # no page more: as a full disk

        def halted() -> list[TradingStateChanged]:
            return [e for e in h.of(TradingStateChanged) if e.state == "halted"]

        for _ in range(200):  # trade until the journal needs a page it cannot have
            clock.now += 61_000  # (the orders-per-minute rule stays out of the way)
            d.on_book(SYMBOL, BOOK)  # fresh depth
            d.handle(buy("0.1"))
            d.handle(PlaceOrder(OrderRequest(SYMBOL, "sell", OrderType.MARKET, Decimal("0.1"))))
            await asyncio.sleep(0.005)
            if halted():
                break
        halt = await until(halted, "the halt")
        assert "journal" in halt[0].reason
        assert d.trading_state == "halted" and "journal" in (d.trading_reason or "")
        published = len(h.of(OrderFilled))
        before = d.broker.positions()
        d.handle(buy("0.1"))
        assert d.broker.positions() == before  # refused: nothing new passes
        assert d.risk.check(buy("0.1").request, _ctx(d)).rule == "kill_switch"
        await asyncio.to_thread(d.writer.set_max_size, None)
        await until(lambda: d.writer.healthy and d.writer.pending_retry == 0, "recovery")
        await until(lambda: len(h.of(OrderFilled)) > published, "held fills published")
        assert d.trading_state == "halted"  # the user resumes, not the disk
        fills = {e.fill.id for e in h.of(OrderFilled)}
        with JournalReader(d.settings.journal_file) as reader:
            assert fills <= {f.id for f in reader.fills()}  # nothing shown was lost
    finally:
        await d.close()


async def test_live_mode_sends_nothing_and_journals_signals_as_denied(tmp_path: Path):
    h = await open_desk(make_settings(tmp_path, mode="live"), Clock())
    d = h.desk
    try:
        signal = Signal("s", SYMBOL, "1m", T0, "entry", "buy", entry=100.5, stop=90.0)
        d.on_signal(SignalEmitted(T0, signal))
        d.handle(buy("0.1"))
        denial = (await until(lambda: h.of(OrderDenied), "a denial"))[0]
        assert denial.reason == LIVE_REFUSAL and d.broker.working_orders() == ()
        await until(lambda: _rows(h, "SELECT status, reason FROM signals"), "the signal row")
        assert _rows(h, "SELECT status, reason FROM signals") == [("denied", LIVE_REFUSAL)]
    finally:
        await d.close()


async def test_signals_entry_with_bracket_exit_and_outcomes_journaled(desk: Harness):
    d = desk.desk
    entry = Signal("s", SYMBOL, "1m", T0, "entry", "buy", entry=100.5, stop=90.0,
                   targets=(120.0,))
    d.on_signal(SignalEmitted(T0, entry))
    (pos,) = d.broker.positions()
    # 1% of 10000 over a 10.5 stop distance, floored to the step
    assert pos.strategy == "s" and pos.quantity == Decimal("9.52380")
    stop_loss, take_profit = sorted(d.broker.working_orders(), key=lambda o: o.request.type)
    no_stop = Signal("t", SYMBOL, "1m", T0, "entry", "buy", entry=100.5)
    d.on_signal(SignalEmitted(T0, no_stop))
    d.on_signal(SignalEmitted(T0, Signal("t", SYMBOL, "1m", T0, "exit", "sell")))
    d.on_signal(SignalEmitted(T0, Signal("s", SYMBOL, "1m", T0, "exit", "sell")))
    assert d.broker.positions() == ()
    await until(lambda: len(_rows(desk, "SELECT id FROM signals")) == 4, "four signal rows")
    rows = _rows(desk, "SELECT strategy, kind, status, reason FROM signals ORDER BY id")
    assert [r[:3] for r in rows] == [
        ("s", "entry", "submitted"), ("t", "entry", "denied"), ("t", "exit", "ignored"),
        ("s", "exit", "submitted")]
    assert rows[1][3].startswith("mandatory_stop")


async def test_second_entry_while_the_strategy_holds_a_position_is_ignored(desk: Harness):
    d = desk.desk
    entry = Signal("s", SYMBOL, "1m", T0, "entry", "buy", entry=100.5, stop=90.0,
                   targets=(120.0,))
    d.on_signal(SignalEmitted(T0, entry))
    d.on_signal(SignalEmitted(T0 + 60_000, entry))
    (pos,) = d.broker.positions()
    assert pos.quantity == Decimal("9.52380")  # not doubled: no pyramiding
    await until(lambda: len(_rows(desk, "SELECT id FROM signals")) == 2, "two signal rows")
    rows = _rows(desk, "SELECT status, reason FROM signals ORDER BY id")
    assert rows[0][0] == "submitted"
    assert rows[1] == ("ignored", f"s already holds 9.52380 {SYMBOL}")


async def test_trades_are_forwarded_once_by_id(desk: Harness):
    """A trade seen before (a reconnect or ccxt's cache repeats a batch) reaches the broker once.

    A trade through a limit fills the whole order, so a repeat can only show on an order placed
    after the first delivery: the repeated batch must leave it resting, a new trade fills it."""
    d = desk.desk
    limit = OrderRequest(SYMBOL, "buy", OrderType.LIMIT, Decimal("1"), price=Decimal("100"))
    through = Trade("t1", T0, 99.0, 0.5, "sell")
    d.handle(PlaceOrder(limit))
    d.on_trades(SYMBOL, [through])
    assert d.broker.positions()[0].quantity == Decimal("1")
    d.handle(PlaceOrder(limit))  # resting: the repeated trade would fill it
    d.on_trades(SYMBOL, [through, through])  # the same trade again (a reconnect): no fill
    assert d.broker.positions()[0].quantity == Decimal("1")
    assert len(d.broker.working_orders()) == 1
    d.on_trades(SYMBOL, [Trade("t2", T0 + 1, 99.0, 0.5, "sell")])  # a new trade does fill it
    assert d.broker.positions()[0].quantity == Decimal("2")
    await until(lambda: len(desk.of(OrderFilled)) == 2, "two fills")
    assert not d.broker.working_orders()


async def test_kill_switch_reason_survives_a_restart_through_the_journal(tmp_path: Path):
    clock = Clock()
    settings = make_settings(tmp_path)
    first = await open_desk(settings, clock)
    first.desk.handle(KillSwitch("going to lunch"))
    await first.desk.close()

    clock.now += 1000
    second = await open_desk(settings, clock)
    try:
        day = second.desk.risk.day_state()
        assert (day.kill_reason, day.loss_reason) == ("going to lunch", None)
        assert second.desk.trading_state == TradingState.HALTED.value
        assert second.desk.trading_reason == "kill_switch: going to lunch"  # as shown before
    finally:
        await second.desk.close()


def _ctx(d: Desk) -> RiskContext:
    return RiskContext.of(d.broker.account(), buy("0.1").request, Decimal("100.5"))


def _rows(h: Harness, sql: str) -> list[tuple[Any, ...]]:
    with JournalReader(h.desk.settings.journal_file) as reader:
        return reader.db.execute(sql).fetchall()


def _bracket_buy(qty: str) -> PlaceOrder:
    return buy(qty, bracket=Bracket(stop_loss=Decimal("95"), take_profit=Decimal("110")))


async def test_cancel_order_of_a_bracket_leg_keeps_the_other_only_when_asked(desk: Harness):
    d = desk.desk
    d.handle(_bracket_buy("0.5"))
    stop, target = d.broker.working_orders()
    assert d.handle(CancelOrder(stop.id, keep_other_leg=True)) is None
    assert [o.id for o in d.broker.working_orders()] == [target.id]  # the target stays
    assert d.broker.positions()[0].quantity == Decimal("0.5")
    assert d.handle(CancelOrder(target.id)) is None and d.broker.working_orders() == ()
    d.handle(_bracket_buy("0.1"))
    stop, target = d.broker.working_orders()
    assert d.handle(CancelOrder(target.id)) is None  # the default: both legs
    assert d.broker.working_orders() == ()


async def test_close_position_cancels_both_legs_of_its_bracket(desk: Harness):
    d = desk.desk
    d.handle(_bracket_buy("0.5"))
    assert len(d.broker.working_orders()) == 2
    assert d.handle(ClosePosition(SYMBOL)) is None
    assert d.broker.positions() == () and d.broker.working_orders() == ()
    await until(lambda: [e for e in desk.of(OrderUpdated)
                         if e.order.reason == "position closed"], "the legs cancelled")
    reasons = sorted(e.order.reason for e in desk.of(OrderUpdated)
                     if e.order.status is OrderStatus.CANCELED)
    assert reasons == ["position closed", "position closed"]


async def test_a_scaling_entry_places_its_legs_and_journals_the_merged_one(desk: Harness):
    d = desk.desk
    # 9.52380 (1 % of 10,000 over a 10.5 stop distance) in 950475 / 952 / 953 steps: target 2's
    # 0.00952 x 130 is below the 5 USDT minimum notional (merged into target 1); target 3 has
    # no level, so its 0.00953 rides to the stop
    entry = Signal("s", SYMBOL, "1m", T0, "entry", "buy", entry=100.5, stop=90.0,
                   targets=(120.0, 130.0),
                   scale_out=((120.0, 0.998), (130.0, 0.001), (None, 0.001)))
    d.on_signal(SignalEmitted(T0, entry))
    (pos,) = d.broker.positions()
    assert pos.quantity == Decimal("9.52380")
    legs = sorted((leg_of(o.request.client_id) or 0, o.request.type, o.request.quantity,
                   o.request.price or o.stop_price) for o in d.broker.working_orders())
    assert legs == [(0, OrderType.STOP_MARKET, Decimal("9.52380"), Decimal("90.00")),
                    (1, OrderType.LIMIT, Decimal("9.51427"), Decimal("120.00"))]
    await until(lambda: _rows(desk, "SELECT status, reason FROM signals"), "the signal row")
    assert _rows(desk, "SELECT status, reason FROM signals") == [(
        "submitted",
        "target 2 leg of 0.00952 is below the market's minimum: merged into target 1")]
    await until(lambda: len(_rows(desk, "SELECT id FROM orders WHERE client_id IS NOT NULL")),
                "the legs journaled")
    assert _rows(desk, "SELECT client_id, quantity FROM orders WHERE client_id IS NOT NULL") == [
        (f"{pos_entry_id(d)}:tp1", "9.51427")]


def pos_entry_id(d: Desk) -> str:

    (stop,) = [o for o in d.broker.working_orders() if o.request.type is OrderType.STOP_MARKET]
    assert stop.parent_id is not None
    return stop.parent_id
