"""``run --headless`` prints the halt, the recovery and every denial as one readable line."""

from __future__ import annotations

from decimal import Decimal

from tradeterm.core.events import OrderDenied, TradingStateChanged
from tradeterm.core.trading import OrderRequest, OrderType
from tradeterm.headless import describe

T = 1_717_200_000_000  # 2024-06-01 00:00 UTC


def test_denial_when_described_then_side_quantity_symbol_rule_and_reason():
    request = OrderRequest("BTC/USDT", "buy", OrderType.MARKET, Decimal("0.00123000"),
                           strategy="ema")
    line = describe(OrderDenied(T, request, "kill switch: journal: disk full", "kill_switch"))
    assert line == ("2024-06-01T00:00:00Z OrderDenied rule=kill_switch strategy=ema "
                    "buy 0.00123 BTC/USDT denied: kill switch: journal: disk full")


def test_halt_and_recovery_when_described_then_state_and_reason():
    halt = describe(TradingStateChanged(T, "halted", "journal: j.sqlite: could not commit"))
    back = describe(TradingStateChanged(T, "halted", "journal: writes recovered, nothing "
                                                     "committed was lost"))
    assert halt.endswith("TradingStateChanged state=halted reason=journal: j.sqlite: could "
                         "not commit")
    assert "writes recovered" in back
