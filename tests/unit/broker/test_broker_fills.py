"""Fill model specifications: book walks, queue estimate, IOC, post-only, latency."""

from __future__ import annotations

from decimal import Decimal as D

from broker_helpers import SYMBOL, Clock, book, make_broker, trade

from tradeterm.core.events import OrderFilled, OrderUpdated
from tradeterm.core.trading import Liquidity, OrderRequest, OrderStatus, OrderType, TimeInForce


def fills_of(events):
    return [e.fill for e in events if isinstance(e, OrderFilled)]


def test_market_buy_when_book_thin_then_walks_three_levels_and_partially_fills() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 1.0), (100.5, 2.0), (101.0, 1.5)]))

    order = broker.submit(OrderRequest(SYMBOL, "buy", OrderType.MARKET, D("5")))
    fills = fills_of(broker.drain_events())

    assert [(f.price, f.quantity) for f in fills] == [
        (D("100.00"), D("1.000")), (D("100.50"), D("2.000")), (D("101.00"), D("1.500"))]
    assert [f.fee for f in fills] == [D("0.1"), D("0.201"), D("0.1515")]  # 0.1 % taker
    assert all(f.liquidity is Liquidity.TAKER for f in fills)
    assert order.status is OrderStatus.EXPIRED  # the 0.5 the book did not have is dropped
    assert order.filled_quantity == D("4.5")
    assert order.fees == D("0.4525")
    assert order.average_price == D("452.5") / D("4.5")  # 100.5555...
    assert order.reason == "book depth exhausted: 0.5 of 5 unfilled"
    assert broker.account().balance == D("10000") - D("0.4525")
    assert broker.positions()[0].quantity == D("4.5")


def test_second_market_order_on_same_snapshot_then_does_not_reuse_consumed_depth() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 1.0), (101.0, 5.0)]))
    broker.submit(OrderRequest(SYMBOL, "buy", OrderType.MARKET, D("1")))
    broker.submit(OrderRequest(SYMBOL, "buy", OrderType.MARKET, D("1")))
    fills = fills_of(broker.drain_events())
    assert [f.price for f in fills] == [D("100.00"), D("101.00")]


def test_resting_limit_when_trades_at_price_then_fills_only_after_queue_ahead() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 3.0), (98.0, 1.0)], [(100.0, 1.0)]))
    order = broker.submit(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D("1"), price=D("99")))
    assert order.status is OrderStatus.OPEN  # does not cross: rests behind 3.0 at 99

    assert fills_of(broker.on_trade(SYMBOL, trade(99.0, 2.0, "sell"))) == []  # queue 3 -> 1
    assert fills_of(broker.on_trade(SYMBOL, trade(99.0, 5.0, "buy"))) == []  # buyer: not our queue
    fills = fills_of(broker.on_trade(SYMBOL, trade(99.0, 1.5, "sell")))  # 1 of queue, 0.5 to us
    assert [(f.price, f.quantity, f.liquidity) for f in fills] == [
        (D("99"), D("0.5"), Liquidity.MAKER)]
    assert fills[0].fee == D("99") * D("0.5") * D("0.0005")

    fills = fills_of(broker.on_trade(SYMBOL, trade(98.99, 0.001, "sell")))  # through the price
    assert [(f.price, f.quantity) for f in fills] == [(D("99"), D("0.5"))]
    assert broker.working_orders() == ()


def test_resting_limit_when_trade_prints_through_price_then_fills_at_once() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 50.0)], [(100.0, 1.0)]))
    broker.submit(OrderRequest(SYMBOL, "sell", OrderType.LIMIT, D("2"), price=D("100.5")))
    fills = fills_of(broker.on_trade(SYMBOL, trade(100.51, 0.01, "buy")))
    assert [(f.price, f.quantity, f.liquidity) for f in fills] == [
        (D("100.5"), D("2"), Liquidity.MAKER)]


def test_crossing_limit_then_takes_up_to_its_price_and_rests_the_rest() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 1.0)], [(100.0, 1.0), (100.5, 1.0), (101.0, 9.0)]))
    order = broker.submit(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D("3"), price=D("100.5")))
    fills = fills_of(broker.drain_events())
    assert [(f.price, f.liquidity) for f in fills] == [
        (D("100.00"), Liquidity.TAKER), (D("100.50"), Liquidity.TAKER)]
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert broker.working_orders()[0].remaining == D("1")


def test_ioc_limit_then_remainder_expires() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 1.0)], [(100.0, 1.0), (101.0, 1.0)]))
    order = broker.submit(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D("3"), price=D("100.5"),
                                       time_in_force=TimeInForce.IOC))
    assert order.status is OrderStatus.EXPIRED
    assert order.filled_quantity == D("1")
    assert order.reason == "IOC remainder: 2.0 of 3 unfilled"
    assert broker.working_orders() == ()


def test_post_only_when_it_would_cross_then_rejected_naming_price_and_best() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 1.0)], [(100.0, 1.0)]))
    order = broker.submit(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D("1"), price=D("100"),
                                       time_in_force=TimeInForce.POST_ONLY))
    assert order.status is OrderStatus.REJECTED
    assert order.reason == "POST_ONLY: price 100 would cross best ask 100.0"
    resting = broker.submit(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D("1"),
                                         price=D("99.99"), time_in_force=TimeInForce.POST_ONLY))
    assert resting.status is OrderStatus.OPEN


def test_latency_holds_order_pending_then_fills_against_book_at_arrival() -> None:
    clock = Clock()
    broker = make_broker(clock, latency_ms=100)
    t0 = clock.now
    broker.on_book(SYMBOL, book([(99.0, 1.0)], [(100.0, 1.0)]))
    order = broker.submit(OrderRequest(SYMBOL, "buy", OrderType.MARKET, D("1")))
    assert order.status is OrderStatus.PENDING

    clock.now = t0 + 50
    assert fills_of(broker.on_book(SYMBOL, book([(100.0, 1.0)], [(101.0, 1.0)]))) == []
    assert broker.working_orders()[0].status is OrderStatus.PENDING
    assert fills_of(broker.on_time(t0 + 99)) == []

    clock.now = t0 + 150  # this book came after the arrival: the order met the t0+50 book
    events = broker.on_book(SYMBOL, book([(110.0, 1.0)], [(111.0, 1.0)]))
    fills = fills_of(events)
    assert [(f.price, f.timestamp) for f in fills] == [(D("101.00"), t0 + 100)]
    final = [e.order for e in events if isinstance(e, OrderFilled)][-1]
    assert final.status is OrderStatus.FILLED


def test_latency_when_time_passes_then_on_time_releases_order() -> None:
    clock = Clock()
    broker = make_broker(clock, latency_ms=250)
    broker.on_book(SYMBOL, book([(99.0, 1.0)], [(100.0, 1.0)]))
    broker.submit(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D("1"), price=D("99")))
    assert broker.drain_events()[0].order.status is OrderStatus.PENDING
    states = [e.order.status for e in broker.on_time(clock.now + 250)
              if isinstance(e, OrderUpdated)]
    assert states == [OrderStatus.OPEN]


def test_cancel_all_then_cancels_every_working_order() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 1.0)], [(100.0, 1.0)]))
    for price in ("98", "97"):
        broker.submit(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D("1"), price=D(price)))
    cancelled = broker.cancel_all(SYMBOL)
    assert [o.status for o in cancelled] == [OrderStatus.CANCELED] * 2
    assert broker.working_orders() == ()
