"""Lockstep replay: the replay market advanced one print at a time, each step waiting on a gate
until the client has seen it. For the live/backtest parity test (``docs/backtest.md``).

Why: the timed replay prints a bar's trades within one 100 ms step and its book follows the
makers' model, so what a client fills at depends on which WebSocket message it handled first.
Lockstep removes the race and gives the market exactly the shape the backtester models:

* at each bar's open the book is quoted at ``open ± slippage`` (one level a side, deep enough
  for any order), and only then does the previous bar close (its kline, then the new bar's):
  a market order sent on that close fills at the next bar's open plus the slippage;
* the bar's trades walk every tick of :func:`~tradeterm.sim.replay.tick_path`; before each print
  the book is re-quoted at ``print ± slippage``, so a stop triggered by the print at its price
  fills at ``stop ∓ slippage``, and a resting target fills at its price when touched;
* the bar's volume is split over its prints, so the client's candles equal the file's.

The gate is the client's business (the test polls the engine's market state); the clock is held
at each print's time, so a client using :meth:`SimServer.now_ms` as its clock stamps fills with
the bar they belong to.
"""

from __future__ import annotations

from typing import Protocol

from tradeterm.sim.market import StepOutput
from tradeterm.sim.replay import ReplayDriver, tick_path
from tradeterm.sim.server import SimServer

TOUCH_STEPS = 10**12
"""Quantity (in lot steps) at each side's single level: no order walks past it."""


class Gate(Protocol):
    """What the client confirms before the market moves on."""

    async def book(self, bid: float, ask: float) -> None:
        """The client's book shows this best bid and ask."""

    async def trade(self, trade_id: int) -> None:
        """The client has handled the trade with this id (and those before it)."""

    async def bar(self, open_ms: int) -> None:
        """The client has seen the bar opening at ``open_ms`` (so the one before closed) and
        finished reacting to that close."""


class LockstepReplay:
    """Drive a started replay :class:`SimServer` in lockstep (it is paused for good)."""

    def __init__(self, server: SimServer, gate: Gate, slippage_ticks: int = 1) -> None:
        driver = server._driver
        if driver is None:
            raise ValueError("lockstep needs a replay simulator")
        self.server = server
        self.gate = gate
        self.driver: ReplayDriver = driver
        self.slip = slippage_ticks
        self.symbol = next(s for s, m in server.markets.items() if m.driver is driver)
        self.market = server.markets[self.symbol]
        self._quoted: tuple[int, int] | None = None
        server.pause()

    def _hold(self, ms: int) -> None:
        self.server.clock.freeze(ms)

    async def _quote(self, price: int) -> None:
        """One level a side at ``price ± slippage``; published, then confirmed by the gate."""
        bid, ask = price - self.slip, price + self.slip
        if self._quoted == (bid, ask):
            return
        book = self.market.book
        for is_bid in (True, False):
            for level in [p for p, _ in book.side(is_bid).levels()]:
                book.set(is_bid, level, 0)
        book.set(True, bid, TOUCH_STEPS)
        book.set(False, ask, TOUCH_STEPS)
        self._quoted = (bid, ask)
        self.server.publish(self.symbol, StepOutput([], []), self.server.now_ms())
        spec = self.market.spec
        await self.gate.book(float(spec.price_str(bid)), float(spec.price_str(ask)))

    async def run(self, bars: int | None = None) -> None:
        """Play the first ``bars`` bars (default: all). The last one played never closes: a
        close would ask for a reaction at an open the file does not have."""
        count = len(self.driver) if bars is None else min(bars, len(self.driver))
        m, server = self.market, self.server
        for row in range(count):
            t0, o, h, low, c, volume = self.driver.bar(row)
            self._hold(t0)
            out = StepOutput([], [])
            m._roll(t0, out)  # the previous bar closes here (all intervals)
            await self._quote(o)
            server.publish(self.symbol, out, t0)
            server._slow_push()  # the new bar's kline now: the client sees the close
            await self.gate.bar(t0)
            path = tick_path(o, h, low, c)
            share, extra = divmod(volume, len(path))
            prev = o
            for j, price in enumerate(path):
                qty = share + (1 if j < extra else 0)
                if qty <= 0:
                    continue
                t = t0 + j * self.driver.interval // len(path)
                self._hold(t)
                await self._quote(price)
                buys = price > prev or (price == prev and j % 2 == 0)
                printed = m._print(t, price, qty, buyer_maker=not buys)
                server.publish(self.symbol, StepOutput([printed], []), t)
                await self.gate.trade(printed.id)
                prev = price
