"""Foreground runner behind ``tradeterm sim``: serve until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

from tradeterm.sim.server import SimServer


def run(host: str, port: int, seed: int, replay: Path | Sequence[Path] | None,
        speed: float) -> None:
    """Serve until Ctrl-C, printing the URL to point ccxt at."""

    async def main() -> None:
        sim = SimServer(seed=seed, host=host, port=port, replay=replay, speed=speed)
        await sim.start()
        print(f"tradeterm simulator listening on {sim.base_url} "
              f"(ws://{host}:{sim.port}/ws, symbols {', '.join(sim.symbols)}); Ctrl-C stops",
              flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await sim.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
