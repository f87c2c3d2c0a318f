"""Bar replay control for the engine (``tradeterm --replay FILE``).

The replay is the in-process simulator playing a candle file on its own clock; the engine drives
that clock (``ReplayControl``: pause, resume, step one bar, speed) and mirrors where it is as
``EngineSnapshot.replay``. Kept out of ``engine.py`` so the engine only wires it in.

Why a poll: the simulator runs on its own thread and loop and replaces an immutable
``ReplayStatus`` as it plays; reading it a few times a second costs nothing and needs no
cross-thread callback. Two things ride on the poll: the end of the file is announced once
(:class:`ReplayFinished`), and while the replay is paused the (silent on purpose) streams are
kept CONNECTED, so a pause is not reported as a lost feed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from typing import Any

from tradeterm.config import Settings
from tradeterm.core.commands import Command, ReplayControl
from tradeterm.core.events import Event, ReplayFinished
from tradeterm.core.models import EnginePhase, FeedStatus, ReplayStatus
from tradeterm.exchange.health import FeedHealth
from tradeterm.market.state import MarketState

log = logging.getLogger(__name__)

POLL_S = 0.2
"""How often the simulator's replay status is read."""


class ReplayController:
    """Handles :class:`ReplayControl`; ``status`` and ``version`` feed the engine's snapshot."""

    def __init__(
        self,
        settings: Settings,
        sim: Callable[[], Any],
        health: FeedHealth,
        publish: Callable[[Event], None],
        clock: Callable[[], int],
        ignore: Callable[[Command, str], None],
    ) -> None:
        self._files = settings.sim.replay_files
        self._stale_ms = int(settings.feed.stale_after_s * 1000)
        self._sim = sim  # the engine's ThreadedSim handle, or None (not started, or not ours)
        self._health = health
        self._publish = publish
        self._clock = clock
        self._ignore = ignore
        self.status: ReplayStatus | None = None
        self.version = 0

    async def handle(self, command: ReplayControl) -> None:
        sim = self._sim()
        if sim is None or sim.replay_status is None:
            self._ignore(command, "no bar replay is running (start tradeterm with --replay FILE)")
            return
        try:
            if getattr(sim, "in_loop", False):  # the replay sandbox runs on the engine's loop
                status = sim.replay_control(command.action, command.factor)
            else:
                status = await asyncio.to_thread(sim.replay_control, command.action,
                                                 command.factor)
        except ValueError as exc:
            self._ignore(command, str(exc))
            return
        self._update(status)

    async def watch(self) -> None:
        """Follow the simulator's replay status until cancelled."""
        while True:
            sim = self._sim()
            if sim is not None:
                self._update(sim.replay_status)
            if self.status is not None and self.status.paused:
                self._keep_streams_connected()
            await asyncio.sleep(POLL_S)

    def _update(self, status: ReplayStatus | None) -> None:
        if status is None or status == self.status:
            return
        finished_before = self.status is not None and self.status.finished
        self.status = status
        self.version += 1
        if status.finished and not finished_before:
            name = ", ".join(f.name for f in self._files) or "the replay file"
            self._publish(ReplayFinished(self._clock(), file=name))

    def _keep_streams_connected(self) -> None:
        """A paused market sends no trades nor book diffs: that silence is ours, not a stale
        feed. Count it as a message every half stale period (rarely, so no redraw storm)."""
        now = self._clock()
        for health in self._health.streams():
            last = health.last_message_ms
            if (health.status is FeedStatus.CONNECTED and last is not None
                    and now - last > self._stale_ms // 2):
                self._health.message((health.stream, health.symbol))


GATE_POLL_S = 0.0005
"""How often the gate looks at the engine's state while the replay waits on it."""

GATE_TIMEOUT_S = 30.0
"""Longest wait for one confirmation: past it the replay goes on (and says so in the log), so a
lost message (a stream reconnecting) cannot freeze a replay for good."""


class EngineGate:
    """The engine's side of the paced replay (``tradeterm.sim.paced``): what the engine has seen
    and whether it has finished reacting. Reads only the engine's own state, on its loop.

    ``symbol_of`` maps an exchange id (``BTCUSDT``) to the engine's symbol (``BTC/USDT``);
    ``ready`` is None until the engine can trade, then the stream names it needs first;
    ``evaluating`` is true while a bar close is being evaluated; ``trading`` the symbols with an
    order or a position."""

    def __init__(
        self,
        state: MarketState,
        symbol_of: Callable[[str], str | None],
        ready: Callable[[], set[str] | None],
        evaluating: Callable[[], bool],
        trading: Callable[[], Collection[str]],
    ) -> None:
        self._state = state
        self._symbol_of = symbol_of
        self._ready = ready
        self._evaluating = evaluating
        self._trading = trading

    async def _until(self, ok: Callable[[], bool], what: str,
                     timeout_s: float = GATE_TIMEOUT_S) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        spins = 0
        while not ok():
            if loop.time() > deadline:
                log.warning("replay: the engine did not see %s within %.0f s; going on",
                            what, timeout_s)
                return
            spins += 1
            await asyncio.sleep(0 if spins < 50 else GATE_POLL_S)

    async def ready(self) -> set[str]:
        streams: list[set[str]] = []

        def ok() -> bool:
            wanted = self._ready()
            if wanted is None:
                return False
            streams.append(wanted)
            return True

        await self._until(ok, "its start", timeout_s=600.0)
        return streams[-1] if streams else set()

    def trading(self, market_id: str) -> bool:
        symbol = self._symbol_of(market_id)
        return symbol is not None and symbol in self._trading()

    async def book(self, market_id: str, bid: float, ask: float) -> None:
        symbol = self._symbol_of(market_id)
        if symbol is None:
            return

        def ok() -> bool:
            book = self._state.book(symbol)
            return bool(book and book.bids and book.asks and book.bids[0][0] == bid
                        and book.asks[0][0] == ask)

        await self._until(ok, f"the {symbol} book {bid}/{ask}")

    async def trade(self, market_id: str, trade_id: int) -> None:
        symbol = self._symbol_of(market_id)
        if symbol is None:
            return

        def ok() -> bool:
            trades = self._state.trades(symbol)
            return bool(trades) and max(int(t.id) for t in trades[-5:]) >= trade_id

        await self._until(ok, f"{symbol} trade {trade_id}")

    async def bar(self, closed: list[tuple[str, str, int]]) -> None:
        keys = [(s, tf, t) for m, tf, t in closed if (s := self._symbol_of(m)) is not None]

        def ok() -> bool:
            for symbol, timeframe, open_ms in keys:
                bars = self._state.candles(symbol, timeframe)
                if not bars or bars[-1].open_time < open_ms:
                    return False
            return not self._evaluating()

        await self._until(ok, "the bar close")


def engine_gate(engine: Any) -> EngineGate:
    """The gate of ``engine`` (a :class:`tradeterm.engine.Engine`; typed loosely because this
    layer sits below it). It reads the engine's connection, journal, strategies and market
    state (``_market_symbols``: the books and trades it watches, ``_candle_keys``: the
    strategies' candles, and the chart's); nothing here changes them."""

    def symbol_of(market_id: str) -> str | None:
        exchange = engine._exchange
        found = getattr(exchange, "markets_by_id", None) or {}
        markets = found.get(market_id)
        if not markets:
            return None
        market = markets[0] if isinstance(markets, list) else markets
        return str(market["symbol"])

    def ready() -> set[str] | None:
        exchange = engine._exchange
        if (engine.snapshot().phase is not EnginePhase.RUNNING or exchange is None
                or not engine.desk.ready or engine.strategies is None):
            return None
        markets = exchange.markets
        books = engine._market_symbols()
        if any(engine.state.book(s) is None for s in books):
            return None
        keys = set(engine._candle_keys())
        chart = (getattr(engine, "_symbol", None), getattr(engine, "_timeframe", None))
        if chart[0] is not None and chart[1] is not None:  # the chart's candles, if it has one
            keys.add(chart)
        ids = {s: str(markets[s]["id"]).lower() for s in books | {s for s, _ in keys}
               if s in markets}
        streams = {f"{ids[s]}@{kind}" for s in books for kind in ("trade", "depth@100ms")}
        return streams | {f"{ids[s]}@kline_{tf}" for s, tf in keys if s in ids}

    return EngineGate(engine.state, symbol_of, ready, lambda: bool(engine.evaluating),
                      engine.desk.symbols_in_use)
