"""Sizing from the stop distance: floored to the step, never risking more than the %, and in
agreement with the engine's own risk-per-trade check."""

import random
from decimal import Decimal as D

import pytest

from tradeterm.config import RiskSettings
from tradeterm.core.models import Signal
from tradeterm.core.trading import Bracket, OrderRequest, OrderType
from tradeterm.risk import RiskContext, RiskEngine
from tradeterm.risk.rules import risk_per_trade

T0 = 1_710_504_000_000


def engine(pct="1") -> RiskEngine:
    settings = RiskSettings(
        risk_per_trade_pct=D(pct),
        max_position_quote=D("1e12"),
        max_position_pct=D(100),
        max_orders_per_minute=10_000,
    )
    return RiskEngine(settings, lambda: T0)


def test_size_from_stop_distance_exact():
    # 1 % of 10000 = 100; distance 10 -> 10.
    assert engine().size_for(D("100"), D("90"), D("10000"), step=D("0.001")) == D("10")


def test_size_rounds_down_to_the_step():
    # budget 1 % of 12345.67 = 123.4567; distance 65000.5 - 64321.7 = 678.8;
    # 123.4567 / 678.8 = 0.181874...; floored to 0.00001 -> 0.18187 (risk 123.453356).
    size = engine().size_for(D("65000.5"), D("64321.7"), D("12345.67"), step=D("0.00001"))
    assert size == D("0.18187")
    assert size * D("678.8") == D("123.453356")


def test_size_from_signal_uses_exact_decimal_prices():
    # Floats 64990.12 - 64890.12 would be 99.99999999999272; as Decimals the distance is 100.
    signal = Signal("ema_cross", "BTC/USDT", "1m", T0, "entry", "buy", 64990.12, 64890.12)
    assert engine().size_for(signal, None, D("10000"), step=D("0.00001")) == D("1")


def test_size_without_distance_or_equity_is_zero_and_without_stop_is_an_error():
    assert engine().size_for(D("100"), D("100"), D("10000")) == D("0")
    assert engine().size_for(D("100"), D("90"), D("0")) == D("0")
    signal = Signal("s", "BTC/USDT", "1m", T0, "entry", "buy", 100.0)
    with pytest.raises(ValueError, match="stop"):
        engine().size_for(signal, None, D("10000"))


def test_random_sizes_never_risk_more_than_the_percent_and_pass_the_check():
    rng = random.Random(20240315)
    for _ in range(2000):
        risk = engine(pct=str(rng.choice(["0.25", "0.5", "1", "2", "3.3"])))
        step = D(rng.choice(["1", "0.1", "0.001", "0.00001"]))
        entry = D(rng.randint(1_000, 10_000_000)) / 100  # 10.00 .. 100000.00
        side = rng.choice(["buy", "sell"])
        distance = entry * D(rng.randint(1, 400)) / 10_000  # 0.01 % .. 4 %
        stop = entry - distance if side == "buy" else entry + distance
        equity = D(rng.randint(100_000, 100_000_000)) / 100
        size = risk.size_for(entry, stop, equity, step=step)
        budget = equity * risk.settings.risk_per_trade_pct / 100
        assert size % step == 0
        assert size * distance <= budget
        assert (size + step) * distance > budget

        def order(qty, side=side, entry=entry, stop=stop):
            return OrderRequest(
                "BTC/USDT", side, OrderType.LIMIT, qty, price=entry,
                bracket=Bracket(stop_loss=stop),
            )

        # The rule itself (a tight stop may size beyond the equity: the size caps deny those).
        context = RiskContext(equity=equity, balance=equity, mid=entry)
        assert risk_per_trade(order(size), context, risk.settings) is None
        assert risk_per_trade(order(size + step), context, risk.settings).rule == "risk_per_trade"


def test_engine_approves_the_sized_order_and_denies_one_step_more():
    # budget 100, distance 678.8: 100 / 678.8 = 0.147318... -> 0.14731 (notional 9575.22).
    risk = engine()
    size = risk.size_for(D("65000.5"), D("64321.7"), D("10000"), step=D("0.00001"))
    assert size == D("0.14731")
    context = RiskContext(equity=D("10000"), balance=D("10000"), mid=D("65000.5"))
    for qty, approved in ((size, True), (size + D("0.00001"), False)):
        request = OrderRequest(
            "BTC/USDT", "buy", OrderType.MARKET, qty, bracket=Bracket(stop_loss=D("64321.7"))
        )
        assert risk.check(request, context).approved is approved
