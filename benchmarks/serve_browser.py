"""``tradeterm serve`` in headless Chromium: time to prices on the first load, and the bytes per
second the browser receives while nobody types, at 120x40 and 240x70 (the sizes of
``benchmarks/terminal_load.py``, whose figure is what a terminal receives).

Runs ``tradeterm --demo serve --port 0`` in a temporary data directory, opens the page in the
Debian ``chromium`` over the DevTools protocol (``tests/cdp.py``), waits until the status bar
shows a price, then resizes the page to each terminal size and counts the websocket bytes.

    uv run --extra test python benchmarks/serve_browser.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from cdp import Chromium, chromium_path  # noqa: E402

PRICE = re.compile(r"BTC/USDT \d+\.\d{2}\b")


async def _wait(chromium: Chromium, ok: object, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    screen = ""
    while time.monotonic() < deadline:
        screen = await chromium.screen_text() or ""
        if callable(ok) and ok(screen):
            return screen
        await asyncio.sleep(0.1)
    raise SystemExit(f"timed out; the screen:\n{screen}")


async def _resize(chromium: Chromium, cols: int, rows: int) -> tuple[int, int]:
    """Resize the page so xterm.js fits ``cols`` x ``rows`` cells (or as close as it gets)."""
    cell = await chromium.evaluate(
        "(() => { const r = document.querySelector('.xterm-screen').getBoundingClientRect();"
        " return [r.width, r.height]; })()")
    size = await chromium.terminal_size()
    assert size is not None
    width, height = cell[0] / size[0], cell[1] / size[1]
    await chromium.send("Emulation.setDeviceMetricsOverride", {
        "width": int(cols * width + 4), "height": int(rows * height + 4),
        "deviceScaleFactor": 1, "mobile": False})
    await asyncio.sleep(2)
    got = await chromium.terminal_size()
    assert got is not None
    return got


async def main(seconds: float) -> None:
    browser = chromium_path()
    if browser is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "XDG_DATA_HOME": str(Path(tmp) / "xdg")}
        env.pop("TRADETERM_SERVE_TOKEN", None)
        serve = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tradeterm", "--demo", "serve", "--port", "0",
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            env=env, cwd=tmp)
        assert serve.stdout is not None
        banner = (await serve.stdout.readline()).decode()
        found = re.search(r"(http://\S+/)", banner)
        assert found, banner
        chromium = Chromium(browser, Path(tmp) / "profile")
        try:
            await chromium.start()
            started = time.monotonic()
            await chromium.navigate(found.group(1))
            await _wait(chromium, lambda s: PRICE.search(s.split("\n", 1)[0]), 60)
            first = time.monotonic() - started
            size = await chromium.terminal_size()
            print(f"first load to prices: {first:.2f} s (page, a new tradeterm process and its "
                  f"demo engine) at {size[0]}x{size[1]}" if size else f"first load: {first:.2f} s")
            for cols, rows in ((120, 40), (240, 70)):
                got = await _resize(chromium, cols, rows)
                await asyncio.sleep(3)  # the repaint after the resize is not idle traffic
                before = await chromium.evaluate("window.__tt.bytes")
                await asyncio.sleep(seconds)
                after = await chromium.evaluate("window.__tt.bytes")
                print(f"{got[0]}x{got[1]}: {(after - before) / seconds / 1024:.1f} KiB/s "
                      f"received by the browser while idle (over {seconds:.0f} s)")
        finally:
            await chromium.close()
            serve.send_signal(signal.SIGTERM)
            await serve.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    asyncio.run(main(parser.parse_args().seconds))
