"""Run a :class:`SimServer` on its own event loop in a daemon thread.

For callers that are not async (the TUI's demo mode, benchmarks, synchronous tests): the server
keeps its own loop, so the caller's loop (or lack of one) never stalls the exchange.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tradeterm.core.models import ReplayStatus
from tradeterm.sim.server import SimServer


class ThreadedSim:
    """Handle of a simulator running in a background thread."""

    def __init__(self, sim: SimServer, loop: asyncio.AbstractEventLoop,
                 thread: threading.Thread) -> None:
        self.sim = sim
        self._loop = loop
        self._thread = thread

    @classmethod
    def start(cls, seed: int = 42, replay: Path | str | Sequence[Path | str] | None = None,
              speed: float = 1.0,
              **kwargs: Any) -> ThreadedSim:
        """Start and block until the server is listening (``kwargs`` go to SimServer)."""
        sim = SimServer(seed=seed, replay=replay, speed=speed, **kwargs)
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(sim.start())
            except BaseException as e:  # report start failures to the caller
                failure.append(e)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        thread = threading.Thread(target=main, name="tradeterm-sim", daemon=True)
        thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return cls(sim, loop, thread)

    @property
    def port(self) -> int:
        return self.sim.port

    @property
    def base_url(self) -> str:
        return self.sim.base_url

    @property
    def replay_status(self) -> ReplayStatus | None:
        """Where the replay is (None: a synthetic market). The server replaces this value on
        its own loop, so reading it from another thread is safe."""
        return self.sim.replay_status

    def replay_control(self, action: str, factor: float = 1.0) -> ReplayStatus:
        """:meth:`SimServer.replay_control` on the simulator's loop (blocks: call in a thread)."""
        return self.call(self.sim.replay_control, action, factor)

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 30.0) -> Any:
        """Run ``fn(*args)`` on the simulator's loop and return its result (awaited if it is
        awaitable)."""

        async def run() -> Any:
            result = fn(*args)
            if inspect.isawaitable(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def stop(self) -> None:
        """Stop the server and its thread (idempotent)."""
        if self._loop.is_closed() or not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self.sim.stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
