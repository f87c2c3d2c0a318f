"""A scale-out bracket: the stop plus one reduce-only take-profit per leg; each target's fill
shrinks the stop to what is left of the position (amended, the reason says so)."""

from __future__ import annotations

from decimal import Decimal as D

from broker_helpers import SYMBOL, Clock, book, make_broker, trade

from tradeterm.core.events import OrderFilled, OrderUpdated, PositionClosed
from tradeterm.core.scale_out import leg_of, leg_weights
from tradeterm.core.trading import Bracket, Order, OrderRequest, OrderStatus, OrderType, TargetLeg

WEIGHTS = leg_weights((0.5, 0.25, 0.25))


def scaled(qty: str, targets: tuple[D | None, ...] = (D(105), D(106), D(107))) -> OrderRequest:
    legs = tuple(TargetLeg(p, w) for p, w in zip(targets, WEIGHTS, strict=True))
    return OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D(qty), price=D("100"),
                        bracket=Bracket(stop_loss=D("95"), take_profit=targets[0], legs=legs),
                        strategy="scaled")


def children(broker) -> list[tuple[int | None, OrderType, D, D | None]]:
    """(leg, type, quantity, price or trigger) of the working bracket children."""
    return [(leg_of(o.request.client_id), o.request.type, o.request.quantity,
             o.request.price or o.stop_price)
            for o in broker.working_orders() if o.parent_id is not None]


def test_three_targets_filled_one_by_one_then_the_stop_takes_the_rest_exactly() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 5.0)]))
    entry = broker.submit(scaled("1"))
    assert entry.status is OrderStatus.FILLED
    assert children(broker) == [
        (None, OrderType.STOP_MARKET, D(1), D(95)),
        (1, OrderType.LIMIT, D("0.500"), D(105)),
        (2, OrderType.LIMIT, D("0.250"), D(106)),
        (3, OrderType.LIMIT, D("0.250"), D(107)),
    ]
    kids = [o for o in broker.working_orders() if o.parent_id == entry.id]
    assert len({o.oco_group for o in kids}) == 1 and all(o.request.reduce_only for o in kids)
    stop_id = kids[0].id
    broker.drain_events()

    events = broker.on_trade(SYMBOL, trade(105.5, 1.0, "buy"))  # target 1 only
    assert [(f.price, f.quantity) for f in (e.fill for e in events
                                            if isinstance(e, OrderFilled))] == [(D(105), D("0.5"))]
    assert children(broker)[0] == (None, OrderType.STOP_MARKET, D("0.5"), D(95))
    (amended,) = [e.order for e in events if isinstance(e, OrderUpdated) and e.order.id == stop_id]
    assert amended.reason == "amended: target 1 filled 0.500, stop quantity 1 -> 0.500"
    assert [c[0] for c in children(broker)] == [None, 2, 3]

    broker.on_trade(SYMBOL, trade(106.5, 1.0, "buy"))  # target 2
    assert children(broker) == [(None, OrderType.STOP_MARKET, D("0.250"), D(95)),
                                (3, OrderType.LIMIT, D("0.250"), D(107))]

    events = broker.on_trade(SYMBOL, trade(94.0, 1.0, "sell"))  # the stop: sells at the bid 99
    assert children(broker) == [] and broker.positions() == ()
    (closed,) = [e.trade for e in events if isinstance(e, PositionClosed)]
    # gross 2.5 + 1.5 - 0.25; fees 0.1 + 0.02625 + 0.01325 + 0.02475
    assert closed.pnl == D("3.58575") and closed.quantity == D(1)
    assert broker.account().balance == D("10003.58575")


def test_an_entry_filled_in_parts_re_splits_the_legs_on_what_filled() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 0.4), (100.5, 5.0)]))
    broker.submit(scaled("1"))
    assert [c[2] for c in children(broker)] == [D("0.4"), D("0.200"), D("0.100"), D("0.100")]
    broker.on_trade(SYMBOL, trade(99.9, 1.0, "sell"))  # the resting 0.6 fills through
    assert [c[2] for c in children(broker)] == [D("1.0"), D("0.500"), D("0.250"), D("0.250")]


