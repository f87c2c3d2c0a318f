"""The replay sandbox's market: a replay :class:`SimServer` on the engine's own loop, driven by a
:class:`PacedReplay` (``tradeterm --replay FILE``; see docs/replay.md).

Why on the engine's loop and not in a thread like the demo simulator: the replay waits for the
engine at every bar close anyway (it never outruns it), so nothing is gained by a second loop,
and one loop makes "the engine has seen this print" a plain check instead of a cross-thread
handshake. The replay clock (held at each print's time) is the engine's clock: fills, orders,
signals, equity points and the trading day are stamped with the replayed bars' time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from tradeterm.config import Settings
from tradeterm.core.models import ReplayStatus
from tradeterm.sim.paced import EngineGate, PacedReplay
from tradeterm.sim.server import SimServer

log = logging.getLogger(__name__)


class ReplaySandbox:
    """Handle of the running replay: ``base_url`` to connect to, ``now_ms`` the replay clock,
    ``replay_status``/``replay_control`` for the replay keys (call on the engine's loop)."""

    in_loop = True  # ReplayController calls replay_control directly, not in a thread

    def __init__(self, server: SimServer, replay: PacedReplay) -> None:
        self.server = server
        self.replay = replay
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, settings: Settings, gate: EngineGate) -> ReplaySandbox:
        """Load the replay files, listen on loopback and start playing once ``gate.ready()``.
        The book is quoted at the backtester's ``slippage_ticks`` around each price, so market
        and stop fills carry the slippage the backtester charges."""
        sim = settings.sim
        server = SimServer(seed=sim.seed, replay=list(sim.replay_files), speed=sim.speed,
                           replay_from_ms=sim.replay_from_ms)
        await server.start()
        try:
            replay = PacedReplay(server, gate, sim.speed,
                                 slippage_ticks=max(1, settings.backtest.slippage_ticks))
        except Exception:
            await server.stop()
            raise
        sandbox = cls(server, replay)
        sandbox._task = asyncio.create_task(sandbox._play(), name="replay:play")
        return sandbox

    async def _play(self) -> None:
        try:
            await self.replay.run()
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in the replay must not take the engine down
            log.exception("the replay failed")
            self.replay.finished = True
            self.replay.control("pause")

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def now_ms(self) -> int:
        return self.server.now_ms()

    @property
    def replay_status(self) -> ReplayStatus:
        return self.replay.status

    def replay_control(self, action: str, factor: float = 1.0) -> ReplayStatus:
        return self.replay.control(action, factor)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.server.stop()
