"""Shared helpers for the paper broker's specifications: one symbol, a settable clock."""

from __future__ import annotations

from decimal import Decimal

from tradeterm.broker.paper import PaperBroker
from tradeterm.broker.rules import MarketRules
from tradeterm.config import PaperSettings
from tradeterm.core.models import BookSnapshot, Trade

SYMBOL = "BTC/USDT"
RULES = MarketRules(SYMBOL, tick=Decimal("0.01"), step=Decimal("0.001"), min_qty=Decimal("0.001"),
                    max_qty=Decimal("100"), min_notional=Decimal("5"))


class Clock:
    """A simulated clock in ms; tests move it explicitly."""

    def __init__(self, now: int = 1_700_000_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def make_broker(clock: Clock, latency_ms: int = 0, taker: str = "0.001", maker: str = "0.0005",
                balance: str = "10000") -> PaperBroker:
    settings = PaperSettings(taker_fee=Decimal(taker), maker_fee=Decimal(maker),
                             latency_ms=latency_ms, starting_balance=Decimal(balance))
    return PaperBroker({SYMBOL: RULES}, settings, clock)


def book(bids: list[tuple[float, float]], asks: list[tuple[float, float]]) -> BookSnapshot:
    return BookSnapshot(SYMBOL, bids=tuple(bids), asks=tuple(asks))


_trade_ids = iter(range(1, 10**9))


def trade(price: float, amount: float, side: str, ts: int = 0) -> Trade:
    return Trade(str(next(_trade_ids)), ts, price, amount, side)  # type: ignore[arg-type]
