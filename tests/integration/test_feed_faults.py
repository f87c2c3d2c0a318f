"""Feed recovery from the simulator's injected faults, over real sockets with unmodified ccxt."""

from __future__ import annotations

import pytest

from tradeterm.core.events import BookResynced, FeedMessageSkipped, FeedStatusChanged
from tradeterm.core.models import FeedStatus
from tradeterm.sim import SimServer

from test_engine_harness import Running, running_engine, settings, until

pytestmark = pytest.mark.integration

SYM = "BTC/USDT"


async def all_connected(run: Running) -> None:
    await until(
        lambda: len(s := run.engine.snapshot().streams) == 4
        and all(h.status is FeedStatus.CONNECTED for h in s),
        "all streams connected",
    )


def book_nonce(run: Running) -> int:
    book = run.engine.snapshot().market.book
    return book.nonce if book is not None and book.nonce is not None else -1


async def flowing(run: Running) -> None:
    """New book updates and new trades arrive."""
    nonce = book_nonce(run)
    trades = run.engine.snapshot().market.trades
    last_trade = trades[-1].id if trades else None
    await until(lambda: book_nonce(run) > nonce, "book updates")
    await until(
        lambda: (t := run.engine.snapshot().market.trades) and t[-1].id != last_trade,
        "new trades",
    )


async def test_sequence_gap_resyncs_and_the_book_then_equals_the_simulators(sim: SimServer):
    async with running_engine(sim.base_url) as run:
        await all_connected(run)
        sim.faults.skip_depth_update("BTCUSDT")
        event = await until(lambda: run.of(BookResynced, symbol=SYM), "BookResynced")
        assert "checksum" in event[0].reason or "gap" in event[0].reason
        await until(lambda: run.engine.snapshot().market.book is not None, "a resynced book")
        sim.pause()
        try:
            sim_nonce, bids, asks = sim.book("BTCUSDT")
            await until(lambda: book_nonce(run) == sim_nonce, "the engine's book to catch up")
            book = run.engine.snapshot().market.book
            n = len(book.bids)
            assert n == min(50, len(bids)) and len(book.asks) == min(50, len(asks))
            assert book.bids == tuple((float(p), float(q)) for p, q in bids[:n])
            assert book.asks == tuple((float(p), float(q)) for p, q in asks[: len(book.asks)])
        finally:
            sim.resume()


async def test_dropped_sockets_reconnect_and_data_flows_again(sim: SimServer):
    async with running_engine(sim.base_url) as run:
        await all_connected(run)
        sim.faults.drop_all_sockets()
        await until(
            lambda: run.of(FeedStatusChanged, stream="book", status=FeedStatus.RECONNECTING),
            "the book stream reconnecting",
        )
        await all_connected(run)
        await flowing(run)
        book = run.stream("book")
        assert book.reconnects >= 1 and book.last_error


async def test_non_json_frame_is_tolerated_and_streams_continue(sim: SimServer):
    async with running_engine(sim.base_url) as run:
        await all_connected(run)
        sim.faults.send_malformed("BTCUSDT")
        await flowing(run)
        await all_connected(run)


async def test_broken_json_kills_ccxts_reader_and_the_socket_is_revived(sim: SimServer):
    """A frame that starts like JSON but is not: ccxt's json.loads raises inside its reader
    callback and that socket is no longer read; the guard resets it and the streams resume."""
    async with running_engine(sim.base_url) as run:
        await all_connected(run)
        for conn in list(sim.hub.conns):  # test-only reach into the simulator's sockets
            if "BTCUSDT" in conn.symbols():
                conn.push('{"e": "trade", "s": "BTCUSDT", broken')
        skipped = await until(lambda: run.of(FeedMessageSkipped, symbol=SYM), "a skipped message")
        assert "malformed" in skipped[0].reason
        await flowing(run)
        await all_connected(run)


async def test_stalled_symbol_goes_stale_then_connected_again(sim: SimServer):
    async with running_engine(sim.base_url, settings(stale_after_s=1.0)) as run:
        await all_connected(run)
        sim.faults.stall(3.0, "BTCUSDT")
        await until(
            lambda: run.of(FeedStatusChanged, symbol=SYM, status=FeedStatus.STALE), "STALE"
        )
        stale_at = len(run.events)
        await until(
            lambda: any(
                isinstance(e, FeedStatusChanged) and e.symbol == SYM
                and e.status is FeedStatus.CONNECTED
                for e in run.events[stale_at:]
            ),
            "CONNECTED after the stall",
        )
        await flowing(run)
