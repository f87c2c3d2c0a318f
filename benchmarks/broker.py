"""Paper broker throughput: book updates absorbed with 100 resting orders, and a book walk.

Budget: 50,000 book updates per second with 100 resting orders (a busy symbol sends ~10-100
depth updates per second; the rest is headroom for several symbols and the UI). Books are
generated (20 levels a side, seeded), so the numbers do not depend on shared data.

    uv run python benchmarks/broker.py
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

from tradeterm.broker.paper import PaperBroker
from tradeterm.broker.rules import MarketRules
from tradeterm.config import PaperSettings
from tradeterm.core.models import BookSnapshot
from tradeterm.core.trading import OrderRequest, OrderType

SYMBOL = "BTC/USDT"
RULES = MarketRules(SYMBOL, Decimal("0.01"), Decimal("0.00001"), Decimal("0.00001"),
                    Decimal("9000"), Decimal("5"))
BUDGET_BOOKS_PER_S = 50_000


class _Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now


def _books(n: int, seed: int = 7) -> list[BookSnapshot]:
    rng = random.Random(seed)
    out = []
    mid = 65_000.0
    for _ in range(n):
        mid = round(mid + rng.choice((-0.5, 0.0, 0.5)), 2)
        bids = tuple((round(mid - 0.01 * (i + 1), 2), rng.randint(1, 200_000) / 100_000)
                     for i in range(20))
        asks = tuple((round(mid + 0.01 * (i + 1), 2), rng.randint(1, 200_000) / 100_000)
                     for i in range(20))
        out.append(BookSnapshot(SYMBOL, bids, asks))
    return out


def _broker(clock: _Clock) -> PaperBroker:
    broker = PaperBroker({SYMBOL: RULES}, PaperSettings(starting_balance=Decimal(10**9)), clock)
    broker.on_book(SYMBOL, _books(1)[0])
    for i in range(100):  # resting limits below/above the market and untriggered stops
        side = "buy" if i % 2 else "sell"
        offset = Decimal(500 + i)
        if i % 4 < 2:
            price = Decimal(65_000) - offset if side == "buy" else Decimal(65_000) + offset
            request = OrderRequest(SYMBOL, side, OrderType.LIMIT, Decimal("0.01"), price=price)
        else:
            stop = Decimal(65_000) + offset if side == "buy" else Decimal(65_000) - offset
            request = OrderRequest(SYMBOL, side, OrderType.STOP_MARKET, Decimal("0.01"),
                                   stop_price=stop)
        broker.submit(request)
    assert len(broker.working_orders()) == 100
    broker.drain_events()
    return broker


def main() -> None:
    clock = _Clock()
    broker = _broker(clock)
    books = _books(100_000)
    start = time.perf_counter()
    for snapshot in books:
        clock.now += 1
        broker.on_book(SYMBOL, snapshot)
    elapsed = time.perf_counter() - start
    rate = len(books) / elapsed
    verdict = "ok" if rate >= BUDGET_BOOKS_PER_S else "OVER BUDGET"
    print(f"book updates absorbed (100 resting orders): {rate:,.0f}/s "
          f"(budget {BUDGET_BOOKS_PER_S:,}/s) {verdict}")

    walks = 2_000
    start = time.perf_counter()
    for snapshot in books[:walks]:
        broker.on_book(SYMBOL, snapshot)
        broker.submit(OrderRequest(SYMBOL, "buy", OrderType.MARKET, Decimal("15")))
        broker.submit(OrderRequest(SYMBOL, "sell", OrderType.MARKET, Decimal("15")))
        broker.drain_events()
    per_walk = (time.perf_counter() - start) / (2 * walks) * 1e6
    print(f"market order walking ~15 of 20 levels: {per_walk:,.0f} µs per order")


if __name__ == "__main__":
    main()
