"""The replay a trader runs (``tradeterm --replay FILE``): lockstep, paced by a speed.

A replay must never outrun the engine: the same candles give the same trades at any speed, and
those trades equal the backtester's (``docs/replay.md``, ``docs/backtest.md``). So the market is
the lockstep one (``sim.lockstep``, the parity test's): each bar opens with the book at
``open ± slippage`` and only then does the previous bar close; the engine's reaction to that
close (strategies evaluated, signals through risk, broker and journal) is awaited before the
bar's first trade; the bar's trades walk its price path with the book re-quoted around each
print. On top of that, :class:`PacedReplay`:

* waits for wall time to catch up with the replay clock at the chosen speed (never the other
  way round: a slow engine slows the replay, it is never skipped past);
* plays several files (symbols) on one clock, their prints merged in time order;
* pauses, resumes, steps one bar and changes speed (the replay keys), and publishes a
  :class:`ReplayStatus` the engine mirrors into its snapshot;
* confirms a print with the engine only while the engine trades that symbol (an order or a
  position: a stop or a target may fill on it); a flat engine needs only the bar closes and the
  opening book, which keeps a long replay cheap.

A bar whose path is longer than ``max_prints`` ticks is printed on a coarser path through the
same open, extremes and close (every tick of a real BTC minute would be thousands of prints):
a stop between two prints then fills at the print beyond it, as in a real gap; the backtester
fills it at the stop (the difference ``docs/backtest.md`` names).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tradeterm.core.models import ReplayStatus
from tradeterm.sim import wire
from tradeterm.sim.clock import MAX_SPEED, MIN_SPEED
from tradeterm.sim.lockstep import TOUCH_STEPS
from tradeterm.sim.market import StepOutput, SymbolMarket
from tradeterm.sim.replay import ReplayDriver, tick_path, waypoints
from tradeterm.sim.server import SimServer
from tradeterm.sim.spec import INTERVAL_MS

log = logging.getLogger(__name__)

MAX_PRINTS = 240
"""Prints per bar at most (a longer tick path is walked in coarser, even steps)."""

REANCHOR_S = 0.25
"""Behind the paced schedule by more than this (a slow engine, a pause): start a new schedule
from here instead of rushing to catch up."""


class EngineGate(Protocol):
    """What the engine confirms before the market moves on (symbols are exchange ids,
    ``BTCUSDT``)."""

    async def ready(self) -> set[str]:
        """The engine is connected, its journal open and its strategies loaded; returns the
        streams (``btcusdt@trade``) it needs before the first bar."""

    def trading(self, market_id: str) -> bool:
        """The engine has an order or a position on this symbol (prints must be confirmed)."""

    async def book(self, market_id: str, bid: float, ask: float) -> None:
        """The engine's book of the symbol shows this best bid and ask."""

    async def trade(self, market_id: str, trade_id: int) -> None:
        """The engine has handled this trade (and those before it)."""

    async def bar(self, closed: list[tuple[str, str, int]]) -> None:
        """The engine has seen these ``(market id, timeframe, new bar's open)`` bars close and
        finished reacting to them."""


@dataclass(frozen=True, slots=True)
class _Print:
    t: int
    order: int  # the symbol's place in the replay: ties in time keep a fixed order
    symbol: str
    price: int
    qty: int
    buys: bool


def coarse_path(o: int, h: int, low: int, c: int, max_prints: int) -> list[int]:
    """:func:`tick_path`, or for a longer one an even walk through the same waypoints with at
    most about ``max_prints`` prints (every waypoint printed exactly)."""
    path = tick_path(o, h, low, c)
    if len(path) <= max_prints:
        return path
    points = waypoints(o, h, low, c)
    legs = [abs(b - a) for a, b in zip(points, points[1:], strict=False)]
    total = sum(legs) or 1
    out = [points[0]]
    for (a, b), span in zip(zip(points, points[1:], strict=False), legs, strict=True):
        steps = max(1, round(span * (max_prints - 1) / total)) if span else 0
        out.extend(a + round(j * (b - a) / steps) for j in range(1, steps + 1))
    return out


