"""The engine as a service, over its real socket: a real headless engine process (demo market
through unmodified ccxt, a real journal), real protocol clients (the screen's own
``RemoteEngine``) and raw sockets speaking frames by hand."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from service_helpers import (
    EngineProcess,
    attached,
    raw_connect,
    raw_hello,
    raw_read,
    raw_send,
    until,
)

from tradeterm.core.commands import ClosePosition, PlaceOrder
from tradeterm.core.events import CommandIgnored, Event, OrderFilled
from tradeterm.core.trading import OrderRequest, OrderType
from tradeterm.wire.codec import CodecError, command_frame
from tradeterm.wire.messages import PROTOCOL, Bye, Cmd, Refused, Rejected, Subscribe, View, Welcome
from tradeterm.wire.remote import RequestFailed

pytestmark = pytest.mark.integration

BTC, ETH = "BTC/USDT", "ETH/USDT"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    proc = EngineProcess(tmp_path_factory.mktemp("service"))
    try:
        asyncio.run(proc.ready())
        yield proc
    finally:
        proc.stop()


def _buy(quantity: str, symbol: str = BTC) -> PlaceOrder:
    return PlaceOrder(OrderRequest(symbol, "buy", OrderType.MARKET, Decimal(quantity)))


async def test_two_screens_see_the_same_fill_within_1_s_each_on_its_own_symbol(
    engine: EngineProcess,
) -> None:
    seen: dict[str, list[tuple[OrderFilled, int]]] = {"a": [], "b": []}

    def on(name: str):  # type: ignore[no-untyped-def]
        def listen(event: Event) -> None:
            if isinstance(event, OrderFilled):
                seen[name].append((event, time.time_ns() // 1_000_000))
        return listen

    async with attached(engine.socket, symbol=BTC, timeframe="1m") as a, \
            attached(engine.socket, symbol=ETH, timeframe="5m") as b:
        a.add_listener(on("a"))
        b.add_listener(on("b"))
        snap_a = await until(a, lambda s: s.market.book is not None and len(s.market.candles) > 50)
        snap_b = await until(b, lambda s: s.market.book is not None and len(s.market.candles) > 50)
        # each sees its own market: symbol, timeframe, book and candles of its subscription
        assert (snap_a.symbol, snap_a.timeframe, snap_a.market.book.symbol) == (BTC, "1m", BTC)
        assert (snap_b.symbol, snap_b.timeframe, snap_b.market.book.symbol) == (ETH, "5m", ETH)
        gaps_a = {y.open_time - x.open_time
                  for x, y in itertools.pairwise(snap_a.market.candles)}
        gaps_b = {y.open_time - x.open_time
                  for x, y in itertools.pairwise(snap_b.market.candles)}
        assert gaps_a == {60_000} and gaps_b == {300_000}
        assert snap_b.market.book.mid < snap_a.market.book.mid / 5  # ETH is not BTC's book

        a.submit(_buy("0.001"))
        await until(a, lambda s: bool(seen["a"]) and bool(seen["b"]), timeout=15)
        (fill_a, at_a), (fill_b, at_b) = seen["a"][0], seen["b"][0]
        assert fill_a.fill == fill_b.fill and fill_a.fill.symbol == BTC
        assert fill_a.fill.quantity == Decimal("0.001")  # exact, as the engine booked it
        for at in (at_a, at_b):
            assert at - fill_a.fill.timestamp < 1000, "a screen saw the fill late"
        # both accounts show the position; neither screen's view moved to the other's symbol
        for client in (a, b):
            await until(client, lambda s: any(p.symbol == BTC for p in s.account.positions),
                        timeout=2)
        assert (a.snapshot().symbol, b.snapshot().symbol) == (BTC, ETH)
        a.submit(ClosePosition(BTC))
        await until(a, lambda s: not s.account.positions, timeout=15)


async def test_a_read_only_screen_cannot_trade_or_stop_the_engine(engine: EngineProcess) -> None:
    ignored: list[CommandIgnored] = []
    async with attached(engine.socket, role="read-only") as watcher, \
            attached(engine.socket) as trader:
        watcher.add_listener(lambda e: isinstance(e, CommandIgnored) and ignored.append(e))
        await until(watcher, lambda s: s.market.book is not None and s.account is not None)
        fills: list[Event] = []
        trader.add_listener(lambda e: isinstance(e, OrderFilled) and fills.append(e))
        watcher.submit(_buy("0.001"))
        await until(watcher, lambda s: bool(ignored), timeout=10)
        assert "read-only" in ignored[0].reason and "PlaceOrder" in ignored[0].reason
        with pytest.raises(RequestFailed, match="read-only"):
            await watcher.ask("stop")
        await asyncio.sleep(1.0)  # had the order gone through, it would have filled by now
        assert not fills and not trader.snapshot().account.orders
        assert not trader.snapshot().account.positions
        status = await watcher.ask("status")  # a read-only screen may ask what runs
        assert status["pid"] == engine.proc.pid and status["clients"] >= 2
    assert engine.proc.poll() is None


def test_a_client_of_another_protocol_version_is_refused_with_a_clear_reason(
    engine: EngineProcess,
) -> None:
    with raw_connect(engine.socket) as sock:
        answer = raw_hello(sock, protocol=PROTOCOL + 1)
        assert isinstance(answer, Refused)
        assert "protocol mismatch" in answer.reason
        assert f"speaks protocol {PROTOCOL}" in answer.reason and f"{PROTOCOL + 1}" in answer.reason
        assert raw_read(sock) is None  # and the engine closed the connection
    with raw_connect(engine.socket) as sock:  # a first frame that is not a hello
        raw_send(sock, Subscribe(BTC, "1m"))
        answer = raw_read(sock)
        assert isinstance(answer, Refused) and "expected a hello" in answer.reason


def _next(sock: socket.socket, kind: type) -> object:
    while True:  # skip the views and events streaming meanwhile
        frame = raw_read(sock)
        assert frame is not None, f"connection closed before a {kind.__name__}"
        if isinstance(frame, kind):
            return frame


async def test_malformed_and_oversized_frames_are_rejected_and_other_clients_go_on(
    engine: EngineProcess,
) -> None:
    async with attached(engine.socket) as other:
        await until(other, lambda s: s.market.book is not None)
        sock = raw_connect(engine.socket)
        with sock:
            assert isinstance(raw_hello(sock), Welcome)
            sock.sendall(len(b"\xc1\x00junk").to_bytes(4, "big") + b"\xc1\x00junk")
            rejected = _next(sock, Rejected)
            assert "malformed frame" in rejected.reason  # type: ignore[attr-defined]
            raw_send(sock, Cmd("RmRfSlash", {}))
            assert "unknown command 'RmRfSlash'" in _next(sock, Rejected).reason  # type: ignore[attr-defined]
            bad = command_frame(_buy("0.001"))
            bad.args["request"]["quantity"] = "a lot"
            raw_send(sock, bad)
            assert "bad PlaceOrder command" in _next(sock, Rejected).reason  # type: ignore[attr-defined]
            assert isinstance(_next(sock, View), View)  # the session goes on
            seq = other.snapshot().seq
            sock.sendall((1 << 30).to_bytes(4, "big"))  # announces 1 GiB: refused unread
            assert "over the" in _next(sock, Rejected).reason  # type: ignore[attr-defined]
            assert isinstance(_next(sock, Bye), Bye)
            assert raw_read(sock) is None
        # the other screen never noticed: it keeps receiving views and can trade
        await until(other, lambda s: s.seq > seq + 5)
        fills: list[Event] = []
        other.add_listener(lambda e: isinstance(e, OrderFilled) and fills.append(e))
        other.submit(_buy("0.001"))
        await until(other, lambda s: bool(fills), timeout=15)
        other.submit(ClosePosition(BTC))
        await until(other, lambda s: not s.account.positions, timeout=15)
    assert engine.proc.poll() is None


def test_the_codec_refuses_what_is_not_a_core_command() -> None:
    from tradeterm.wire.codec import command_of

    with pytest.raises(CodecError, match="unknown command"):
        command_of(Cmd("os.system", {"command": "true"}))


async def test_a_client_that_never_reads_is_dropped_and_fills_go_on(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path, backlog_kb=16)
    try:
        await engine.ready()
        stuck = raw_connect(engine.socket)
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        assert isinstance(raw_hello(stuck), Welcome)
        async with attached(engine.socket) as trader:
            await until(trader, lambda s: s.market.book is not None)
            # Each new subscription sends the candle history again; the stuck client asks
            # for it over and over and reads nothing.
            for i in range(40):
                try:
                    raw_send(stuck, Subscribe(BTC, ("1m", "5m")[i % 2], book_depth=50))
                except (BrokenPipeError, ConnectionResetError):
                    break  # dropped already (a subscription's view goes at once)
                await asyncio.sleep(0.05)
            deadline = time.monotonic() + 30
            while "dropped: not reading" not in engine.log_text():
                assert time.monotonic() < deadline, "the stuck client was never dropped"
                await asyncio.sleep(0.2)
            fills: list[Event] = []
            trader.add_listener(lambda e: isinstance(e, OrderFilled) and fills.append(e))
            trader.submit(_buy("0.001"))
            await until(trader, lambda s: bool(fills), timeout=15)
        # the stuck socket was aborted: reading drains what was queued, then ends
        stuck.settimeout(10)
        with pytest.raises((ConnectionResetError, AssertionError)):
            while raw_read(stuck) is not None:
                pass
            raise AssertionError("ended")
        stuck.close()
        assert engine.proc.poll() is None
    finally:
        engine.stop()
