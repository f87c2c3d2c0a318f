"""A tiny scripted stand-in for a ccxt.pro client (unit tests only; integration uses the sim)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any


class ScriptedExchange:
    """Each method returns (or raises) the next scripted item, then waits forever."""

    def __init__(self, has_watch_tickers: bool = True, **scripts: list[Any]) -> None:
        self.has = {"watchTickers": has_watch_tickers}
        self.scripts = {name: list(items) for name, items in scripts.items()}
        self.calls: dict[str, int] = defaultdict(int)
        self.log: list[str] = []

    async def _next(self, name: str) -> Any:
        self.calls[name] += 1
        script = self.scripts.get(name)
        if not script:
            await asyncio.Event().wait()  # nothing more: like a quiet socket
        item = script.pop(0)
        await asyncio.sleep(0)
        if isinstance(item, BaseException):
            raise item
        return item

    async def fetch_ohlcv(self, symbol: str, timeframe: str, limit: int | None = None) -> Any:
        return await self._next("fetch_ohlcv")

    async def watch_ohlcv(self, symbol: str, timeframe: str) -> Any:
        return await self._next("watch_ohlcv")

    async def watch_order_book(self, symbol: str) -> Any:
        return await self._next("watch_order_book")

    async def watch_trades(self, symbol: str) -> Any:
        return await self._next("watch_trades")

    async def watch_tickers(self, symbols: list[str], params: Any = None) -> Any:
        return await self._next("watch_tickers")

    async def fetch_tickers(self, symbols: list[str]) -> Any:
        return await self._next("fetch_tickers")

    async def close(self) -> None:
        self.log.append("close")


def book(nonce: int, bid: float = 100.0, ask: float = 101.0) -> dict[str, Any]:
    return {"bids": [[bid, 1.0]], "asks": [[ask, 2.0]], "nonce": nonce, "timestamp": 1}


async def until(predicate: Any, timeout: float = 5.0) -> None:
    """Yield to the loop until ``predicate()`` holds (generous deadline, no fixed sleeps)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.001)
