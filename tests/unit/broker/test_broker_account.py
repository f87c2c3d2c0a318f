"""Account specifications: shorts, flips, daily reset, MAE/MFE, restore, exactness."""

from __future__ import annotations

import random
from collections import deque
from decimal import Decimal as D
from decimal import Inexact, localcontext

from broker_helpers import SYMBOL, Clock, book, make_broker, trade

from tradeterm.core.events import OrderFilled, PositionClosed
from tradeterm.core.trading import OrderRequest, OrderType

DAY = 86_400_000


def market(broker, side: str, qty: str):
    return broker.submit(OrderRequest(SYMBOL, side, OrderType.MARKET, D(qty)))


def test_short_open_and_close_then_pnl_exact() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(100.0, 5.0)], [(100.5, 5.0)]))
    market(broker, "sell", "2")  # short 2 @ 100, fee 0.2
    assert broker.positions()[0].quantity == D("-2")
    broker.on_book(SYMBOL, book([(89.5, 5.0)], [(90.0, 5.0)]))
    assert broker.account().unrealized_pnl == D("20.5")  # (100 - 89.75) * 2 at the mid
    market(broker, "buy", "2")  # cover @ 90, fee 0.18
    (closed,) = [e.trade for e in broker.drain_events() if isinstance(e, PositionClosed)]
    assert (closed.side, closed.quantity, closed.pnl, closed.fees) == (
        "sell", D("2"), D("19.62"), D("0.38"))
    snap = broker.account()
    assert snap.balance == D("10019.62") == snap.equity
    assert snap.realized_pnl_today == D("19.62")
    assert snap.positions == ()


def test_fill_through_flat_then_closes_and_opens_other_side() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(100.0, 5.0)], [(100.0, 5.0)]))
    market(broker, "buy", "1")
    broker.on_book(SYMBOL, book([(110.0, 5.0)], [(110.5, 5.0)]))
    market(broker, "sell", "3")  # closes 1 (+10), opens short 2 @ 110; fee 0.33 split 0.11/0.22
    (closed,) = [e.trade for e in broker.drain_events() if isinstance(e, PositionClosed)]
    assert closed.pnl == D("10") - D("0.1") - D("0.11")
    (pos,) = broker.positions()
    assert (pos.quantity, pos.average_entry, pos.fees) == (D("-2"), D("110"), D("0.22"))
    assert broker.account().balance == D("10000") + D("10") - D("0.1") - D("0.33")


def test_realized_today_when_utc_midnight_passes_then_resets() -> None:
    clock = Clock(20_000 * DAY - 1_000)  # one second before 00:00 UTC
    broker = make_broker(clock)
    broker.on_book(SYMBOL, book([(100.0, 5.0)], [(100.0, 5.0)]))
    market(broker, "buy", "1")
    broker.on_book(SYMBOL, book([(90.0, 5.0)], [(90.0, 5.0)]))
    market(broker, "sell", "1")
    assert broker.account().realized_pnl_today == D("-10.19")
    clock.now = 20_000 * DAY
    broker.on_time(clock.now)
    assert broker.account().realized_pnl_today == D("0")
    assert broker.account().balance == D("9989.81")


def test_marks_then_track_mae_and_mfe_of_open_position() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(100.0, 5.0)], [(100.0, 5.0)]))
    market(broker, "buy", "2")
    for bid, ask in ((96.0, 96.0), (104.0, 105.0), (100.0, 100.0)):
        broker.on_book(SYMBOL, book([(bid, 5.0)], [(ask, 5.0)]))
    (pos,) = broker.positions()
    assert (pos.max_adverse, pos.max_favorable) == (D("-8"), D("9"))


