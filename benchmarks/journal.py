"""Durable fills per second through the real JournalWriter (budget: 5,000/s).

Two figures, both with ``synchronous=FULL`` (fsync at every commit) in a temporary file:
- burst: N fills submitted at once by asyncio tasks, each awaiting ``commit`` (group commit);
- one at a time: each fill awaited before the next is sent (one transaction per fill: the
  disk's fsync latency is the limit, which is why the engine never waits like this).
Run: ``uv run python benchmarks/journal.py [N]``.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from tradeterm.core.trading import Fill, Liquidity
from tradeterm.journal import JournalWriter

BUDGET = 5_000


def _fill(i: int) -> Fill:
    return Fill(f"f{i}", f"o{i % 97}", "BTC/USDT", "buy" if i % 2 else "sell",
                Decimal("64990.12") + Decimal(i % 100) / 100, Decimal("0.00123"),
                Decimal("0.0799378476"), Liquidity.TAKER, 1_700_000_000_000 + i)


async def _burst(writer: JournalWriter, n: int) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(writer.commit(_fill(i)) for i in range(n)))
    return n / (time.perf_counter() - start)


async def _sequential(writer: JournalWriter, n: int, offset: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        await writer.commit(_fill(offset + i))
    return n / (time.perf_counter() - start)


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, JournalWriter(Path(tmp) / "j.sqlite") as writer:
        burst = await _burst(writer, n)
        seq = await _sequential(writer, min(n, 500), n)
    verdict = "ok" if burst >= BUDGET else "OVER BUDGET"
    print(f"durable fills/s, burst of {n} (group commit, synchronous=FULL): {burst:,.0f} "
          f"(budget {BUDGET:,}/s: {verdict})")
    print(f"durable fills/s, one at a time (one fsync each): {seq:,.0f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000))
