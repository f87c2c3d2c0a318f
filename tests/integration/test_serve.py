"""``tradeterm serve``: the workstation in headless Chromium (prices show), and the door: no
non-loopback bind without a token, no request without it, no cross-site websocket, no rebound
Host. Real processes: ``tradeterm serve``, the ``tradeterm --demo`` it serves per browser tab
(with its in-process demo engine), the Debian ``chromium`` over the DevTools protocol."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import psutil
import pytest
from cdp import Chromium, chromium_path, in_ci

from tradeterm.journal.lock import engine_holding

pytestmark = pytest.mark.integration

TOKEN = "correct-horse-battery-staple-42"
SHOWN = re.compile(r"SOL/USDT \d{2,3}\.\d{2}\b")  # the status bar: the config's first symbol, live
BTC_ROW = re.compile(r"BTC/USDT +[3-9]\d{4}\.\d{2}\b")  # the watchlist: BTC from 65000.00, tick 0.01


def _config(tmp_path: Path) -> Path:
    """SOL first: the screen opening on SOL/USDT shows the served command got --config."""
    path = tmp_path / "cfg" / "serve.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f'data_dir = "{tmp_path / "data"}"\n'
                    'symbols = ["SOL/USDT", "BTC/USDT", "ETH/USDT"]\n')
    return path


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TRADETERM_SERVE_TOKEN"}
    return {**env, "XDG_DATA_HOME": str(tmp_path / "xdg"), **extra}


class Served:
    def __init__(self, process: asyncio.subprocess.Process, url: str, banner: str) -> None:
        self.process, self.url, self.banner = process, url, banner

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []


@asynccontextmanager
async def serving(tmp_path: Path, *serve_args: str, env: dict[str, str]) -> AsyncIterator[Served]:
    """``tradeterm --config ... --demo serve --port 0 ...`` until SIGTERM; then every process it
    started must be gone too (each browser session's ``tradeterm`` is told to quit)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tradeterm", "--config", str(_config(tmp_path)), "--demo",
        "serve", "--port", "0", *serve_args,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env, cwd=tmp_path,
    )
    assert process.stdout is not None and process.stderr is not None
    banner = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
    found = re.search(r"http://[^:/]+:(\d+)/", banner)
    assert found, banner + (await process.stderr.read()).decode()
    served = Served(process, f"http://127.0.0.1:{found.group(1)}/", banner)
    children: list[psutil.Process] = []
    try:
        yield served
    finally:
        children = served.descendants()
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        rest, errors = await asyncio.wait_for(process.communicate(), 30)
        print(f"\nserve stopped {time.monotonic() - stopping:.1f} s after SIGTERM")
        served.banner += rest.decode() + errors.decode()
    assert process.returncode == 0, served.banner
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, f"left running after serve stopped: {alive}"


async def test_the_browser_shows_the_workstation_with_prices(tmp_path: Path) -> None:
    browser = chromium_path()
    if browser is None:
        message = "chromium is not installed (.ci/run installs the Debian package `chromium`)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    journal = tmp_path / "data" / "journal.sqlite"
    chromium = Chromium(browser, tmp_path / "chromium-profile")
    try:
        # serve stops while the page is still open: its session's tradeterm must quit cleanly
        async with serving(tmp_path, env=_env(tmp_path)) as served:
            await chromium.start()
            started = time.monotonic()
            await chromium.navigate(served.url)
            screen = None
            deadline = started + 45
            while time.monotonic() < deadline:
                screen = await chromium.screen_text()
                if screen and SHOWN.search(screen.split("\n", 1)[0]) and BTC_ROW.search(screen):
                    break
                await asyncio.sleep(0.25)
            else:
                pytest.fail(f"no prices in the browser within 45 s; the screen:\n{screen}")
            shown = time.monotonic() - started
            # the figures (not asserted: tests never time anything) for `pytest -s`
            before = await chromium.evaluate("window.__tt.bytes")
            await asyncio.sleep(3)
            after = await chromium.evaluate("window.__tt.bytes")
            print(f"\nprices shown {shown:.1f} s after navigation; "
                  f"{(after - before) / 3 / 1024:.1f} KiB/s received while idle")
            assert after > before  # the screen keeps updating: live prices reach the page
            assert len(served.descendants()) >= 1  # the served tradeterm runs under serve
            assert engine_holding(journal) is not None  # its in-process demo engine
    finally:
        await chromium.close()
    assert engine_holding(journal) is None  # the session's engine shut down, lock released
    assert journal.exists()  # the config's data_dir was used


