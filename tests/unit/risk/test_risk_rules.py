"""Each risk rule denies with its reason (rule name and numbers) and passes just inside its limit.

Defaults (RiskSettings()): 1 % risk per trade, 5000 quote / 50 % of equity per position,
3 open positions, 20 orders a minute, 5 % price band, 3 % daily loss, stops required.
Every expected number below is worked out by hand in the test's comment.
"""

from decimal import Decimal as D

from tradeterm.config import RiskSettings
from tradeterm.core.trading import (
    Bracket,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
)
from tradeterm.risk import RiskContext, RiskEngine, reduces_position

T0 = 1_710_504_000_000  # 2024-03-15 12:00:00 UTC


def engine(**overrides) -> RiskEngine:
    return RiskEngine(RiskSettings(**overrides), lambda: T0)


def limit(side="buy", qty="1", price="100", symbol="BTC/USDT", **kw) -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.LIMIT, D(qty), price=D(price), **kw)


def market(side="buy", qty="1", symbol="BTC/USDT", **kw) -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.MARKET, D(qty), **kw)


def pos(symbol="BTC/USDT", qty="1", entry="100") -> Position:
    return Position(symbol, D(qty), D(entry), opened_ms=T0)


def working(request: OrderRequest, filled="0") -> Order:
    return Order("o1", request, OrderStatus.OPEN, T0, T0, filled_quantity=D(filled))


def ctx(request, equity="10000", mid="100", positions=(), orders=()) -> RiskContext:
    positions = tuple(positions)
    return RiskContext(
        equity=D(equity),
        balance=D(equity),
        positions=positions,
        orders=tuple(orders),
        mid=D(mid) if mid is not None else None,
        reduces=reduces_position(request, positions),
    )


def check(request, **kw):
    settings = kw.pop("settings", {})
    return engine(**settings).check(request, ctx(request, **kw))


# -- mandatory stop-loss -------------------------------------------------------------------------


def test_strategy_entry_without_stop_loss_then_denied_by_mandatory_stop():
    decision = check(market(strategy="ema_cross"))
    assert not decision.approved
    assert decision.rule == "mandatory_stop"
    assert decision.reason == (
        "mandatory_stop: strategy ema_cross sent a buy BTC/USDT entry without a stop-loss"
    )


def test_strategy_entry_with_stop_loss_then_approved():
    # mid 100, stop 99: risk 1 x 1 = 1 <= budget 100.
    assert check(market(strategy="ema_cross", bracket=Bracket(stop_loss=D("99")))).approved


def test_strategy_exit_reducing_a_position_needs_no_stop():
    request = market("sell", "1", strategy="ema_cross", reduce_only=True)
    assert check(request, positions=[pos(qty="1")]).approved


def test_manual_entry_without_stop_is_not_subject_to_mandatory_stop():
    assert check(market()).approved


def test_mandatory_stop_off_in_settings_then_strategy_entry_passes():
    request = market(strategy="ema_cross")
    assert check(request, settings={"require_stop_for_strategies": False}).approved


# -- price band -----------------------------------------------------------------------------------


def test_limit_price_just_outside_band_then_denied_with_distance():
    # |94.99 - 100| / 100 = 5.01 % > 5 %.
    decision = check(limit(price="94.99"))
    assert decision.rule == "price_band"
    assert decision.reason == "price_band: limit price 94.99 is 5.01% from the mid 100, limit 5.00%"


def test_limit_price_exactly_on_band_edge_then_approved():
    assert check(limit(price="95")).approved
    assert check(limit("sell", price="105")).approved


def test_stop_price_outside_band_then_denied():
    request = OrderRequest("BTC/USDT", "buy", OrderType.STOP_MARKET, D("1"), stop_price=D("105.5"))
    decision = check(request)
    assert decision.reason == "price_band: stop price 105.5 is 5.50% from the mid 100, limit 5.00%"


def test_market_entry_without_mid_then_denied():
    decision = check(market(), mid=None)
    assert decision.rule == "price_band"
    assert decision.reason == "price_band: no book mid for BTC/USDT; an entry needs one"


def test_market_reduction_without_mid_then_approved():
    assert check(market("sell", "1", reduce_only=True), mid=None, positions=[pos()]).approved


# -- risk per trade --------------------------------------------------------------------------------


def test_stop_risk_above_one_percent_of_equity_then_denied_with_numbers():
    # Entry 100, stop 90: distance 10; 10.001 x 10 = 100.01 > 1 % of 10000 = 100.
    request = limit(qty="10.001", bracket=Bracket(stop_loss=D("90")))
    decision = check(request)
    assert decision.rule == "risk_per_trade"
    assert decision.reason == (
        "risk_per_trade: risk 100.01 (10.001 x stop distance 10) exceeds 1.00% of equity 10000.00 "
        "(100.00)"
    )


def test_stop_risk_exactly_one_percent_of_equity_then_approved():
    # 10 x 10 = 100 = the budget (notional 1000 is within the size limits).
    assert check(limit(qty="10", bracket=Bracket(stop_loss=D("90")))).approved


def test_market_entry_risk_measured_from_the_mid():
    # mid 200, stop 195: distance 5; 20 x 5 = 100 passes, 20.01 x 5 = 100.05 does not.
    # (equity 100000 so the 5000 quote cap is the size limit: 20.01 x 200 = 4002 < 5000)
    ok = market(qty="20", bracket=Bracket(stop_loss=D("195")))
    assert check(ok, equity="10000", mid="200", settings={"max_position_pct": D(100)}).approved
    too_big = market(qty="20.01", bracket=Bracket(stop_loss=D("195")))
    decision = check(too_big, mid="200", settings={"max_position_pct": D(100)})
    assert decision.reason == (
        "risk_per_trade: risk 100.05 (20.01 x stop distance 5) exceeds 1.00% of equity 10000.00 "
        "(100.00)"
    )


