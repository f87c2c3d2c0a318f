"""ReaderGuard: an exception escaping a ccxt socket callback resets that socket, nothing else."""

from __future__ import annotations

import asyncio
import json

from ccxt.async_support.base.ws.client import Client

from tradeterm.exchange.wsguard import MalformedMessage, ReaderGuard, ccxt_client_of


def make_client() -> tuple[Client, list[BaseException]]:
    errors: list[BaseException] = []
    noop = lambda *a: None  # noqa: E731
    client = Client("ws://127.0.0.1:1/stream/ws/1", noop, noop, noop, noop, {})
    client.on_error = errors.append  # record instead of closing a socket that never opened
    return client, errors


async def fire_done_callback(callback) -> None:
    fut = asyncio.get_running_loop().create_future()
    fut.add_done_callback(callback)
    fut.set_result(None)
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_reader_callback_failure_resets_that_client_with_malformed_message():
    client, errors = make_client()

    def after_interrupt(_fut):  # the shape of ccxt's receive_loop callback: a closure over self
        client.url  # noqa: B018
        json.loads("{not json")

    guard = ReaderGuard()
    guard.install(asyncio.get_running_loop())
    try:
        await fire_done_callback(after_interrupt)
    finally:
        guard.uninstall()
    assert len(errors) == 1 and isinstance(errors[0], MalformedMessage)
    assert "JSONDecodeError" in str(errors[0]) and guard.resets == 1


async def test_other_callback_failures_go_to_the_previous_handler():
    seen: list[dict] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, ctx: seen.append(ctx))
    guard = ReaderGuard()
    guard.install(loop)
    try:

        def unrelated(_fut):
            raise RuntimeError("not ccxt")

        await fire_done_callback(unrelated)
    finally:
        guard.uninstall()
        restored = loop.get_exception_handler()
        loop.set_exception_handler(previous)
    assert [type(c["exception"]) for c in seen] == [RuntimeError]
    assert restored is not None and restored is not guard._handle  # the old one is back


async def test_client_found_through_bound_method_too():
    client, _ = make_client()

    class Handle:
        _callback = client.receive_loop

    assert ccxt_client_of(Handle()) is client
    assert ccxt_client_of(None) is None
