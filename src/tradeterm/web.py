"""``tradeterm serve``: the workstation in a browser, through textual-serve.

Each browser tab that connects gets its own ``tradeterm`` process (textual-serve's model): the
command of :func:`served_command`, i.e. plain ``tradeterm`` with the flags ``serve`` was given,
which attaches to the running engine of that data directory or starts one in-process. So this
module holds no engine logic; it only guards the door:

- Bound to 127.0.0.1 by default. Any other address needs a token (``--token`` or
  ``TRADETERM_SERVE_TOKEN``), refused in one line without one: the browser drives a trading
  screen, and textual-serve itself has no authentication at all.
- With a token, every HTTP and websocket request must present it: ``/?token=...`` once (then a
  cookie derived from it, HttpOnly and SameSite=Strict), or ``Authorization: Bearer ...``;
  compared in constant time; 401 otherwise. The token is never logged or printed, and the
  served processes do not inherit the variable.
- A websocket whose ``Origin`` is another site is refused (403): without this any web page the
  user opens could type into the workstation on 127.0.0.1 (cross-site websocket hijacking).
- On a loopback bind, a ``Host`` that is not a loopback name is refused (403): a DNS-rebinding
  page would otherwise be "same origin" with the server.

textual-serve's aiohttp access log is off (it would log ``/?token=...``), and the page loads
its font from textual-serve's own static files instead of Google Fonts (no request leaves the
machine; the demo works offline).

textual_serve does not import textual (it starts the app as a subprocess), so this module sits
beside ``ui`` and ``headless`` under the CLI without breaking the no-textual contract.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import logging
import os
import re
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Middleware
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int
from yarl import URL

log = logging.getLogger("tradeterm.web")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
TOKEN_ENV = "TRADETERM_SERVE_TOKEN"
MIN_TOKEN_LENGTH = 16
COOKIE = "tradeterm_serve"
_COOKIE_CONTEXT = b"tradeterm serve cookie v1"
_LOOPBACK_NAMES = {"localhost", "localhost.", "ip6-localhost"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def served_command(flags: Sequence[str]) -> list[str]:
    """What each browser tab runs: plain ``tradeterm`` with the same python and the flags
    ``serve`` was given (``--config``, ``--demo``, ...). Plain ``tradeterm`` attaches to the
    engine of that data directory when one runs and starts one in-process otherwise."""
    return [sys.executable, "-m", "tradeterm", *flags]


class ServeRefused(Exception):
    """A setting ``serve`` will not run with, phrased as one line for the user."""


def is_loopback(host: str) -> bool:
    """True for an address (or name) only this machine can reach."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_binding(host: str, token: str | None) -> None:
    """Refuse (``ServeRefused``) a bind beyond loopback without a token, and a weak token."""
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ServeRefused(
            f"the serve token must be at least {MIN_TOKEN_LENGTH} characters "
            "(e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
        )
    if token is None and not is_loopback(host):
        raise ServeRefused(
            f"serving on {host} (not loopback) needs a token: set {TOKEN_ENV} or pass --token "
            "(or keep the default 127.0.0.1 and use an ssh tunnel)"
        )


def cookie_value(token: str) -> str:
    """What the cookie holds: derived from the token, so the token itself is not stored."""
    return hmac.new(token.encode(), _COOKIE_CONTEXT, hashlib.sha256).hexdigest()


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def _host_port(url: URL) -> tuple[str, int | None]:
    return (url.host or "").lower(), url.port


def gate(token: str | None, loopback_only: bool) -> Middleware:
    """The aiohttp middleware that checks every request (pages, static files, websocket)."""
    cookie = cookie_value(token) if token is not None else None

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if loopback_only and not is_loopback(request.url.host or ""):
            raise web.HTTPForbidden(text="tradeterm serve: this server answers only on loopback\n")
        origin = request.headers.get("Origin")
        if origin is not None and request.headers.get("Upgrade", "").lower() == "websocket":
            try:
                same_site = _host_port(URL(origin)) == _host_port(request.url)
            except ValueError:
                same_site = False
            if not same_site:
                raise web.HTTPForbidden(text="tradeterm serve: websocket from another site\n")
        if token is None or cookie is None:
            return await handler(request)
        if _same(request.cookies.get(COOKIE), cookie):
            return await handler(request)
        bearer = request.headers.get("Authorization", "")
        if bearer.startswith("Bearer ") and _same(bearer[len("Bearer "):], token):
            return await handler(request)
        if _same(request.query.get("token"), token):
            if request.method == "GET" and request.path == "/":
                # the token leaves the address bar; the cookie carries it from now on
                query = {k: v for k, v in request.query.items() if k != "token"}
                response = web.HTTPFound(str(request.rel_url.with_query(query)))
                response.set_cookie(COOKIE, cookie, httponly=True, samesite="Strict", path="/")
                raise response
            return await handler(request)
        raise web.HTTPUnauthorized(
            text="tradeterm serve: a token is required (open the URL with ?token=...)\n"
        )

    return middleware


