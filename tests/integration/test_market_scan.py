"""The venue beyond the watchlist, against the real simulator through unmodified ccxt: every
listed symbol (``market.symbols``), the scanner's rows (``market.scan``) sorted by each key
against the simulator's own 24 h tickers, and ``AddToWatchlist`` reaching the feed and the
config file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from tradeterm.config import load_settings
from tradeterm.core.commands import AddToWatchlist
from tradeterm.core.events import CommandIgnored, WatchlistChanged
from tradeterm.core.models import EnginePhase
from tradeterm.service.local import local_answerer
from tradeterm.sim import SimServer
from tradeterm.wire.remote import RequestFailed

from test_engine_harness import running_engine, settings, until

pytestmark = pytest.mark.integration


async def sim_tickers(sim: SimServer) -> dict[str, dict]:
    """The simulator's own 24 h tickers, by ccxt symbol (BASE/QUOTE from its exchangeInfo)."""
    async with aiohttp.ClientSession() as http:
        info = await (await http.get(f"{sim.base_url}/api/v3/exchangeInfo")).json()
        raw = await (await http.get(f"{sim.base_url}/api/v3/ticker/24hr")).json()
    names = {s["symbol"]: f"{s['baseAsset']}/{s['quoteAsset']}" for s in info["symbols"]}
    return {names[t["symbol"]]: t for t in raw}


def expected_order(tickers: dict[str, dict], key: str, quote: str | None = None) -> list[str]:
    def value(t: dict) -> Decimal:
        if key == "change":
            return Decimal(t["priceChangePercent"])
        if key == "volume":
            return Decimal(t["quoteVolume"])
        return (Decimal(t["highPrice"]) - Decimal(t["lowPrice"])) / Decimal(t["lastPrice"])

    chosen = [(s, t) for s, t in tickers.items()
              if quote is None or s.endswith(f"/{quote}")]
    return [s for s, t in sorted(chosen, key=lambda st: (-value(st[1]), st[0]))]


async def test_scan_sorts_the_whole_venue_by_each_key_as_the_simulator_states_it(sim):
    async with running_engine(sim.base_url) as run:
        engine = run.engine
        engine.answerer = local_answerer(engine)
        await until(lambda: engine.snapshot().phase is EnginePhase.RUNNING, "running")
        sim.pause()  # the market holds still: the engine's tickers and ours are the same
        listed = await engine.ask("market.symbols")
        assert len(listed["symbols"]) == len(sim.listed) > 30
        assert {"ADA/USDT", "PEPE/USDT", "ETH/BTC"} <= set(listed["symbols"])
        assert listed["watchlist"] == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]

        theirs = await sim_tickers(sim)
        for key in ("change", "volume", "volatility"):
            answer = await engine.ask("market.scan", {"sort": key})
            rows = answer["rows"]
            assert [r["symbol"] for r in rows] == expected_order(theirs, key), key
            assert answer["markets"] == len(theirs)
            for row in rows:  # exact: the simulator's own strings, the range exactly divided
                t = theirs[row["symbol"]]
                assert Decimal(row["last"]) == Decimal(t["lastPrice"])
                assert Decimal(row["change_pct"]) == Decimal(t["priceChangePercent"])
                assert Decimal(row["quote_volume"]) == Decimal(t["quoteVolume"])
                span = (Decimal(t["highPrice"]) - Decimal(t["lowPrice"])) / Decimal(t["lastPrice"])
                assert abs(Decimal(row["volatility"]) - span) <= Decimal("0.000000005")
        btc = await engine.ask("market.scan", {"sort": "volume", "quote": "BTC"})
        assert [r["symbol"] for r in btc["rows"]] == expected_order(theirs, "volume", "BTC")
        assert btc["rows"] and all(r["symbol"].endswith("/BTC") for r in btc["rows"])
        # asked five times within seconds: the venue was asked once (weight 80 on Binance)
        assert engine.venue_tickers.fetches == 1
        with pytest.raises(RequestFailed, match="sort"):
            await engine.ask("market.scan", {"sort": "price"})


CONFIG = """\
# my desk
symbols = [
    "BTC/USDT",  # the big one
    "ETH/USDT",
]
timeframe = "1m"   # keep

[strategies]
enabled = []   # none today
"""


async def test_add_to_watchlist_follows_the_market_and_rewrites_only_symbols(
        sim: SimServer, tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    config = load_settings(path, data_dir=tmp_path, feed=settings().feed.model_dump())
    async with running_engine(sim.base_url, config) as run:
        engine = run.engine
        await until(lambda: engine.snapshot().phase is EnginePhase.RUNNING, "running")
        assert "ADAUSDT" not in sim.markets  # quiet until someone looks
        engine.submit(AddToWatchlist("ADA/USDT"))
        changed = await until(lambda: run.of(WatchlistChanged), "the watchlist changed")
        assert changed[0].saved == str(path) and changed[0].problem is None
        assert engine.snapshot().symbols == ("BTC/USDT", "ETH/USDT", "ADA/USDT")
        # the tickers stream follows: the simulator's quiet market now moves and reports
        await until(lambda: any(t.symbol == "ADA/USDT" and t.last
                                for t in engine.snapshot().tickers), "ADA's ticker")
        assert "ADAUSDT" in sim.markets
        assert path.read_text() == CONFIG.replace(
            '    "ETH/USDT",\n', '    "ETH/USDT",\n    "ADA/USDT",\n')
        assert load_settings(path).symbols == ["BTC/USDT", "ETH/USDT", "ADA/USDT"]

        engine.submit(AddToWatchlist("ADA/USDT"))
        engine.submit(AddToWatchlist("NOPE/USDT"))
        ignored = await until(lambda: len(run.of(CommandIgnored)) >= 2 and run.of(CommandIgnored),
                              "both refused")
        assert "already in the watchlist" in ignored[0].reason
        assert "does not list NOPE/USDT" in ignored[1].reason

        path.chmod(0o444)  # read-only: the watchlist still changes, for this session
        try:
            engine.submit(AddToWatchlist("DOGE/USDT"))
            note = await until(lambda: len(run.of(WatchlistChanged)) == 2
                               and run.of(WatchlistChanged)[1], "DOGE added")
        finally:
            path.chmod(0o644)
        assert note.saved is None and "not writable" in note.problem
        assert "session" in note.problem and "\n" not in note.problem
        assert "DOGE/USDT" in engine.snapshot().symbols
        assert "DOGE" not in path.read_text()
