"""The watchlist across attached screens, over the engine's real socket (a real headless engine
process on the demo market, ``RemoteEngine`` clients): a read-only screen may scan but not add;
a trader's addition reaches every screen's view and the engine's config file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from service_helpers import EngineProcess, attached, until

from tradeterm.core.commands import AddToWatchlist
from tradeterm.core.events import CommandIgnored, WatchlistChanged

pytestmark = pytest.mark.integration


async def test_a_trader_adds_for_every_screen_a_read_only_screen_only_looks(tmp_path: Path):
    engine = EngineProcess(tmp_path)
    config = tmp_path / "config.toml"
    before = config.read_text()
    try:
        await engine.ready()
        ignored: list[CommandIgnored] = []
        changed: list[WatchlistChanged] = []
        async with attached(engine.socket, role="read-only") as watcher, \
                attached(engine.socket) as trader:
            watcher.add_listener(lambda e: isinstance(e, CommandIgnored) and ignored.append(e))
            watcher.add_listener(lambda e: isinstance(e, WatchlistChanged) and changed.append(e))
            await until(watcher, lambda s: bool(s.symbols))
            scan = await watcher.ask("market.scan", {"sort": "volume"})  # looking is allowed
            assert len(scan["rows"]) > 30
            watcher.submit(AddToWatchlist("ADA/USDT"))
            await until(watcher, lambda s: bool(ignored), timeout=10)
            assert "read-only" in ignored[0].reason and "AddToWatchlist" in ignored[0].reason
            assert "ADA/USDT" not in trader.snapshot().symbols

            trader.submit(AddToWatchlist("ADA/USDT"))
            await until(watcher, lambda s: "ADA/USDT" in s.symbols, timeout=10)
            await until(watcher, lambda s: any(t.symbol == "ADA/USDT" and t.last
                                               for t in s.tickers), timeout=20)
            for _ in range(100):  # the event reaches every client
                if changed:
                    break
                await asyncio.sleep(0.05)
            assert changed and changed[0].saved == str(config)
        # the file had no symbols: the list in effect plus ADA, before its first table
        assert config.read_text() == before.replace(
            "[strategies]", 'symbols = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "ADA/USDT"]\n\n'
            "[strategies]", 1)
    finally:
        engine.stop()
