"""ccxt structures -> frozen models."""

import pytest

from tradeterm.market.convert import (
    book_from_ccxt,
    candle_from_ccxt,
    ticker_from_ccxt,
    trade_from_ccxt,
)


def test_book_keeps_order_nonce_and_caps_depth():
    bids = [[100.0 - i, 1.0 + i] for i in range(80)]
    asks = [[101.0 + i, 2.0] for i in range(80)]
    book = book_from_ccxt(
        "BTC/USDT", {"bids": bids, "asks": asks, "nonce": 42, "timestamp": 7}, depth=50
    )
    assert len(book.bids) == 50 and len(book.asks) == 50
    assert book.bids[0] == (100.0, 1.0) and book.asks[0] == (101.0, 2.0)
    assert book.bids[-1][0] == 51.0
    assert book.nonce == 42 and book.timestamp == 7
    assert book.spread == 1.0


def test_book_ignores_extra_level_fields_and_handles_empty_sides():
    book = book_from_ccxt("X/Y", {"bids": [[1, 2, 99]], "asks": [], "nonce": None})
    assert book.bids == ((1.0, 2.0),) and book.asks == () and book.nonce is None


def test_candle_and_malformed_candle():
    assert candle_from_ccxt([60_000, "1", 2, 0.5, 1.5, None]).volume == 0.0
    with pytest.raises(ValueError):
        candle_from_ccxt([60_000, None, 2, 0.5, 1.5, 3])
    with pytest.raises(ValueError):
        candle_from_ccxt([60_000, 1])


def test_trade_conversion_and_bad_side():
    tr = trade_from_ccxt({"id": 5, "timestamp": 1, "price": "2.5", "amount": 3, "side": "sell"})
    assert (tr.id, tr.price, tr.side) == ("5", 2.5, "sell")
    with pytest.raises(ValueError):
        trade_from_ccxt({"id": 5, "timestamp": 1, "price": 1, "amount": 1, "side": None})


def test_ticker_conversion():
    tk = ticker_from_ccxt(
        {"symbol": "ETH/USDT", "last": 110.0, "open": 100.0, "high": 120, "quoteVolume": None}
    )
    assert tk.change_pct == pytest.approx(10.0)
    assert tk.volume_quote_24h is None
