"""The simulator's WebSocket streams through unmodified ccxt.pro, including injected faults."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

pytestmark = pytest.mark.integration

DEADLINE_S = 20.0


async def _book_synced_with_sim(exchange: Any, sim: Any, symbol: str = "BTCUSDT") -> None:
    """Pause the sim, then watch until ccxt's book nonce reaches the sim's last update id and
    compare the top 100 levels of both sides exactly."""
    unified = symbol[:-4] + "/USDT"
    await exchange.watch_order_book(unified)
    sim.pause()
    try:
        last_id, bids, asks = sim.book(symbol)
        deadline = time.monotonic() + DEADLINE_S
        book = exchange.orderbooks[unified]
        while book["nonce"] != last_id:
            assert time.monotonic() < deadline, (book["nonce"], last_id)
            # nothing new is published while paused; a fresh subscription would resnapshot
            book = await asyncio.wait_for(exchange.watch_order_book(unified), 0.5) \
                if book["nonce"] < last_id else book
            book = exchange.orderbooks[unified]
            await asyncio.sleep(0.02)
        top_bids = [[float(p), float(q)] for p, q in bids[:100]]
        top_asks = [[float(p), float(q)] for p, q in asks[:100]]
        assert [list(x) for x in book["bids"][:100]] == top_bids
        assert [list(x) for x in book["asks"][:100]] == top_asks
    finally:
        sim.resume()


async def test_watch_ohlcv_book_and_trades_together_and_book_matches_sim(exchange, sim) -> None:
    await exchange.load_markets()

    async def candles() -> list:
        got: list = []
        deadline = time.monotonic() + DEADLINE_S
        while len(got) < 2 and time.monotonic() < deadline:
            got.extend(await exchange.watch_ohlcv("BTC/USDT", "1m"))
        return got

    async def trades() -> list:
        got: list = []
        while len(got) < 5:
            got.extend(await exchange.watch_trades("BTC/USDT"))
        return got

    async def books() -> int:
        nonces = set()
        while len(nonces) < 5:
            book = await exchange.watch_order_book("BTC/USDT")
            assert book["bids"][0][0] < book["asks"][0][0]
            nonces.add(book["nonce"])
        return len(nonces)

    kl, tr, nb = await asyncio.wait_for(asyncio.gather(candles(), trades(), books()), 30)
    assert kl and all(int(c[0]) % 60_000 == 0 for c in kl)
    assert all(t["symbol"] == "BTC/USDT" and t["amount"] > 0 for t in tr)
    assert nb == 5
    # the live candle's close is the last trade price
    sim.pause()
    try:
        market = sim.market("BTCUSDT")
        last = market.tape[-1]
        assert market.candles["1m"].current.c == last.price or market.candles["1m"].current.n == 0
    finally:
        sim.resume()
    await _book_synced_with_sim(exchange, sim)


async def test_skip_depth_update_forces_resync_then_book_is_right(exchange, sim) -> None:
    import ccxt

    await exchange.watch_order_book("ETH/USDT")
    sim.faults.skip_depth_update("ETHUSDT")
    raised = False
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline and not raised:
        try:
            await exchange.watch_order_book("ETH/USDT")
        except ccxt.ChecksumError:
            raised = True
    assert raised
    await _book_synced_with_sim(exchange, sim, "ETHUSDT")


async def test_drop_all_sockets_then_next_watch_reconnects(exchange, sim) -> None:
    import ccxt

    await exchange.watch_trades("SOL/USDT")
    before = len(sim.hub.conns)
    assert before >= 1
    sim.faults.drop_all_sockets()
    assert len(sim.hub.conns) == 0
    reconnected = False
    deadline = time.monotonic() + DEADLINE_S
    while not reconnected and time.monotonic() < deadline:
        try:
            got = await exchange.watch_trades("SOL/USDT")
        except ccxt.NetworkError:  # the pending call sees the drop; the next one reconnects
            await asyncio.sleep(0.2)
            continue
        reconnected = bool(got) and len(sim.hub.conns) >= 1
    assert reconnected, "no data on a new socket after the drop"


async def test_send_malformed_is_survivable_and_stream_continues(exchange, sim) -> None:
    import ccxt

    await exchange.watch_ohlcv("BTC/USDT", "1m")
    sim.faults.send_malformed("BTCUSDT")
    received = 0
    deadline = time.monotonic() + DEADLINE_S
    while received < 3 and time.monotonic() < deadline:
        try:
            await exchange.watch_ohlcv("BTC/USDT", "1m")
            received += 1
        except ccxt.BaseError:
            await asyncio.sleep(0.2)
    assert received == 3


async def test_stall_drops_pushes_without_closing_the_socket(exchange, sim) -> None:
    received: set[int] = set()
    received.update(int(t["id"]) for t in await exchange.watch_trades("BTC/USDT"))
    conns_before = set(sim.hub.conns)
    market = sim.market("BTCUSDT")
    sim.faults.stall(2.0, "BTCUSDT")
    stall_start_id = market.next_trade_id
    await asyncio.sleep(1.0)  # inside the stall window; not an assertion on timing
    stall_end_id = market.next_trade_id
    assert stall_end_id > stall_start_id, "the market kept trading during the stall"
    deadline = time.monotonic() + DEADLINE_S
    while max(received) <= stall_end_id and time.monotonic() < deadline:
        received.update(int(t["id"]) for t in await exchange.watch_trades("BTC/USDT"))
    during = set(range(stall_start_id + 5, stall_end_id + 1))
    assert not (during & received), "trades printed during the stall were pushed"
    assert max(received) > stall_end_id, "pushes did not resume"
    assert conns_before <= set(sim.hub.conns), "a socket was closed"