def test_legs_below_min_notional_are_merged_and_a_leg_without_a_target_rides_the_stop() -> None:
    broker = make_broker(Clock())  # min notional 5
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 5.0)]))
    # 0.06 in 0.030 / 0.015 / 0.015: 0.015 x 107 < 5 -> target 2 (0.030 x 106 < 5) -> target 1
    broker.submit(scaled("0.06"))
    assert children(broker) == [(None, OrderType.STOP_MARKET, D("0.06"), D(95)),
                                (1, OrderType.LIMIT, D("0.060"), D(105))]
    broker.cancel_all()
    broker.submit(OrderRequest(SYMBOL, "sell", OrderType.MARKET, D("0.06")))
    broker.submit(scaled("1", (D(105), None, D(107))))
    assert children(broker) == [(None, OrderType.STOP_MARKET, D(1), D(95)),
                                (1, OrderType.LIMIT, D("0.500"), D(105)),
                                (3, OrderType.LIMIT, D("0.250"), D(107))]
    broker.on_trade(SYMBOL, trade(107.5, 1.0, "buy"))  # targets 1 and 3; 0.25 rides
    assert children(broker) == [(None, OrderType.STOP_MARKET, D("0.250"), D(95))]
    assert broker.positions()[0].quantity == D("0.250")


def test_legs_are_checked_at_submission_like_any_bracket_price() -> None:
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 5.0)]))
    wrong_side = broker.submit(scaled("1", (D(105), D("99.5"), D(107))))
    assert wrong_side.reason == "BRACKET: target 2 99.5 on the wrong side of 100"
    off_tick = broker.submit(scaled("1", (D(105), D("106.005"), D(107))))
    assert off_tick.reason == ("PRICE_FILTER: target 2 106.005 not a positive multiple of tick "
                               "0.01")
    four = OrderRequest(SYMBOL, "buy", OrderType.LIMIT, D(1), price=D(100), bracket=Bracket(
        D(95), D(105), tuple(TargetLeg(D(105 + n), 250_000) for n in range(4))))
    assert broker.submit(four).reason == (
        "BRACKET: 4 take-profit legs; at most 3, each with a positive weight")
    assert all(o.status is OrderStatus.REJECTED for o in (wrong_side, off_tick))
    assert broker.working_orders() == () and broker.positions() == ()


def test_after_a_restore_a_targets_fill_still_shrinks_the_stop() -> None:
    """The legs are known by their orders alone (client id, OCO group): a restart that restores
    them from the journal keeps the rule."""
    clock = Clock()
    first = make_broker(clock)
    first.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 5.0)]))
    first.submit(scaled("1"))
    account = first.account()
    again = make_broker(clock)
    again.restore(account.balance, account.positions, account.orders, D(0))
    again.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 5.0)]))
    again.on_trade(SYMBOL, trade(106.5, 1.0, "buy"))  # targets 1 and 2
    assert children(again) == [(None, OrderType.STOP_MARKET, D("0.250"), D(95)),
                               (3, OrderType.LIMIT, D("0.250"), D(107))]


def _leg_fills(events: list, leg: int) -> D:
    return sum((e.fill.quantity for e in events if isinstance(e, OrderFilled)
                and leg_of(e.order.request.client_id) == leg), D(0))


def test_a_market_entry_walking_the_book_places_its_bracket_once_for_all_it_took() -> None:
    """The sequence a loaded CI run hit: target 1 below the bid (the market ran past the bar's
    close). Placed after the entry's first level, it sold into the bid at once and left; the
    entry's next level re-split the legs as if nothing had filled: a second target 1 for the
    whole new leg 1 and the stop back to all the entry took. Now the walk ends first."""
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(100.5, 5.0)], [(100.6, 0.4), (100.7, 5.0)]))
    entry = OrderRequest(SYMBOL, "buy", OrderType.MARKET, D(1), bracket=scaled(
        "1", (D("100.2"), D(106), D(107))).bracket, strategy="scaled")
    order = broker.submit(entry)
    events = broker.drain_events()
    assert order.status is OrderStatus.FILLED and order.filled_quantity == D(1)
    placed: dict[str, Order] = {}  # each child as it first showed up
    for e in events:
        if isinstance(e, OrderUpdated | OrderFilled) and e.order.parent_id == order.id:
            placed.setdefault(e.order.id, e.order)
    assert [(leg_of(o.request.client_id), o.request.quantity) for o in placed.values()] == [
        (None, D(1)), (1, D("0.500")), (2, D("0.250")), (3, D("0.250"))]
    assert _leg_fills(events, 1) == D("0.500")
    (position,) = broker.positions()
    assert position.quantity == D("0.500")
    assert children(broker) == [(None, OrderType.STOP_MARKET, D("0.500"), D(95)),
                                (2, OrderType.LIMIT, D("0.250"), D(106)),
                                (3, OrderType.LIMIT, D("0.250"), D(107))]


