"""How fast a replay goes when it is not paced: ``tradeterm --replay FILE --speed 1e9``.

A replay never outruns the engine (``docs/replay.md``): each bar close waits for the strategies'
evaluation and the desk, so its top speed is the engine's. Prints milliseconds per bar for a
flat engine (no strategy: only the bar closes and the opening book are awaited) and with one
strategy in its worker process (evaluated on every close, trading: its prints are confirmed).

    uv run python benchmarks/replay_speed.py [BARS]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from tradeterm.config import Settings
from tradeterm.core.commands import Shutdown
from tradeterm.core.events import Event, ReplayFinished
from tradeterm.engine import Engine

REPO = Path(__file__).resolve().parents[1]
START = 1_704_067_200_000


def candles(bars: int) -> pl.DataFrame:
    rng = np.random.default_rng(11)
    i = np.arange(bars)
    moves = np.round(rng.normal(0, np.where(np.sin(i / 25.0) > 0.3, 4.0, 1.2))).astype(np.int64)
    close = 10_000 + np.cumsum(moves)
    open_ = np.concatenate(([10_000], close[:-1]))
    return pl.DataFrame({
        "timestamp_ms": START + i * 60_000, "open": open_ / 100,
        "high": (np.maximum(open_, close) + 1) / 100, "low": (np.minimum(open_, close) - 1) / 100,
        "close": close / 100, "volume": 40_000.0 + 25_000 * np.abs(moves),
    })


async def one(bars: int, strategy: str | None) -> float:
    tmp = Path(tempfile.mkdtemp())
    file = tmp / "BTCUSDT_1m.parquet"
    candles(bars).write_parquet(file)
    settings = Settings(
        data_dir=tmp / "data", symbols=["BTC/USDT"], demo=True,
        sim={"replay": file, "speed": 1e9}, feed={"history_bars": 60},
        strategies={"dir": REPO / "strategies", "enabled": [strategy] if strategy else []},
        risk={"max_orders_per_minute": 10_000},
    )
    engine = Engine(settings)
    done = asyncio.Event()

    def finished(event: Event) -> None:
        if isinstance(event, ReplayFinished):
            done.set()

    engine.add_listener(finished)
    task = asyncio.create_task(engine.run())
    while (status := engine.snapshot().replay) is None or status.position_ms == START:
        await asyncio.sleep(0.001)  # timed from the first bar close: not the start-up
    began = time.perf_counter()
    await done.wait()
    elapsed = time.perf_counter() - began
    engine.submit(Shutdown())
    await task
    return elapsed / (bars - 1) * 1000


def main() -> None:
    bars = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    for strategy in (None, "rsi_reversion"):
        ms = asyncio.run(one(bars, strategy))
        print(f"replay of {bars} 1m bars, {strategy or 'no strategy'}: {ms:.2f} ms per bar "
              f"({60_000 / ms:,.0f}x real time)")


if __name__ == "__main__":
    main()
