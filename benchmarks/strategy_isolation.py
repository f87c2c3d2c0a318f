"""Bar-close overhead of strategy isolation (worker processes) against in-process evaluation.

    uv run --extra test python benchmarks/strategy_isolation.py [--bars 200] [--window 1000]

For each shipped strategy in ``strategies/``, on generated 1-minute candles, a 1,000-bar
window slid one bar at a time:
- before: in-process, as the engine did before isolation (``asyncio.to_thread``: frame from the
  candles, ``evaluate``, the last bar's signals);
- after: ``StrategyEngine.on_bar_closed`` with that strategy alone in its worker process (frame
  encoded as Arrow IPC, sent over the pipe, evaluated, signals back).
Bars alternate between the two (so other load falls on both alike). Prints p50/p99 of both
and the overhead: the median of the per-bar differences (budget: at most 5 ms), then the
worker's start (load + look-ahead guard) time and memory (RSS; private = not shared with the
forkserver and the other workers).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from tradeterm.config import StrategySettings
from tradeterm.core.models import Candle
from tradeterm.indicators.frame import candles_frame, synthetic_candles
from tradeterm.strategy.engine import StrategyEngine
from tradeterm.strategy.loader import load_file, strategy_files
from tradeterm.strategy.signals import last_bar_signals

ROOT = Path(__file__).resolve().parents[1]
BUDGET_MS = 5.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def private_mb(pid: int) -> float:
    total = 0
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total / 1024


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def bench(file: Path, candles: list[Candle], window: int, bars: int) -> None:
    [cls] = load_file(file)
    symbol = cls.symbols[0] if cls.symbols else "BTC/USDT"
    instance = cls()

    def in_process(chunk: list[Candle]) -> object:
        return last_bar_signals(instance.evaluate(candles_frame(chunk)), cls.name, symbol,
                                cls.timeframe)

    settings = StrategySettings(dir=file.parent, enabled=[cls.name])
    engine = StrategyEngine(settings, lambda _: None, lambda: 0)
    engine._watcher.poll = lambda: ({file.resolve()}, set())  # type: ignore[method-assign]
    start = time.perf_counter()
    await engine.reload_changed()  # this file only: load + guard in a fresh worker
    started_s = time.perf_counter() - start
    pid = engine.worker_pid(cls.name)
    assert pid is not None, engine.health()
    # Interleaved (one bar in-process, the same bar isolated), so load from other processes on
    # the machine falls on both alike.
    before: list[float] = []
    after: list[float] = []
    for i in range(bars):
        chunk = candles[i:i + window]
        start = time.perf_counter()
        await asyncio.to_thread(in_process, chunk)
        before.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        await engine.on_bar_closed(symbol, cls.timeframe, chunk)
        after.append((time.perf_counter() - start) * 1000)
    rss, private = rss_mb(pid), private_mb(pid)
    await engine.close()

    b50, b99, a50, a99 = pct(before, .5), pct(before, .99), pct(after, .5), pct(after, .99)
    paired = pct([a - b for a, b in zip(after, before, strict=True)], .5)  # same bar, both ways
    verdict = "ok" if paired <= BUDGET_MS else "OVER BUDGET"
    print(f"{cls.name:<20} {b50:8.2f} {b99:8.2f} {a50:8.2f} {a99:8.2f} {paired:+9.2f} "
          f"{verdict:<11} {started_s:7.2f} {rss:7.0f} {private:8.0f}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=200, help="bar closes per strategy")
    parser.add_argument("--window", type=int, default=1000, help="bars in each frame")
    parser.add_argument("--strategies", type=Path, default=ROOT / "strategies")
    args = parser.parse_args()
    frame = synthetic_candles(args.window + args.bars, seed=3)
    candles = [Candle(*row) for row in frame.iter_rows()]
    print(f"{args.bars} bar closes on a {args.window}-bar window; ms per bar close "
          f"(before = in-process thread, after = worker process); budget +{BUDGET_MS:g} ms p50")
    print(f"{'strategy':<20} {'in p50':>8} {'in p99':>8} {'iso p50':>8} {'iso p99':>8} "
          f"{'overhead':>9} {'':<11} {'start s':>7} {'RSS MB':>7} {'priv MB':>8}")
    for file in strategy_files(args.strategies):
        await bench(file, candles, args.window, args.bars)


if __name__ == "__main__":
    asyncio.run(main())
