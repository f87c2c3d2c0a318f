"""Fixtures shared by integration tests: a live simulator on loopback and a ccxt.pro client
pointed at it (unmodified ccxt; only its URLs are rewritten)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tradeterm.sim import SimServer


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    server = SimServer(seed=7)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def exchange(sim: SimServer) -> AsyncIterator[Any]:
    from tradeterm.exchange.client import create_exchange

    client = create_exchange("binance", sim_base_url=sim.base_url)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def fast_sim(tmp_path) -> AsyncIterator[SimServer]:
    """A simulator replaying generated 1m candles at 600x: a bar closes every 0.1 s."""
    from tradeterm.indicators.frame import synthetic_candles

    replay = tmp_path / "BTCUSDT_1m.parquet"
    synthetic_candles(3000, seed=5).rename({"open_time": "timestamp_ms"}).write_parquet(replay)
    server = SimServer(seed=7, replay=replay, speed=600)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
