"""Feed throughput and latency: simulator -> WebSocket -> ccxt.pro -> feed loop -> market state.

The simulator runs in a child process (as an exchange would: its own CPU, real loopback
sockets), with its synthetic market paused so the socket carries only the load below. The
parent runs the real :class:`tradeterm.engine.Engine` through unmodified ccxt. The child
publishes Binance ``trade`` events on ``btcusdt@trade`` (built by the simulator's own wire
functions), first at a fixed pace, then as fast as it can; the parent timestamps each trade as
it lands in market state. Both sides read the same wall clock (``time.time_ns``).

    uv run --extra test python benchmarks/feed_throughput.py [--count 50000] [--paced-rates 2000 10000]

Prints messages/s into market state, p50/p99/max latency, and how many of the sent trades
reached market state (ccxt keeps at most ``tradesLimit`` (1000) trades between two reads, so a
reader that falls behind loses the oldest: the printed count says whether that happened).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import time

FIRST_ID = 10**12  # far above the simulator's own trade ids


def _sim_process(port_q: mp.Queue, go: mp.Queue, done: mp.Queue) -> None:
    """Child: a paused simulator that floods ``btcusdt@trade`` on request."""
    from tradeterm.sim import SimServer
    from tradeterm.sim import wire
    from tradeterm.sim.market import Print

    async def main() -> None:
        sim = SimServer(seed=1)
        await sim.start()
        sim.pause()
        port_q.put(sim.port)
        loop = asyncio.get_running_loop()
        spec = sim.market("BTCUSDT").spec
        price = sim.market("BTCUSDT").last_price()
        next_id = FIRST_ID
        while True:
            job = await loop.run_in_executor(None, go.get)
            if job is None:
                break
            count, rate = job
            sent: list[tuple[int, int]] = []
            start = time.perf_counter()
            for i in range(count):
                if rate:  # paced: sleep until this message is due
                    due = start + i / rate
                    delay = due - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                elif i % 200 == 0:
                    # Flat out, but let the socket writers drain so the client is not cut off
                    # as a slow consumer (the simulator closes clients over 5,000 queued).
                    while any(len(c.outbox) > 2_000 for c in sim.hub.conns):
                        await asyncio.sleep(0.001)
                    await asyncio.sleep(0)
                now_ns = time.time_ns()
                p = Print(next_id, now_ns // 1_000_000, price, 1, bool(i % 2))
                sim.hub.publish("btcusdt@trade", wire.trade_event(spec, p, now_ns // 1_000_000))
                sent.append((next_id, now_ns))
                next_id += 1
            done.put(sent)
        await sim.stop()

    asyncio.run(main())


async def _measure(port: int, go: mp.Queue, done: mp.Queue, runs: list[tuple[str, int, int]]):
    from tradeterm.config import Settings
    from tradeterm.core.commands import Shutdown
    from tradeterm.core.models import EnginePhase
    from tradeterm.engine import Engine

    engine = Engine(Settings(symbols=["BTC/USDT"]), sim_base_url=f"http://127.0.0.1:{port}")
    received: dict[int, int] = {}
    original = engine.state.add_trades

    def add_trades(symbol, trades):  # type: ignore[no-untyped-def]
        trades = list(trades)
        now = time.time_ns()
        for t in trades:
            received.setdefault(int(t.id), now)
        return original(symbol, trades)

    engine.state.add_trades = add_trades  # type: ignore[method-assign]
    task = asyncio.create_task(engine.run())
    deadline = time.monotonic() + 60
    while not any(h.stream == "trades" for h in engine.snapshot().streams):
        if time.monotonic() > deadline or engine.snapshot().phase is EnginePhase.UNREACHABLE:
            raise SystemExit(f"engine did not connect: {engine.snapshot().error}")
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # let history, book and the subscription settle

    loop = asyncio.get_running_loop()
    # A warm-up burst (not reported) proves the subscription is live before measuring.
    for label, count, rate in [("warm-up", 200, 1000), *runs]:
        received.clear()
        go.put((count, rate))
        sent = await loop.run_in_executor(None, done.get)
        last_id = sent[-1][0]
        settle = time.monotonic() + 10
        while last_id not in received and time.monotonic() < settle:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        lat = sorted((received[i] - t) / 1e6 for i, t in sent if i in received)
        got = len(lat)
        span_s = (max(received.values()) - sent[0][1]) / 1e9 if received else float("nan")
        if label == "warm-up":
            if not got:
                raise SystemExit("no trade reached market state: is the trades stream up?")
            continue
        q = statistics.quantiles(lat, n=100) if got >= 100 else [float("nan")] * 99
        print(f"{label}: sent {count:,}, reached market state {got:,} "
              f"({got / count:.1%})")
        send_s = (sent[-1][1] - sent[0][1]) / 1e9
        print(f"    throughput {got / span_s:,.0f} msg/s into market state "
              f"(sent at {count / send_s:,.0f}/s{'' if rate else ', as fast as the simulator can'})")
        print(f"    latency ms: p50 {q[49]:.2f}  p99 {q[98]:.2f}  max {lat[-1] if lat else 0:.2f}")
    go.put(None)
    engine.submit(Shutdown())
    await task


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=50_000)
    parser.add_argument("--paced-rates", type=int, nargs="*", default=[2_000, 10_000])
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    port_q, go, done = ctx.Queue(), ctx.Queue(), ctx.Queue()
    child = ctx.Process(target=_sim_process, args=(port_q, go, done), daemon=True)
    child.start()
    port = port_q.get(timeout=60)
    runs = [("paced", min(args.count, rate * 5), rate) for rate in args.paced_rates]
    runs.append(("flat out", args.count, 0))
    asyncio.run(_measure(port, go, done, runs))
    child.join(timeout=10)


if __name__ == "__main__":
    main()
