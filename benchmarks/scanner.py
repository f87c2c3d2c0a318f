"""What the market scanner costs: the simulator's quiet markets and the venue's tickers.

    uv run python benchmarks/scanner.py [--rounds 5]

Prints, for a fresh simulator (its own loop, as in the demo): the start; one 100 ms market step
of the three active symbols with and without the quiet markets listed (they must cost nothing
until used); the first all-symbol ``GET /api/v3/ticker/24hr`` (it builds the quiet markets)
and the longest the market loop waited meanwhile; a later one; and ccxt's ``fetch_tickers``
through the engine's ``VenueTickers`` (fetch, parse, exact rows) and ``scan`` sorting them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time


async def _one(quiet: bool) -> dict[str, float]:
    import aiohttp

    from tradeterm.sim import SimServer

    t0 = time.perf_counter()
    sim = SimServer(seed=7, quiet=quiet)
    await sim.start()
    out = {"start_ms": (time.perf_counter() - t0) * 1000}
    sim.pause()  # time the steps by hand: the same work the loop does every 100 ms
    steps = []
    now = sim.now_ms()
    for k in range(1, 51):
        s = time.perf_counter()
        for m in sim.markets.values():
            m.advance(now + 100 * k)
        steps.append((time.perf_counter() - s) * 1000)
    out["step_ms_median"] = statistics.median(steps)
    sim.resume()
    if quiet:
        gaps: list[float] = []
        stop = asyncio.Event()

        async def watch() -> None:  # how long the loop goes without running us
            last = time.perf_counter()
            while not stop.is_set():
                await asyncio.sleep(0.001)
                now_ = time.perf_counter()
                gaps.append((now_ - last) * 1000)
                last = now_

        watcher = asyncio.create_task(watch())
        async with aiohttp.ClientSession() as http:
            s = time.perf_counter()
            await (await http.get(f"{sim.base_url}/api/v3/ticker/24hr")).json()
            out["first_all_tickers_ms"] = (time.perf_counter() - s) * 1000
            stop.set()
            await watcher
            out["loop_max_gap_ms"] = max(gaps)
            s = time.perf_counter()
            await (await http.get(f"{sim.base_url}/api/v3/ticker/24hr")).json()
            out["later_all_tickers_ms"] = (time.perf_counter() - s) * 1000
        from tradeterm.core.scan import scan
        from tradeterm.exchange.client import create_exchange
        from tradeterm.exchange.venue_tickers import VenueTickers

        exchange = create_exchange("binance", sim_base_url=sim.base_url)
        try:
            await exchange.load_markets()
            venue = VenueTickers(refresh_s=0.0)
            s = time.perf_counter()
            rows = await venue.get(exchange)
            out["venue_tickers_ms"] = (time.perf_counter() - s) * 1000
            s = time.perf_counter()
            for key in ("change", "volume", "volatility"):
                scan(rows, key)  # type: ignore[arg-type]
            out["scan_3_sorts_ms"] = (time.perf_counter() - s) * 1000
        finally:
            await exchange.close()
    await sim.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    for quiet in (False, True):
        results = [asyncio.run(_one(quiet)) for _ in range(rounds)]
        print(f"quiet markets {'listed' if quiet else 'off'} ({rounds} rounds, median [min-max]):")
        for key in results[0]:
            values = [r[key] for r in results]
            print(f"  {key:22} {statistics.median(values):8.2f} "
                  f"[{min(values):.2f}-{max(values):.2f}]")


if __name__ == "__main__":
    main()