class PacedReplay:
    """Drive a started replay :class:`SimServer` (paused for good: its timed loop never moves
    these markets) bar by bar, paced at ``speed``, waiting on ``gate``. Run :meth:`run` as a
    task on the server's loop; :meth:`control` from the same loop."""

    def __init__(self, server: SimServer, gate: EngineGate, speed: float,
                 slippage_ticks: int = 1, max_prints: int = MAX_PRINTS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if not server.drivers:
            raise ValueError("a paced replay needs a replay simulator")
        intervals = {d.interval for d in server.drivers.values()}
        if len(intervals) > 1:
            raise ValueError("replayed files must share one bar interval")
        self.server = server
        self.gate = gate
        self.speed = speed
        self._start_speed = speed  # the bounds of a speed change keep a start speed outside them
        self.slip = slippage_ticks
        self.max_prints = max_prints
        self.interval = intervals.pop()
        self._monotonic = monotonic
        self._drivers: dict[str, ReplayDriver] = dict(server.drivers)
        self._markets: dict[str, SymbolMarket] = {s: server.markets[s] for s in self._drivers}
        self._order = {s: i for i, s in enumerate(self._drivers)}
        self._quoted: dict[str, tuple[int, int]] = {}
        self._playing = asyncio.Event()
        self._playing.set()
        self._pause_after: int | None = None  # step: pause once the bar after this one opened
        self._anchor: tuple[float, int] | None = None  # (wall, replay ms) of the pacing schedule
        self.finished = False
        first = min(d.start_ms for d in self._drivers.values())
        self.position_ms = first
        self.status = ReplayStatus(paused=False, speed=speed, position_ms=first)
        server.pause()
        server.clock.freeze(first)

    # -- control (the replay keys) ---------------------------------------------------------------

    def control(self, action: str, factor: float = 1.0) -> ReplayStatus:
        """``pause``, ``resume``, ``step`` (play the current bar to its close, then pause) or
        ``speed`` (times ``factor``, bounded like the timed replay's clock)."""
        if action == "pause":
            self._playing.clear()
        elif action == "resume":
            self._pause_after = None
            self._anchor = None
            self._playing.set()
        elif action == "step":
            self._pause_after = self.position_ms
            self._anchor = None
            self._playing.set()
        elif action == "speed":
            if not factor > 0:
                raise ValueError(f"speed factor must be positive, got {factor}")
            low, high = min(MIN_SPEED, self._start_speed), max(MAX_SPEED, self._start_speed)
            self.speed = min(high, max(low, self.speed * factor))
            self._anchor = None
        else:
            raise ValueError(f"unknown replay action {action!r}")
        return self._refresh()

    @property
    def paused(self) -> bool:
        return self.finished or not self._playing.is_set()

    def _refresh(self) -> ReplayStatus:
        status = ReplayStatus(paused=self.paused, speed=self.speed,
                              position_ms=self.position_ms, finished=self.finished)
        self.status = status
        return status

    # -- pacing ----------------------------------------------------------------------------------

    async def _at(self, t: int) -> None:
        """Wait while paused, then until wall time reaches replay time ``t`` at the speed."""
        if not self._playing.is_set():
            self._refresh()
            await self._playing.wait()
        now = self._monotonic()
        if self._anchor is None:
            self._anchor = (now, t)
        wall0, t0 = self._anchor
        delay = wall0 + (t - t0) / 1000 / self.speed - now
        if delay < -REANCHOR_S:
            self._anchor = (now, t)
        elif delay > 0.001:
            await asyncio.sleep(delay)
        self.server.clock.freeze(t)

    # -- the market ------------------------------------------------------------------------------

    async def _quote(self, symbol: str, price: int, confirm: bool) -> None:
        """One level a side at ``price ± slippage``, published (and confirmed if asked)."""
        bid, ask = price - self.slip, price + self.slip
        if self._quoted.get(symbol) == (bid, ask):
            return
        market = self._markets[symbol]
        book = market.book
        for is_bid in (True, False):
            for level in [p for p, _ in book.side(is_bid).levels()]:
                book.set(is_bid, level, 0)
        book.set(True, bid, TOUCH_STEPS)
        book.set(False, ask, TOUCH_STEPS)
        self._quoted[symbol] = (bid, ask)
        self.server.publish(symbol, StepOutput([], []), self.server.now_ms())
        if confirm and self.server.hub.wanted(f"{symbol.lower()}@depth@100ms"):
            spec = market.spec
            await self.gate.book(symbol, float(spec.price_str(bid)), float(spec.price_str(ask)))

    async def _wait_streams(self, streams: set[str], timeout_s: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not all(self.server.hub.wanted(s) for s in streams):
            if loop.time() > deadline:
                missing = sorted(s for s in streams if not self.server.hub.wanted(s))
                log.warning("replay starts without the engine on %s", ", ".join(missing))
                return
            await asyncio.sleep(0.005)

    async def run(self) -> None:
        """Play every file to its end (the last bar is printed, never closed: its close would
        ask for a reaction at an open the files do not have), then stay finished."""
        await self._wait_streams(await self.gate.ready())
        opens = np.unique(np.concatenate([d._t for d in self._drivers.values()]))
        rows = {s: {int(t): i for i, t in enumerate(d._t)} for s, d in self._drivers.items()}
        for t0 in (int(t) for t in opens):
            await self._at(t0)
            await self._drain()
            closed: list[tuple[str, str, int]] = []
            bars: dict[str, int] = {}
            for symbol, row_of in rows.items():
                row = row_of.get(t0)
                if row is None:
                    continue
                bars[symbol] = row
                out = StepOutput([], [])
                self._markets[symbol]._roll(t0, out)  # the previous bar closes (all intervals)
                await self._quote(symbol, self._drivers[symbol].bar(row)[1], confirm=True)
                self.server.publish(symbol, out, t0)
                closed += [(symbol, _interval_name(c.interval), t0) for c in out.closed
                           if self.server.hub.wanted(
                               f"{symbol.lower()}@kline_{_interval_name(c.interval)}")]
            self._push_klines(bars, t0)  # the new bars' klines now: the engine sees the closes
            self.position_ms = t0
            self._refresh()
            if closed:
                await self.gate.bar(closed)
            if self._pause_after is not None and t0 > self._pause_after:
                self._pause_after = None
                self._playing.clear()
                self._refresh()
            await self._play_prints(self._prints(t0, bars))
        self.finished = True
        self._refresh()

    def _push_klines(self, symbols: Collection[str], now: int) -> None:
        """The open candle of every interval of ``symbols`` (what the server's once-a-second
        push sends, without its 24 h tickers of every market: those stay once a second)."""
        hub = self.server.hub
        for symbol in symbols:
            market = self._markets[symbol]
            low = symbol.lower()
            for interval, candles in market.candles.items():
                name = f"{low}@kline_{interval}"
                if hub.wanted(name):
                    hub.publish(name, wire.kline_event(market.spec, interval, candles.current,
                                                       now, False))

    async def _drain(self, most: int = 1_000) -> None:
        """Let the sockets' outboxes drain (a flat engine confirms no prints: back-pressure)."""
        while any(len(c.outbox) > most for c in self.server.hub.conns if not c.closed):
            await asyncio.sleep(0.001)

    def _prints(self, t0: int, bars: dict[str, int]) -> list[_Print]:
        prints: list[_Print] = []
        for symbol, row in bars.items():
            _, o, h, low, c, volume = self._drivers[symbol].bar(row)
            path = coarse_path(o, h, low, c, self.max_prints)
            share, extra = divmod(volume, len(path))
            prev = o
            for j, price in enumerate(path):
                qty = share + (1 if j < extra else 0)
                if qty > 0:
                    buys = price > prev or (price == prev and j % 2 == 0)
                    t = t0 + j * self.interval // len(path)
                    prints.append(_Print(t, self._order[symbol], symbol, price, qty, buys))
                    prev = price
        prints.sort(key=lambda p: (p.t, p.order))
        return prints

    async def _play_prints(self, prints: list[_Print]) -> None:
        for p in prints:
            await self._at(p.t)
            confirm = self.gate.trading(p.symbol)
            await self._quote(p.symbol, p.price, confirm)
            market = self._markets[p.symbol]
            printed = market._print(p.t, p.price, p.qty, buyer_maker=not p.buys)
            self.server.publish(p.symbol, StepOutput([printed], []), p.t)
            if confirm and self.server.hub.wanted(f"{p.symbol.lower()}@trade"):
                await self.gate.trade(p.symbol, printed.id)


def _interval_name(ms: int) -> str:
    for name, value in INTERVAL_MS.items():
        if value == ms:
            return name
    raise ValueError(ms)