_GOOGLE_FONT = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>", re.S)
_LOCAL_FONT = """<style>
      @font-face {
        font-family: "Roboto Mono";
        src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf");
      }
    </style>"""


class WorkstationServer(Server):
    """textual-serve's Server with the gate, URLs taken from the request (so a page fetched as
    ``http://myhost:8000`` opens its websocket there, not at the bind address), no access log,
    the font served locally, and open sessions closed (their ``tradeterm`` told to quit) when
    the server stops."""

    def __init__(self, command: Sequence[str], host: str, port: int, token: str | None) -> None:
        super().__init__(shlex.join(command), host=host, port=port, title="tradeterm")
        self._token = token
        self._sockets: set[web.WebSocketResponse] = set()
        self.bound_port: int | None = None

    def initialize_logging(self) -> None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[gate(self._token, is_loopback(self.host))])
        page = (Path(self.templates_path) / "app_index.html").read_text(encoding="utf-8")
        page = _GOOGLE_FONT.sub(_LOCAL_FONT, page)
        aiohttp_jinja2.setup(app, loader=jinja2.DictLoader({"app_index.html": page}))
        app.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, name="static"),
        ])
        app.on_shutdown.append(self._close_sessions)
        return app

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        base = request.url.origin()
        ws_scheme = "wss" if base.scheme == "https" else "ws"
        return {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": str(base.with_scheme(ws_scheme).with_path("/ws")),
            "config": {"static": {"url": str(base.with_path("/static/"))}},
            "application": {"name": self.title},
        }

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler, plus a record of the socket so shutdown can close it."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        app_service: AppService | None = None
        self._sockets.add(websocket)

        async def close() -> None:
            await websocket.close()

        try:
            await websocket.prepare(request)
            app_service = AppService(
                self.command,
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await app_service.start(width, height)
            await self._process_messages(websocket, app_service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("browser session failed")
        finally:
            self._sockets.discard(websocket)
            if app_service is not None:
                await app_service.stop()  # tells the app to quit and waits for it
        return websocket

    async def _close_sessions(self, app: web.Application) -> None:
        await asyncio.gather(*(ws.close() for ws in list(self._sockets)), return_exceptions=True)

    async def run(self, ready: Callable[[int], None]) -> None:
        """Serve until SIGINT or SIGTERM; ``ready(port)`` once listening (``--port 0`` picks
        a free port)."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        runner = web.AppRunner(await self._make_app(), access_log=None, handle_signals=False,
                               shutdown_timeout=10)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            self.bound_port = int(runner.addresses[0][1])
            ready(self.bound_port)
            await stop.wait()
        finally:
            await runner.cleanup()


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(flags: Sequence[str], host: str, port: int, token_flag: str | None) -> int:
    """Run ``tradeterm serve``; the exit status (2 for a refused setting)."""
    env_token = os.environ.pop(TOKEN_ENV, None) or None  # the served processes don't inherit it
    token = token_flag or env_token
    try:
        check_binding(host, token)
    except ServeRefused as exc:
        print(f"tradeterm serve: {exc}", file=sys.stderr)
        return 2
    server = WorkstationServer(served_command(flags), host, port, token)
    server.initialize_logging()

    def ready(bound: int) -> None:
        url = _url(host, bound)
        if token is None:
            print(f"tradeterm serve: open {url} in a browser (Ctrl-C stops)", flush=True)
        else:  # the token is never printed: the user has it
            print(f"tradeterm serve: open {url}?token=<your token> in a browser (Ctrl-C stops)",
                  flush=True)

    try:
        asyncio.run(server.run(ready))
    except OSError as exc:  # e.g. the port is taken
        print(f"tradeterm serve: cannot listen on {host}:{port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    return 0
