"""Helpers (no tests here) for engine/feed integration tests: a running Engine on the simulator,
event capture and polling with a generous deadline (never fixed sleeps, never timing asserts)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from tradeterm.config import Settings
from tradeterm.core.commands import Shutdown
from tradeterm.core.events import Event
from tradeterm.engine import Engine

DEADLINE_S = 25.0


def settings(**feed: Any) -> Settings:
    feed = {"history_bars": 60, "backoff_initial_s": 0.05, "backoff_max_s": 0.5, **feed}
    return Settings(feed=feed)


async def until(predicate: Callable[[], Any], what: str, timeout: float = DEADLINE_S) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class Running:
    """An engine running in the test's loop, with every event it published."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.events: list[Event] = []
        engine.add_listener(self.events.append)

    def of(self, cls: type, **match: Any) -> list[Any]:
        return [
            e for e in self.events
            if isinstance(e, cls) and all(getattr(e, k) == v for k, v in match.items())
        ]

    def stream(self, name: str) -> Any:
        for health in self.engine.snapshot().streams:
            if health.stream == name:
                return health
        return None


@contextlib.asynccontextmanager
async def running_engine(
    base_url: str | None, config: Settings | None = None, **kwargs: Any
) -> AsyncIterator[Running]:
    """An Engine running as a task; ``base_url`` None: it starts its own simulator (demo)."""
    engine = Engine(config or settings(), sim_base_url=base_url, **kwargs)
    run = Running(engine)
    task = asyncio.create_task(engine.run())
    try:
        yield run
    finally:
        engine.submit(Shutdown())
        await asyncio.wait_for(task, DEADLINE_S)