def test_a_target_filled_before_the_entry_fills_again_counts_in_the_re_split() -> None:
    """A resting entry fills in parts and target 1 fills in between: the next re-split keeps
    what target 1 already took (a new order for the rest of the leg only) and the stop covers
    the position, not all that the entry filled."""
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 0.4), (100.5, 5.0)]))
    entry = broker.submit(scaled("1"))  # 0.4 at once, 0.6 rests at 100
    broker.drain_events()
    events = broker.on_trade(SYMBOL, trade(105.5, 1.0, "buy"))  # target 1's 0.200
    assert _leg_fills(events, 1) == D("0.200")
    assert children(broker) == [(None, OrderType.STOP_MARKET, D("0.200"), D(95)),
                                (2, OrderType.LIMIT, D("0.100"), D(106)),
                                (3, OrderType.LIMIT, D("0.100"), D(107))]
    broker.on_trade(SYMBOL, trade(99.9, 1.0, "sell"))  # the entry's other 0.6 fills through
    (position,) = broker.positions()
    assert position.quantity == D("0.800")
    assert children(broker) == [(None, OrderType.STOP_MARKET, D("0.800"), D(95)),
                                (2, OrderType.LIMIT, D("0.250"), D(106)),
                                (3, OrderType.LIMIT, D("0.250"), D(107)),
                                (1, OrderType.LIMIT, D("0.300"), D(105))]
    events = broker.on_trade(SYMBOL, trade(105.5, 1.0, "buy"))  # the rest of target 1
    assert _leg_fills(events, 1) == D("0.300")
    (position,) = broker.positions()
    assert position.quantity == D("0.500") and entry.id == position.entry_order_id
    assert children(broker) == [(None, OrderType.STOP_MARKET, D("0.500"), D(95)),
                                (2, OrderType.LIMIT, D("0.250"), D(106)),
                                (3, OrderType.LIMIT, D("0.250"), D(107))]


def test_a_leg_that_filled_past_its_new_size_takes_the_excess_off_the_last_legs() -> None:
    """A small first fill merges all legs into target 1 (min notional 5); target 1 fills most
    of it; the entry's rest then splits 0.050 / 0.050 / 0: target 1 already took 0.070, so it
    is done and target 2 only gets what is left: the legs still add up to the position."""
    broker = make_broker(Clock())
    broker.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 0.08), (100.5, 5.0)]))
    broker.submit(scaled("0.1"))  # 0.08 at once, 0.02 rests at 100
    assert [c[:3] for c in children(broker)] == [(None, OrderType.STOP_MARKET, D("0.08")),
                                                 (1, OrderType.LIMIT, D("0.080"))]
    broker.on_trade(SYMBOL, trade(105.0, 0.07, "buy"))  # target 1 fills 0.070 of its 0.080
    broker.on_trade(SYMBOL, trade(99.9, 1.0, "sell"))  # the entry's other 0.02
    (position,) = broker.positions()
    assert position.quantity == D("0.030")
    assert children(broker) == [(None, OrderType.STOP_MARKET, D("0.030"), D(95)),
                                (2, OrderType.LIMIT, D("0.030"), D(106))]


def test_after_a_restore_a_leg_partly_filled_still_counts_in_the_re_split() -> None:
    clock = Clock()
    first = make_broker(clock)
    first.on_book(SYMBOL, book([(99.0, 5.0)], [(100.0, 0.4), (100.5, 5.0)]))
    first.submit(scaled("1"))  # 0.4 at once, 0.6 rests at 100
    first.on_trade(SYMBOL, trade(105.0, 0.15, "buy"))  # target 1 fills 0.15 of its 0.200
    account = first.account()
    again = make_broker(clock)
    again.restore(account.balance, account.positions, account.orders, D(0))
    again.on_book(SYMBOL, book([(99.0, 5.0)], [(100.5, 5.0)]))
    again.on_trade(SYMBOL, trade(99.9, 1.0, "sell"))  # the entry's other 0.6
    assert again.positions()[0].quantity == D("0.85")
    assert children(again) == [(None, OrderType.STOP_MARKET, D("0.85"), D(95)),
                               (1, OrderType.LIMIT, D("0.500"), D(105)),
                               (2, OrderType.LIMIT, D("0.250"), D(106)),
                               (3, OrderType.LIMIT, D("0.250"), D(107))]
