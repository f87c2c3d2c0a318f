"""Order type specifications: stops, trailing stops, brackets (OCO), reduce-only, filters."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from broker_helpers import RULES, SYMBOL, Clock, book, make_broker, trade

from tradeterm.broker.rules import MarketRules, filter_name
from tradeterm.core.events import OrderFilled, PositionClosed
from tradeterm.core.trading import Bracket, OrderRequest, OrderStatus, OrderType

DEEP = book([(99.0, 50.0), (98.0, 50.0)], [(100.0, 50.0), (101.0, 50.0)])


def fills_of(events):
    return [e.fill for e in events if isinstance(e, OrderFilled)]


def long_one(broker) -> None:
    broker.on_book(SYMBOL, DEEP)
    broker.submit(OrderRequest(SYMBOL, "buy", OrderType.MARKET, D("1")))
    broker.drain_events()


def test_sell_stop_when_last_trade_reaches_stop_then_sells_at_the_book() -> None:
    broker = make_broker(Clock())
    long_one(broker)
    stop = broker.submit(OrderRequest(SYMBOL, "sell", OrderType.STOP_MARKET, D("1"),
                                      stop_price=D("95"), reduce_only=True))
    assert stop.status is OrderStatus.OPEN
    assert fills_of(broker.on_trade(SYMBOL, trade(95.01, 1.0, "sell"))) == []
    broker.on_book(SYMBOL, book([(94.5, 0.4), (94.0, 5.0)], [(95.5, 5.0)]))
    fills = fills_of(broker.on_trade(SYMBOL, trade(95.0, 1.0, "sell")))
    assert [(f.price, f.quantity) for f in fills] == [
        (D("94.50"), D("0.4")), (D("94.00"), D("0.6"))]
    assert broker.positions() == ()


def test_buy_stop_limit_when_triggered_then_rests_as_limit() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(104.0, 5.0)], [(106.0, 5.0)]))
    broker.submit(OrderRequest(SYMBOL, "buy", OrderType.STOP_LIMIT, D("1"), price=D("105"),
                               stop_price=D("104.5")))
    assert fills_of(broker.on_trade(SYMBOL, trade(104.49, 1.0, "buy"))) == []
    assert fills_of(broker.on_trade(SYMBOL, trade(104.5, 1.0, "buy"))) == []  # ask 106 > 105
    (order,) = broker.working_orders()
    assert order.reason == "triggered at 104.5"
    fills = fills_of(broker.on_trade(SYMBOL, trade(104.9, 1.0, "sell")))  # through 105
    assert [(f.price, f.quantity) for f in fills] == [(D("105"), D("1"))]


def test_trailing_stop_then_follows_favourable_prices_and_never_moves_back() -> None:
    broker = make_broker(Clock())
    long_one(broker)
    broker.on_trade(SYMBOL, trade(100.0, 1.0, "buy"))
    order = broker.submit(OrderRequest(SYMBOL, "sell", OrderType.TRAILING_STOP, D("1"),
                                       trail=D("2"), reduce_only=True))
    assert order.stop_price == D("98.00")  # last trade 100 - trail 2
    broker.on_trade(SYMBOL, trade(101.0, 1.0, "buy"))
    assert broker.working_orders()[0].stop_price == D("99.00")
    broker.on_trade(SYMBOL, trade(103.0, 1.0, "buy"))
    assert broker.working_orders()[0].stop_price == D("101.00")
    broker.on_trade(SYMBOL, trade(102.0, 1.0, "sell"))  # against us: the trigger stays
    assert broker.working_orders()[0].stop_price == D("101.00")
    broker.on_book(SYMBOL, book([(100.9, 5.0)], [(101.2, 5.0)]))
    fills = fills_of(broker.on_trade(SYMBOL, trade(101.0, 1.0, "sell")))
    assert [(f.price, f.quantity) for f in fills] == [(D("100.90"), D("1"))]
    assert broker.working_orders() == ()


def test_bracket_when_take_profit_fills_then_stop_is_cancelled_and_trade_has_r() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 5.0)]))
    entry = broker.submit(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D("1"), price=D("100"),
                                       bracket=Bracket(stop_loss=D("95"), take_profit=D("105"))))
    assert entry.status is OrderStatus.FILLED
    stop, target = broker.working_orders()
    assert (stop.request.type, stop.stop_price, stop.request.quantity) == (
        OrderType.STOP_MARKET, D("95"), D("1"))
    assert (target.request.type, target.request.price) == (OrderType.LIMIT, D("105"))
    assert stop.request.reduce_only and target.request.reduce_only
    assert stop.oco_group == target.oco_group is not None
    assert stop.parent_id == target.parent_id == entry.id
    broker.drain_events()

    events = broker.on_trade(SYMBOL, trade(105.5, 1.0, "buy"))
    assert [(f.price, f.quantity) for f in fills_of(events)] == [(D("105"), D("1"))]
    assert broker.working_orders() == ()
    cancelled = [e.order for e in events if getattr(e, "order", None) is not None
                 and e.order.id == stop.id]
    assert cancelled[-1].status is OrderStatus.CANCELED
    assert cancelled[-1].reason == f"OCO: {target.id} filled"
    (closed,) = [e.trade for e in events if isinstance(e, PositionClosed)]
    # +5 gross; fees 0.1 taker in, 105 * 0.0005 = 0.0525 maker out; risk |100 - 95| * 1 = 5
    assert closed.pnl == D("4.8475")
    assert closed.r_multiple == D("0.9695")
    assert broker.account().balance == D("10004.8475")


def test_bracket_when_entry_partially_fills_then_children_sized_to_filled_quantity() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 0.4), (100.5, 5.0)]))
    broker.submit(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D("1"), price=D("100"),
                               bracket=Bracket(stop_loss=D("95"), take_profit=D("105"))))
    children = [o for o in broker.working_orders() if o.parent_id is not None]
    assert [o.request.quantity for o in children] == [D("0.4"), D("0.4")]
    broker.on_trade(SYMBOL, trade(99.9, 1.0, "sell"))  # the resting 0.6 fills through
    children = [o for o in broker.working_orders() if o.parent_id is not None]
    assert [o.request.quantity for o in children] == [D("1.0"), D("1.0")]


def test_reduce_only_when_larger_than_position_then_clipped_and_never_flips() -> None:
    broker = make_broker(Clock())
    long_one(broker)
    order = broker.submit(OrderRequest(SYMBOL, "sell", OrderType.MARKET, D("3"),
                                       reduce_only=True))
    assert order.filled_quantity == D("1")
    assert order.status is OrderStatus.EXPIRED
    assert broker.positions() == ()
    again = broker.submit(OrderRequest(SYMBOL, "sell", OrderType.MARKET, D("1"),
                                       reduce_only=True))
    assert again.status is OrderStatus.REJECTED
    assert again.reason == "REDUCE_ONLY: no BTC/USDT position to reduce"


def test_reduce_only_in_the_direction_of_the_position_then_rejected() -> None:
    broker = make_broker(Clock())
    long_one(broker)
    order = broker.submit(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D("1"), price=D("90"),
                                       reduce_only=True))
    assert order.status is OrderStatus.REJECTED
    assert order.reason == "REDUCE_ONLY: a buy would increase the long position 1"


@pytest.mark.parametrize(
    ("quantity", "price", "reason"),
    [
        ("1", "100.005", "PRICE_FILTER: price 100.005 not a multiple of tick 0.01"),
        ("0.0015", "100", "LOT_SIZE: quantity 0.0015 not a multiple of step 0.001"),
        ("0.0001", "100", "LOT_SIZE: quantity 0.0001 below minimum 0.001"),
        ("200", "100", "LOT_SIZE: quantity 200 above maximum 100"),
        ("0.01", "100", "MIN_NOTIONAL: notional 1.00 below minimum 5.00"),
    ],
)
def test_filter_violation_then_rejected_naming_filter_and_value(quantity, price, reason) -> None:
    broker = make_broker(Clock())
    order = broker.submit(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D(quantity),
                                       price=D(price)))
    assert order.status is OrderStatus.REJECTED
    assert order.reason == reason
    assert filter_name(reason) == reason.split(":")[0]


def test_market_order_notional_then_checked_against_the_mid() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(101.0, 5.0)]))
    order = broker.submit(OrderRequest(SYMBOL, "buy", OrderType.MARKET, D("0.04")))
    assert order.reason == "MIN_NOTIONAL: notional 4.00 below minimum 5.00"


def test_max_notional_and_margin_then_rejected() -> None:
    rules = MarketRules(SYMBOL, D("0.01"), D("0.001"), max_notional=D("1000"))
    assert rules.check(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D("11"), price=D("100"))) == (
        "MAX_NOTIONAL: notional 1100.00 above maximum 1000.00")
    broker = make_broker(Clock(), balance="500")
    order = broker.submit(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D("6"), price=D("100")))
    assert order.reason == "MARGIN: position notional 600.00 above equity 500.00 (leverage 1)"


def test_rules_from_ccxt_market_then_reads_tick_step_and_limits() -> None:
    market = {"symbol": SYMBOL, "precision": {"price": 0.01, "amount": 0.001},
              "limits": {"amount": {"min": 0.001, "max": 100.0},
                         "cost": {"min": 5.0, "max": None}}}
    rules = MarketRules.from_ccxt(market)
    assert rules == RULES
    assert rules.tick == D("0.01") and rules.max_notional is None


def test_cancel_one_bracket_child_then_sibling_cancelled_too() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 5.0)]))
    broker.submit(OrderRequest(SYMBOL, "buy", OrderType.MARKET, D("1"),
                               bracket=Bracket(stop_loss=D("95"), take_profit=D("105"))))
    stop, _ = broker.working_orders()
    broker.cancel(stop.id)
    assert broker.working_orders() == ()


def test_manual_close_when_bracket_left_working_then_children_cancelled_with_the_position() -> None:
    """A market close (the `c` key, flatten) must not leave the old stop and target working:
    they would close the next position in the symbol."""
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 5.0)]))
    broker.submit(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D("1"), price=D("100"),
                               bracket=Bracket(stop_loss=D("95"), take_profit=D("105"))))
    assert len(broker.working_orders()) == 2
    broker.drain_events()

    broker.submit(OrderRequest(SYMBOL, "sell", OrderType.MARKET, D("1"), reduce_only=True))
    events = broker.drain_events()
    assert broker.working_orders() == ()
    cancelled = [e.order for e in events if getattr(e, "order", None) is not None
                 and e.order.status is OrderStatus.CANCELED]
    assert sorted(o.reason for o in cancelled) == ["position closed", "position closed"]

    # a new long in the same symbol is not touched by the old stop's price
    broker.submit(OrderRequest(SYMBOL, "buy", OrderType.MARKET, D("1")))
    broker.on_trade(SYMBOL, trade(94.0, 1.0, "sell"))
    assert broker.account().positions[0].quantity == D("1")


def test_min_notional_message_shows_the_notional_at_the_quote_decimals() -> None:
    # measured: "MIN_NOTIONAL: notional 3.24988735... below minimum 5" with every digit
    rules = MarketRules(SYMBOL, D("0.01"), D("0.00001"), min_notional=D("5"))
    request = OrderRequest(SYMBOL, "buy", OrderType.MARKET, D("0.00005"))
    reason = rules.check(request, reference_price=D("64994.77005769996020692399522"))
    assert reason == "MIN_NOTIONAL: notional 3.25 below minimum 5.00"
    assert filter_name(reason) == "MIN_NOTIONAL"  # callers parse the prefix


def test_cancel_one_bracket_leg_keeping_the_other_then_the_other_still_protects() -> None:
    """``x`` on the stop, answered "keep the target" (and the other way round): only the chosen
    leg goes; the other keeps working and still closes the position."""
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 5.0)]))
    broker.submit(OrderRequest(SYMBOL, "buy", OrderType.MARKET, D("1"),
                               bracket=Bracket(stop_loss=D("95"), take_profit=D("105"))))
    stop, target = broker.working_orders()
    assert broker.siblings(stop.id) == (target,)
    broker.cancel(target.id, siblings=False)
    (left,) = broker.working_orders()
    assert left.id == stop.id and left.request.type is OrderType.STOP_MARKET
    assert broker.siblings(stop.id) == ()
    broker.drain_events()
    broker.on_book(SYMBOL, book([(94.5, 5.0)], [(95.5, 5.0)]))
    fills = fills_of(broker.on_trade(SYMBOL, trade(95.0, 1.0, "sell")))
    assert [f.order_id for f in fills] == [stop.id] and broker.positions() == ()


def test_cancel_stop_leg_keeping_target_then_target_works_and_position_has_no_stop() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 5.0)]))
    broker.submit(OrderRequest(SYMBOL, "buy", OrderType.MARKET, D("1"),
                               bracket=Bracket(stop_loss=D("95"), take_profit=D("105"))))
    stop, target = broker.working_orders()
    broker.cancel(stop.id, siblings=False)
    assert [o.id for o in broker.working_orders()] == [target.id]
    assert broker.positions()[0].quantity == D("1")
