"""The markets' display precision and the [display] policy travel on the engine snapshot, and
setting them moves the snapshot cache key (a cached snapshot without them would be shown)."""

from __future__ import annotations

from decimal import Decimal

from tradeterm.broker.rules import market_precision, markets_precision
from tradeterm.config import Settings
from tradeterm.core.models import MarketPrecision
from tradeterm.engine import Engine

# ccxt's unified markets as binance (TICK_SIZE mode) loads them: floats, a bad one among them
CCXT_MARKETS = {
    "BTC/USDT": {"symbol": "BTC/USDT", "base": "BTC", "quote": "USDT",
                 "precision": {"price": 0.01, "amount": 1e-05}, "limits": {}},
    "DOGE/USDT": {"symbol": "DOGE/USDT", "base": "DOGE", "quote": "USDT",
                  "precision": {"price": 1e-05, "amount": 1.0}, "limits": {}},
    "BAD/USDT": {"precision": {}},  # no symbol: left out, not fatal
}


def test_market_precision_reads_tick_step_and_currencies_from_ccxt():
    assert market_precision(CCXT_MARKETS["BTC/USDT"]) == MarketPrecision(
        Decimal("0.01"), Decimal("0.00001"), "BTC", "USDT")
    no_grid = {"symbol": "X/USDT", "precision": {"price": None, "amount": 0}}
    assert market_precision(no_grid) == MarketPrecision(None, None, "X", "USDT")
    assert set(markets_precision(CCXT_MARKETS)) == {"BTC/USDT", "DOGE/USDT"}


def test_setting_the_markets_gives_a_new_snapshot_carrying_them():
    engine = Engine(Settings(symbols=["BTC/USDT", "DOGE/USDT"]), clock=lambda: 7)
    before = engine.snapshot()
    assert before.precision("BTC/USDT") is None and engine.snapshot() is before
    engine._set_markets(markets_precision(CCXT_MARKETS))
    after = engine.snapshot()
    assert after.seq > before.seq
    assert after.precision("DOGE/USDT") == MarketPrecision(
        Decimal("0.00001"), Decimal("1"), "DOGE", "USDT")
    assert after.market_format("BTC/USDT").price(Decimal("64994.77005769996")) == "64994.77"
    assert engine.snapshot() is after


def test_display_quote_decimals_from_settings_reach_the_snapshot():
    settings = Settings(display={"quote_decimals": {"usdt": 4}})
    snap = Engine(settings, clock=lambda: 7).snapshot()
    assert snap.display.places("USDT") == 4 and snap.display.places("BTC") == 8
    assert snap.market_format("BTC/USDT").amount(Decimal("9999.86")) == "9999.8600"
