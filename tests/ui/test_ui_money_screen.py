"""The main screen with an open position shows no number with more decimals than the money
display policy allows, no ``-0.00`` and none of the exact values' digits (issue 11, item 5)."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from fake_engine import FakeEngine
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.core.events import OrderFilled
from tradeterm.core.models import MarketPrecision
from tradeterm.core.money import dec
from tradeterm.core.trading import (
    AccountSnapshot,
    Fill,
    Liquidity,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
)
from tradeterm.ui.app import TradetermApp

D = Decimal
NOISE = D("0.0000123456789012345678901")  # an exact value's tail that must never show
# Every grid on this screen: tick 0.01 (2), step 0.001 (3), USDT (2), R and % (2).
MOST_DECIMALS = 3
NUMBER = re.compile(r"(?<![\w.])-?\d+\.(\d+)")


def ugly_account(close: Decimal, symbol: str, other: str) -> AccountSnapshot:
    long = Position(symbol, D("0.5000000"), close + NOISE, 0, "ema_cross",
                    stop=close - D("2.004999999999"), target=close + D("4.123456789"),
                    initial_risk=D("0.3333333333333333333333333333"))
    short = Position(other, D("-2.000000"), D("250.00000000001"), 0)
    order = Order("P1-7", OrderRequest(symbol, "buy", OrderType.LIMIT, D("0.25000000"),
                                       price=close - D("5.0000001")), OrderStatus.OPEN, 0, 0)
    return AccountSnapshot("USDT", D("9999.8600000"), D("9999.86") + NOISE, D("-0.0040000"),
                           D("-12.4000000001"), (long, short), (order,))


def decimals_shown(text: str) -> list[str]:
    return [m.group(0) for m in NUMBER.finditer(text) if len(m.group(1)) > MOST_DECIMALS]


async def test_main_screen_with_an_open_position_shows_nothing_past_the_policy(tmp_path: Path):
    settings = Settings(symbols=["BTC/USDT", "ETH/USDT", "SOL/USDT"], data_dir=tmp_path)
    engine = FakeEngine(settings, panels=True)
    snap = engine._snap
    close = dec(snap.market.candles[-1].close)
    grid = MarketPrecision(D("0.01"), D("0.001"), "X", "USDT")
    engine._snap = replace(
        snap, seq=snap.seq + 1, account=ugly_account(close, snap.symbol, "ETH/USDT"),
        markets=MappingProxyType({s: grid for s in settings.symbols}),
    )
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: "uPnL%" in screen_text(app) and "LMT" in screen_text(app))
        await wait_for(pilot, lambda: bool(engine.listeners))
        request = OrderRequest(snap.symbol, "buy", OrderType.MARKET, D("0.5"))
        fill = Fill("f1", "o1", snap.symbol, "buy", close + NOISE, D("0.5000000"),
                    D("0.0499999999999"), Liquidity.TAKER, 1)
        engine.emit(OrderFilled(1, fill, Order("o1", request, OrderStatus.FILLED, 0, 1)))
        await wait_for(pilot, lambda: any("BOUGHT" in n.message for n in app._notifications))
        await pilot.pause()
        # the screen's cells plus the toasts (drawn on their own layer)
        text = "\n".join([screen_text(app), *(n.message for n in app._notifications)])
    assert "balance 9999.86 " in text and "uPnL 0.00" in text and "-12.40 /" in text
    assert f"@ {close:.2f}" in text  # the fill's price on the tick
    assert decimals_shown(text) == []
    assert "-0.00" not in text and "12345678" not in text and "9999.8600" not in text