async def test_the_browser_is_a_screen_attached_to_the_running_engine(tmp_path: Path) -> None:
    """With an engine service running, a browser tab attaches to it (the engine's log says so)
    and closing serve leaves the engine trading."""
    browser = chromium_path()
    if browser is None:
        message = "chromium is not installed (.ci/run installs the Debian package `chromium`)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    journal = tmp_path / "data" / "journal.sqlite"
    env = _env(tmp_path)
    engine = subprocess.Popen(
        [sys.executable, "-m", "tradeterm", "--config", str(_config(tmp_path)), "--demo",
         "engine", "start"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env=env, cwd=tmp_path, start_new_session=True)
    chromium = Chromium(browser, tmp_path / "chromium-profile")
    try:
        deadline = time.monotonic() + 60
        while engine_holding(journal) is None:
            assert engine.poll() is None and time.monotonic() < deadline, "no engine"
            await asyncio.sleep(0.2)
        log = tmp_path / "data" / "tradeterm.log"
        async with serving(tmp_path, env=env) as served:
            await chromium.start()
            await chromium.navigate(served.url)
            screen = None
            deadline = time.monotonic() + 45
            while time.monotonic() < deadline:
                screen = await chromium.screen_text()
                if screen and SHOWN.search(screen.split("\n", 1)[0]) and "ATTACHED" in screen:
                    break
                await asyncio.sleep(0.25)
            else:
                pytest.fail(f"no attached screen with prices within 45 s; the screen:\n{screen}")
            assert "screen attached as trader" in log.read_text()
        holder = engine_holding(journal)
        assert holder is not None and holder.pid == engine.pid  # the engine trades on
        assert engine.poll() is None
    finally:
        await chromium.close()
        engine.send_signal(signal.SIGTERM)
        engine.wait(timeout=30)


@pytest.mark.parametrize(
    ("args", "env_token", "expected"),
    [
        (["--host", "0.0.0.0"], None, "needs a token"),
        (["--host", "192.0.2.1"], None, "needs a token"),
        (["--host", "0.0.0.0", "--token", "short"], None, "at least 16 characters"),
        (["--host", "0.0.0.0"], "short", "at least 16 characters"),
    ],
)
def test_a_bind_beyond_loopback_needs_a_real_token(
    tmp_path: Path, args: list[str], env_token: str | None, expected: str,
) -> None:
    env = _env(tmp_path) if env_token is None else _env(tmp_path, TRADETERM_SERVE_TOKEN=env_token)
    done = subprocess.run([sys.executable, "-m", "tradeterm", "serve", *args],
                          capture_output=True, text=True, env=env, cwd=tmp_path,
                          stdin=subprocess.DEVNULL, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("tradeterm serve: ") and expected in lines[0]
    assert done.stdout == ""


async def _status(session: aiohttp.ClientSession, url: str, **kwargs: object) -> int:
    async with session.get(url, allow_redirects=False, **kwargs) as response:  # type: ignore[arg-type]
        return response.status


async def _ws_status(session: aiohttp.ClientSession, url: str, **kwargs: object) -> int:
    try:
        async with session.ws_connect(url, **kwargs):  # type: ignore[arg-type]
            return 101
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status


async def test_with_a_token_every_request_must_present_it(tmp_path: Path) -> None:
    env = _env(tmp_path, TRADETERM_SERVE_TOKEN=TOKEN)
    async with serving(tmp_path, "--host", "0.0.0.0", env=env) as served:
        assert TOKEN not in served.banner and "?token=<your token>" in served.banner
        base, ws = served.url, served.url.replace("http", "ws") + "ws"
        async with aiohttp.ClientSession() as anonymous:
            assert await _status(anonymous, base) == 401
            assert await _status(anonymous, base + "static/js/textual.js") == 401
            assert await _status(anonymous, base + "?token=" + TOKEN[:-1] + "x") == 401
            assert await _status(anonymous, base, headers={"Cookie": "tradeterm_serve=" + TOKEN}) == 401
            assert await _ws_status(anonymous, ws) == 401
            assert await _status(anonymous, base, headers={"Authorization": f"Bearer {TOKEN}"}) == 200

        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
            async with browser.get(base + "?token=" + TOKEN + "&fontsize=14",
                                   allow_redirects=False) as first:
                assert first.status == 302
                assert first.headers["Location"] == "/?fontsize=14"  # the token leaves the URL
                cookie = first.cookies["tradeterm_serve"]
                assert TOKEN not in cookie.value and cookie["httponly"]
                assert cookie["samesite"] == "Strict"
            async with browser.get(base) as page:
                assert page.status == 200 and "textual.js" in await page.text()
            assert await _status(browser, base + "static/js/textual.js") == 200
            assert await _ws_status(browser, ws, origin="http://evil.example") == 403
            async with browser.ws_connect(ws + "?width=120&height=40",
                                          origin=base.rstrip("/")) as session:
                deadline = time.monotonic() + 60
                while not (sessions := served.descendants()):
                    assert time.monotonic() < deadline, "no tradeterm started for the session"
                    await asyncio.sleep(0.1)
                for process in sessions:  # the served tradeterm never sees the token
                    try:
                        assert "TRADETERM_SERVE_TOKEN" not in process.environ()
                    except psutil.NoSuchProcess:
                        pass
                assert (await session.receive(timeout=60)).type == aiohttp.WSMsgType.BINARY
    assert TOKEN not in served.banner  # nor in anything serve printed or logged


async def test_loopback_refuses_other_host_names_and_cross_site_websockets(tmp_path: Path) -> None:
    async with serving(tmp_path, env=_env(tmp_path)) as served:
        port = served.url.rsplit(":", 1)[1].strip("/")
        async with aiohttp.ClientSession() as client:
            assert await _status(client, served.url) == 200
            assert await _status(client, f"http://localhost:{port}/") == 200
            # a DNS-rebinding page reaches 127.0.0.1 under its own name
            assert await _status(client, served.url, headers={"Host": f"evil.example:{port}"}) == 403
            ws = served.url.replace("http", "ws") + "ws"
            assert await _ws_status(client, ws, origin="http://evil.example") == 403
            assert await _ws_status(client, ws, origin=f"http://127.0.0.1:{int(port) + 1}") == 403
            assert not served.descendants()  # refused before any tradeterm was started
