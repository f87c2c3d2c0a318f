"""The simulator's REST API through unmodified ccxt: markets, deep history, book, tape, ticker."""

from __future__ import annotations

import aiohttp
import pytest

from tradeterm.core.models import TIMEFRAME_MS

pytestmark = pytest.mark.integration


async def test_load_markets_parses_the_demo_and_quiet_spot_symbols_with_filters(exchange) -> None:
    from tradeterm.sim.spec import QUIET_SPECS

    markets = await exchange.load_markets()
    assert {"BTC/USDT", "ETH/USDT", "SOL/USDT", "PEPE/USDT", "ETH/BTC"} <= set(markets)
    assert len(markets) == 3 + len(QUIET_SPECS)
    assert markets["PEPE/USDT"]["precision"]["price"] == 1e-08
    btc = markets["BTC/USDT"]
    assert btc["spot"] and not btc["contract"] and btc["active"]
    assert btc["precision"]["price"] == 0.01 and btc["precision"]["amount"] == 0.00001
    assert btc["limits"]["cost"]["min"] == 5.0
    assert markets["ETH/USDT"]["precision"]["amount"] == 0.0001
    assert markets["SOL/USDT"]["precision"]["amount"] == 0.001


async def test_fetch_ohlcv_pages_3000_contiguous_aligned_1m_bars(exchange, sim) -> None:
    minute = 60_000
    since = sim.now_ms() - 3_000 * minute
    since -= since % minute
    bars: list[list[float]] = []
    cursor = since
    while len(bars) < 3_000:
        page = await exchange.fetch_ohlcv("BTC/USDT", "1m", since=cursor, limit=1000)
        assert page, "history ran out"
        bars.extend(page)
        cursor = int(page[-1][0]) + minute
    times = [int(b[0]) for b in bars[:3_000]]
    assert times[0] == since
    assert all(b - a == minute for a, b in zip(times, times[1:], strict=False))
    assert len(set(times)) == len(times)
    for _, o, h, low, c, v in bars[:3_000]:
        assert low <= min(o, c) <= max(o, c) <= h and v >= 0


@pytest.mark.parametrize("timeframe", list(TIMEFRAME_MS))
async def test_every_interval_serves_at_least_2000_aligned_bars(exchange, sim, timeframe) -> None:
    ms = TIMEFRAME_MS[timeframe]
    since = sim.now_ms() - 2_100 * ms
    got: list[list[float]] = []
    cursor = since
    while len(got) < 2_000:
        page = await exchange.fetch_ohlcv("ETH/USDT", timeframe, since=cursor, limit=1000)
        assert page
        got.extend(page)
        cursor = int(page[-1][0]) + ms
    assert all(int(b[0]) % ms == 0 for b in got)
    # the newest bar (no since) is the open candle and it follows the history without a gap
    newest = await exchange.fetch_ohlcv("ETH/USDT", timeframe, limit=3)
    assert int(newest[-1][0]) == sim.now_ms() // ms * ms
    assert int(newest[-1][0]) - int(newest[-2][0]) == ms


async def test_coarse_candles_agree_with_fine_ones(exchange) -> None:
    hours = await exchange.fetch_ohlcv("BTC/USDT", "1h", limit=30)
    closed = hours[-20:-1]
    first = int(closed[0][0])
    minutes: list[list[float]] = []
    cursor = first
    while len(minutes) < 60 * len(closed):
        page = await exchange.fetch_ohlcv("BTC/USDT", "1m", since=cursor, limit=1000)
        minutes.extend(page)
        cursor = int(page[-1][0]) + 60_000
    for k, hour in enumerate(closed):
        chunk = minutes[60 * k: 60 * (k + 1)]
        assert int(chunk[0][0]) == int(hour[0])
        assert hour[1] == chunk[0][1] and hour[4] == chunk[-1][4]
        assert hour[2] == max(m[2] for m in chunk) and hour[3] == min(m[3] for m in chunk)


async def test_fetch_order_book_trades_and_ticker(exchange, sim) -> None:
    book = await exchange.fetch_order_book("BTC/USDT", limit=1000)
    assert len(book["bids"]) == 1000 and len(book["asks"]) == 1000
    assert book["bids"][0][0] < book["asks"][0][0]
    assert book["nonce"] is not None
    trades = []
    for _ in range(100):
        trades = await exchange.fetch_trades("BTC/USDT")
        if trades:
            break
        await _sleep(0.1)
    assert trades and trades[0]["side"] in ("buy", "sell")
    ticker = await exchange.fetch_ticker("SOL/USDT")
    assert ticker["last"] > 0 and ticker["low"] <= ticker["last"] <= ticker["high"]
    assert ticker["bid"] < ticker["ask"]


async def test_binance_errors_for_bad_symbol_and_interval(sim) -> None:
    async with aiohttp.ClientSession() as http:
        r = await http.get(f"{sim.base_url}/api/v3/klines?symbol=NOPE&interval=1m")
        assert r.status == 400 and (await r.json())["code"] == -1121
        r = await http.get(f"{sim.base_url}/api/v3/klines?symbol=BTCUSDT&interval=7m")
        assert r.status == 400 and (await r.json())["code"] == -1120
        r = await http.get(f"{sim.base_url}/api/v3/ticker/24hr")
        assert len(await r.json()) == len(sim.listed) > 3  # every listed symbol, quiet too
        assert len(sim.markets) == 3  # reading a quiet market's ticker leaves it still


async def test_bad_symbol_raises_ccxt_bad_symbol(exchange) -> None:
    import ccxt

    await exchange.load_markets()
    with pytest.raises(ccxt.BadSymbol):
        await exchange.public_get_klines({"symbol": "NOPEUSDT", "interval": "1m"})


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)
