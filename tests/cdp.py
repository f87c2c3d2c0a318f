"""A headless Chromium driven over the Chrome DevTools Protocol, just enough for the browser test
of ``tradeterm serve``: open a page, evaluate JavaScript, read what the terminal shows.

Raw CDP over aiohttp's websocket client (already a dependency) instead of playwright: no driver
to download, and the Debian ``chromium`` package is the browser.

textual-serve's page draws the terminal with xterm.js on a canvas, and keeps the ``Terminal`` in
a closure. ``HOOK`` runs before the page's scripts and notes every object that assigns
``_core`` (xterm's public ``Terminal`` does, in its constructor); ``SCREEN_TEXT`` picks the one
with a buffer and reads its visible rows as text. It also counts the bytes the page receives
on its websockets.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-default-apps", "--disable-extensions", "--mute-audio",
    "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
]

HOOK = """
window.__tt = {objects: [], bytes: 0, firstByteAt: null};
Object.defineProperty(Object.prototype, '_core', {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, '_core', {value, writable: true, configurable: true,
                                          enumerable: true});
    window.__tt.objects.push(this);
  },
});
const PageWebSocket = window.WebSocket;
window.WebSocket = class extends PageWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', (event) => {
      if (typeof event.data !== 'string') {
        window.__tt.bytes += event.data.byteLength;
        if (window.__tt.firstByteAt === null) window.__tt.firstByteAt = performance.now();
      }
    });
  }
};
"""

_FIND_TERMINAL = """
  const isTerminal = (o) => {
    try { return typeof o.cols === 'number' && typeof o.buffer.active.getLine === 'function'; }
    catch (e) { return false; }
  };
  const term = (window.__tt ? window.__tt.objects : []).find(isTerminal);
"""

SCREEN_TEXT = "(() => {" + _FIND_TERMINAL + """
  if (!term) return null;
  const buffer = term.buffer.active, rows = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    rows.push(line ? line.translateToString(true) : '');
  }
  return rows.join('\\n');
})()"""

SCREEN_SIZE = "(() => {" + _FIND_TERMINAL + "return term ? [term.cols, term.rows] : null; })()"


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        if found := shutil.which(name):
            return found
    return None


class Chromium:
    """One headless Chromium process with one page, driven over CDP."""

    def __init__(self, executable: str, profile: Path, window: tuple[int, int] = (1600, 1000)
                 ) -> None:
        self._window = window
        self._executable = executable
        self._profile = profile
        self._process: subprocess.Popen[bytes] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._session: str | None = None

    async def start(self) -> None:
        self._process = subprocess.Popen(
            [self._executable, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}",
             "--window-size={},{}".format(*self._window), "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        port_file = self._profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self._process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self._process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("chromium did not open its DevTools port within 30 s")
            await asyncio.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0)
        self._reader = asyncio.create_task(self._read())
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send("Target.attachToTarget",
                                   {"targetId": target["targetId"], "flatten": True})
        self._session = attached["sessionId"]
        await self.send("Page.enable")
        await self.send("Page.addScriptToEvaluateOnNewDocument", {"source": HOOK})

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            future = self._pending.pop(data.get("id", -1), None)
            if future is not None and not future.done():
                future.set_result(data)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(RuntimeError("the DevTools connection closed"))

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        assert self._ws is not None
        call_id = next(self._ids)
        message: dict[str, Any] = {"id": call_id, "method": method, "params": params or {}}
        if self._session is not None and not method.startswith("Target."):
            message["sessionId"] = self._session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        await self._ws.send_str(json.dumps(message))
        reply = await asyncio.wait_for(future, 30)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        result: dict[str, Any] = reply.get("result", {})
        return result

    async def navigate(self, url: str) -> None:
        await self.send("Page.navigate", {"url": url})

    async def evaluate(self, expression: str) -> Any:
        reply = await self.send("Runtime.evaluate",
                                {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in reply:
            raise RuntimeError(f"page error: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    async def terminal_size(self) -> tuple[int, int] | None:
        """The terminal's (columns, rows) as xterm.js fitted it to the page."""
        size = await self.evaluate(SCREEN_SIZE)
        return (size[0], size[1]) if isinstance(size, list) else None

    async def screen_text(self) -> str | None:
        text = await self.evaluate(SCREEN_TEXT)
        return text if isinstance(text, str) else None

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
        if self._http is not None:
            await self._http.close()
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)


def in_ci() -> bool:
    return bool(os.environ.get("CI"))