def test_short_entry_with_stop_below_entry_then_denied():
    decision = check(limit("sell", price="100", bracket=Bracket(stop_loss=D("99"))))
    assert decision.reason == "risk_per_trade: stop 99 is not above the entry 100 of a sell"


# -- max position size ---------------------------------------------------------------------------


def test_position_plus_order_above_quote_cap_then_denied_with_parts():
    # Long 30 at mid 100 = 3000; buy 20.01 at 100 = 2001; 5001 > 5000 (equity 100000: 5 %).
    request = limit(qty="20.01")
    decision = check(request, equity="100000", positions=[pos(qty="30")])
    assert decision.rule == "max_position_quote"
    assert decision.reason == (
        "max_position_quote: BTC/USDT long exposure 5001.00 (3000.00 open + 2001.00 this order), "
        "limit 5000.00"
    )


def test_position_plus_order_exactly_at_quote_cap_then_approved():
    assert check(limit(qty="20"), equity="100000", positions=[pos(qty="30")]).approved


def test_working_entry_orders_on_same_side_count_towards_the_cap():
    # 3000 open + working 10 at 99 (990) + 10.11 x 100 (1011) = 5001 > 5000.
    resting = working(limit(qty="10", price="99"))
    decision = check(
        limit(qty="10.11"), equity="100000", positions=[pos(qty="30")], orders=[resting]
    )
    assert decision.reason == (
        "max_position_quote: BTC/USDT long exposure 5001.00 "
        "(3000.00 open + 990.00 in working orders + 1011.00 this order), limit 5000.00"
    )
    # A partly filled working order counts its remainder only: 4 left x 99 = 396.
    partly = working(limit(qty="10", price="99"), filled="6")
    ok = check(limit(qty="16.04"), equity="100000", positions=[pos(qty="30")], orders=[partly])
    assert ok.approved  # 3000 + 396 + 1604 = 5000


def test_flip_counts_only_the_part_beyond_the_closed_position():
    # Short 10; buy 60.01 closes 10 and opens 50.01 long: 5001 > 5000.
    decision = check(limit(qty="60.01"), equity="100000", positions=[pos(qty="-10")])
    assert decision.reason == (
        "max_position_quote: BTC/USDT long exposure 5001.00 (5001.00 this order), limit 5000.00"
    )
    assert check(limit(qty="60"), equity="100000", positions=[pos(qty="-10")]).approved


def test_exposure_above_percent_of_equity_then_denied():
    # Equity 8000, 50 % = 4000; 40.01 x 100 = 4001 is 50.0125 % (shown 50.01 %).
    decision = check(limit(qty="40.01"), equity="8000")
    assert decision.rule == "max_position_pct"
    assert decision.reason == (
        "max_position_pct: BTC/USDT long exposure 4001.00 (4001.00 this order) is 50.01% of "
        "equity 8000.00, limit 50.00%"
    )
    assert check(limit(qty="40"), equity="8000").approved


# -- max open positions ----------------------------------------------------------------------------


def test_new_symbol_when_three_positions_open_then_denied():
    held = [pos("BTC/USDT"), pos("ETH/USDT"), pos("SOL/USDT")]
    decision = check(limit(symbol="XRP/USDT"), positions=held)
    assert decision.rule == "max_open_positions"
    assert decision.reason == "max_open_positions: 3 open, limit 3"


def test_adding_to_an_open_symbol_when_three_open_then_approved():
    held = [pos("BTC/USDT"), pos("ETH/USDT"), pos("SOL/USDT")]
    assert check(limit(symbol="BTC/USDT"), positions=held).approved


def test_new_symbol_when_two_positions_open_then_approved():
    assert check(limit(symbol="XRP/USDT"), positions=[pos("BTC/USDT"), pos("ETH/USDT")]).approved


def test_working_entry_order_on_another_symbol_counts_as_pending_position():
    held = [pos("BTC/USDT"), pos("ETH/USDT")]
    resting = working(limit(symbol="SOL/USDT"))
    decision = check(limit(symbol="XRP/USDT"), positions=held, orders=[resting])
    assert decision.reason == (
        "max_open_positions: 3 open (1 pending as working entry orders), limit 3"
    )
    # A reduce-only working order opens nothing.
    closing = working(limit("sell", symbol="BTC/USDT", reduce_only=True))
    assert check(limit(symbol="XRP/USDT"), positions=held, orders=[closing]).approved


# -- orders per minute (one at a time here; the window is in test_risk_engine.py) -------------


def test_orders_per_minute_limit_reached_then_denied_with_count():
    risk = engine(max_orders_per_minute=2)
    request = limit()
    assert risk.check(request, ctx(request)).approved
    assert risk.check(request, ctx(request)).approved
    decision = risk.check(request, ctx(request))
    assert decision.rule == "max_orders_per_minute"
    assert decision.reason == "max_orders_per_minute: 2 orders accepted in the last 60 s, limit 2"


def test_denied_decision_becomes_order_denied_event():
    risk = engine()
    request = market(strategy="ema_cross")
    decision = risk.check(request, ctx(request))
    event = risk.denied_event(request, decision)
    assert (event.timestamp, event.rule, event.request) == (T0, "mandatory_stop", request)
    assert event.reason == decision.reason