def test_restore_then_positions_orders_balance_and_daily_loss_come_back() -> None:
    clock = Clock()
    broker = make_broker(clock)
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 5.0)]))
    market(broker, "buy", "1")
    resting = broker.submit(OrderRequest(SYMBOL, "sell", OrderType.LIMIT, D("1"), price=D("110")))
    before = broker.account()

    again = make_broker(clock)
    again.restore(before.balance, before.positions, before.orders, before.realized_pnl_today)
    after = again.account()
    assert (after.balance, after.realized_pnl_today) == (before.balance, before.realized_pnl_today)
    assert after.positions == before.positions
    assert [o.id for o in after.orders] == [resting.id]
    again.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 5.0)]))
    fills = [e.fill for e in again.on_trade(SYMBOL, trade(110.5, 1.0, "buy"))
             if isinstance(e, OrderFilled)]
    assert [(f.order_id, f.price) for f in fills] == [(resting.id, D("110"))]
    assert again.account().balance == before.balance + D("10") - D("0.055")


def _fifo_realized(fills) -> tuple[D, D]:
    """Independent FIFO over the fill list: (realised gross PnL, net position)."""
    lots: deque[list[D]] = deque()
    realized = D(0)
    for f in fills:
        signed = f.quantity if f.side == "buy" else -f.quantity
        while signed and lots and (lots[0][0] > 0) != (signed > 0):
            take = min(abs(signed), abs(lots[0][0]))
            direction = 1 if lots[0][0] > 0 else -1
            realized += (f.price - lots[0][1]) * take * direction
            lots[0][0] -= take * direction
            signed += take * direction
            if lots[0][0] == 0:
                lots.popleft()
        if signed:
            lots.append([signed, f.price])
    return realized, sum((lot[0] for lot in lots), D(0))


def test_thousands_of_random_fills_then_balance_and_pnl_exact_to_the_last_digit() -> None:
    rng = random.Random(20240604)
    clock = Clock()
    broker = make_broker(clock, taker="0.00075", maker="0.0002", balance="100000000")
    fills = []
    with localcontext() as ctx:
        ctx.traps[Inexact] = True  # any rounding in the money path raises
        for _ in range(3000):
            clock.now += rng.randint(1, 5_000)
            mid = rng.randint(5_000, 15_000) / 100
            bids = [(round(mid - 0.01 * (i + 1), 2), rng.randint(1, 3000) / 1000) for i in range(5)]
            asks = [(round(mid + 0.01 * (i + 1), 2), rng.randint(1, 3000) / 1000) for i in range(5)]
            events = broker.on_book(SYMBOL, book(bids, asks))
            roll = rng.random()
            side = rng.choice(("buy", "sell"))
            qty = D(rng.randint(60, 4000)) / 1000
            if roll < 0.5:
                broker.submit(OrderRequest(SYMBOL, side, OrderType.MARKET, qty))
            elif roll < 0.8:
                price = D(str(round(mid + rng.randint(-5, 5) / 100, 2)))
                broker.submit(OrderRequest(SYMBOL, side, OrderType.LIMIT, qty, price=price))
            else:
                events += broker.on_trade(SYMBOL, trade(mid + rng.randint(-8, 8) / 100,
                                                        rng.randint(1, 3000) / 1000,
                                                        rng.choice(("buy", "sell"))))
            events += broker.drain_events()
            fills += [e.fill for e in events if isinstance(e, OrderFilled)]
            snap = broker.account()
        assert len(fills) > 2000
        realized, net = _fifo_realized(fills)
        fees = sum((f.fee for f in fills), D(0))
        assert all(f.fee == f.price * f.quantity * (D("0.00075") if f.liquidity == "taker"
                                                    else D("0.0002")) for f in fills)
        assert snap.balance == D("100000000") + realized - fees
        assert sum((p.quantity for p in snap.positions), D(0)) == net

        broker.cancel_all()
        position = broker.positions()[0].quantity if broker.positions() else D(0)
        broker.on_book(SYMBOL, book([(100.0, 1000.0)], [(100.0, 1000.0)]))
        while position:  # flatten in clips the LOT_SIZE maximum allows
            clip = min(abs(position), D(100))
            market(broker, "sell" if position > 0 else "buy", str(clip))
            fills += [e.fill for e in broker.drain_events() if isinstance(e, OrderFilled)]
            position -= clip if position > 0 else -clip
        assert broker.positions() == ()
        cash = sum(((f.price * f.quantity) * (1 if f.side == "sell" else -1) for f in fills), D(0))
        all_fees = sum((f.fee for f in fills), D(0))
        assert broker.account().balance == D("100000000") + cash - all_fees
