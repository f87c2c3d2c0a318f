"""The simulator's WebSocket protocol seen by a plain aiohttp client (no ccxt)."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from tradeterm.sim import ThreadedSim

pytestmark = pytest.mark.integration


async def _next_json(ws: aiohttp.ClientWebSocketResponse, predicate) -> dict:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        msg = await asyncio.wait_for(ws.receive(), 20)
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        data = json.loads(msg.data)
        if predicate(data):
            return data
    raise AssertionError("no matching message")


async def test_combined_stream_payloads_and_subscribe_acks(sim) -> None:
    url = f"ws://127.0.0.1:{sim.port}/stream?streams=btcusdt@depth@100ms/ethusdt@trade"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        first = await _next_json(ws, lambda d: d.get("stream") == "btcusdt@depth@100ms")
        assert first["data"]["e"] == "depthUpdate" and "pu" not in first["data"]
        assert "E" in first["data"]
        second = await _next_json(ws, lambda d: d.get("stream") == "btcusdt@depth@100ms")
        assert second["data"]["U"] == first["data"]["u"] + 1

        await ws.send_str(json.dumps({"method": "SUBSCRIBE", "params": ["solusdt@kline_1m"],
                                      "id": 7}))
        ack = await _next_json(ws, lambda d: d.get("id") == 7)
        assert ack == {"result": None, "id": 7}
        kline = await _next_json(ws, lambda d: d.get("stream") == "solusdt@kline_1m")
        assert kline["data"]["k"]["i"] == "1m" and kline["data"]["s"] == "SOLUSDT"

        await ws.send_str(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 8}))
        listed = await _next_json(ws, lambda d: d.get("id") == 8)
        assert set(listed["result"]) == {"btcusdt@depth@100ms", "ethusdt@trade",
                                         "solusdt@kline_1m"}

        await ws.send_str(json.dumps({"method": "SUBSCRIBE", "params": ["nope@trade"],
                                      "id": 9}))
        err = await _next_json(ws, lambda d: d.get("id") == 9)
        assert err["error"]["code"] == 2 and "result" not in err
        await ws.send_str("{not json")
        err = await _next_json(ws, lambda d: "error" in d and d.get("id") is None)
        assert err["error"]["code"] == 3


async def test_raw_stream_path_and_http_fault_endpoint(sim) -> None:
    url = f"ws://127.0.0.1:{sim.port}/ws/btcusdt@aggTrade"
    async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
        trade = await _next_json(ws, lambda d: True)
        assert trade["e"] == "aggTrade" and isinstance(trade["m"], bool)
        r = await http.post(f"{sim.base_url}/_sim/fault/drop_all_sockets")
        assert (await r.json())["ok"] is True
        msg = await asyncio.wait_for(ws.receive(), 20)
        while msg.type == aiohttp.WSMsgType.TEXT:  # frames already in flight
            msg = await asyncio.wait_for(ws.receive(), 20)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED,
                            aiohttp.WSMsgType.CLOSING)
        r = await http.post(f"{sim.base_url}/_sim/fault/nonsense")
        assert r.status == 404


def test_threaded_sim_serves_and_stops() -> None:
    import urllib.request

    handle = ThreadedSim.start(seed=1)
    try:
        with urllib.request.urlopen(f"{handle.base_url}/api/v3/time", timeout=10) as resp:
            assert "serverTime" in json.loads(resp.read())
        handle.sim.pause()
        first = handle.call(handle.sim.book, "BTCUSDT")
        time.sleep(0.3)
        assert handle.call(handle.sim.book, "BTCUSDT") == first  # paused: nothing moves
        handle.sim.resume()
        handle.sim.faults.skip_depth_update("BTCUSDT")
    finally:
        handle.stop()
