"""Shared helpers for the UI tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from textual.app import App


def screen_text(app: App) -> str:
    """The characters currently composed on the app's screen, one line per row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def wait_for(pilot, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``predicate`` (letting the app run) until true; fail with a clear message."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await pilot.pause(0.05)
        await asyncio.sleep(0)
