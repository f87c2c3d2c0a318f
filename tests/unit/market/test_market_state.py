"""Market state: one writer, cached immutable snapshots."""

from tradeterm.core.models import BookSnapshot, Candle, Ticker, Trade
from tradeterm.market.state import MarketState


def candle(t: int) -> Candle:
    return Candle(t, 1.0, 1.0, 1.0, 1.0, 1.0)


def test_snapshot_is_the_same_object_until_something_changes():
    st = MarketState()
    st.merge_candles("BTC/USDT", "1m", [candle(0)])
    first = st.snapshot("BTC/USDT", "1m")
    assert st.snapshot("BTC/USDT", "1m") is first
    version = st.version
    st.set_book(BookSnapshot("BTC/USDT", bids=((1.0, 1.0),), asks=((2.0, 1.0),), nonce=1))
    assert st.version > version
    second = st.snapshot("BTC/USDT", "1m")
    assert second is not first and second.book is not None and second.book.nonce == 1
    assert second.candles is first.candles  # unchanged parts are shared, not copied


def test_writes_that_change_nothing_do_not_bump_the_version():
    st = MarketState()
    book = BookSnapshot("BTC/USDT", bids=((1.0, 1.0),), nonce=1)
    st.set_book(book)
    st.add_trades("BTC/USDT", [Trade("1", 1, 1.0, 1.0, "buy")])
    st.set_tickers([Ticker("BTC/USDT", last=1.0)])
    v = st.version
    st.set_book(BookSnapshot("BTC/USDT", bids=((1.0, 1.0),), nonce=1))
    st.add_trades("BTC/USDT", [Trade("1", 1, 1.0, 1.0, "buy")])
    st.set_tickers([Ticker("BTC/USDT", last=1.0)])
    st.merge_candles("BTC/USDT", "1m", [])
    assert st.version == v


def test_snapshot_follows_symbol_and_timeframe_and_keeps_other_data():
    st = MarketState()
    st.merge_candles("BTC/USDT", "1m", [candle(0)])
    st.merge_candles("ETH/USDT", "5m", [candle(0), candle(300_000)])
    st.add_trades("ETH/USDT", [Trade("9", 1, 1.0, 1.0, "sell")])
    eth = st.snapshot("ETH/USDT", "5m")
    assert (eth.symbol, eth.timeframe, len(eth.candles), len(eth.trades)) == (
        "ETH/USDT", "5m", 2, 1,
    )
    assert len(st.snapshot("BTC/USDT", "1m").candles) == 1
    assert st.snapshot("BTC/USDT", "5m").candles == ()


def test_cleared_book_disappears_and_tickers_keep_watchlist_order():
    st = MarketState()
    st.set_book(BookSnapshot("BTC/USDT", nonce=1))
    assert st.clear_book("BTC/USDT") and st.snapshot("BTC/USDT", "1m").book is None
    assert not st.clear_book("BTC/USDT")
    st.set_tickers([Ticker("ETH/USDT", last=2.0), Ticker("BTC/USDT", last=1.0)])
    symbols = ("BTC/USDT", "SOL/USDT", "ETH/USDT")
    assert [t.symbol for t in st.tickers(symbols)] == ["BTC/USDT", "ETH/USDT"]
    assert st.tickers(symbols) is st.tickers(symbols)
