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
from collections.abc import Callable
from typing import Any

from tradeterm.config import Settings
from tradeterm.core.commands import Command, ReplayControl
from tradeterm.core.events import Event, ReplayFinished
from tradeterm.core.models import FeedStatus, ReplayStatus
from tradeterm.exchange.health import FeedHealth

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
        self._file = settings.sim.replay
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
            status = await asyncio.to_thread(sim.replay_control, command.action, command.factor)
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
            name = self._file.name if self._file is not None else "the replay file"
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
