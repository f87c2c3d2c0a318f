"""A real engine process serving its socket, and real protocol clients, for the service tests.

``EngineProcess`` runs ``python -m tradeterm --demo run --headless`` (the engine a VPS runs) in
a temporary data directory with the strategies off (the orders in a test are the test's own),
and waits until its socket answers a handshake. Clients are ``RemoteEngine`` (the screen's own
link) or raw sockets speaking frames by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from tradeterm.core.models import EngineSnapshot
from tradeterm.service.paths import socket_path
from tradeterm.wire.frames import MAX_SERVER_FRAME, pack
from tradeterm.wire.messages import ENCODER, PROTOCOL, SERVER_DECODER, Hello
from tradeterm.wire.remote import RemoteEngine

CONFIG = """
[strategies]
enabled = []
[service]
max_client_backlog_kb = {backlog}
"""


class EngineProcess:
    def __init__(self, root: Path, *, backlog_kb: int = 4096, extra_args: tuple[str, ...] = ()):
        self.root = root
        (root / "config.toml").write_text(CONFIG.format(backlog=backlog_kb))
        self.env = {**os.environ, "XDG_DATA_HOME": str(root / "data"),
                    "XDG_CONFIG_HOME": str(root / "config")}
        self.journal = root / "data" / "tradeterm" / "journal.sqlite"
        self.log = root / "data" / "tradeterm" / "tradeterm.log"
        self.socket = socket_path(self.journal)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tradeterm", "--demo", *extra_args, "run", "--headless"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=self.env, cwd=root,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )

    async def ready(self, timeout: float = 90) -> None:
        """Until the socket answers and the engine streams the market."""
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            assert self.proc.poll() is None, f"the engine ended: {self.stderr()}"
            assert time.monotonic() < deadline, "the engine never served its socket"
            await asyncio.sleep(0.2)
        async with attached(self.socket, client="test-probe") as client:
            await until(client, lambda s: s.market.book is not None and s.account is not None,
                        timeout=max(1.0, deadline - time.monotonic()))

    def stderr(self) -> str:
        if self.proc.poll() is None or self.proc.stderr is None:
            return ""
        return self.proc.stderr.read().decode(errors="replace")[-2000:]

    def log_text(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.asynccontextmanager
async def attached(path: Path, **options: Any) -> AsyncIterator[RemoteEngine]:
    """A connected ``RemoteEngine`` applying frames in the background; detached at the end."""
    client = RemoteEngine(path, **options)
    await client.connect()
    task = asyncio.create_task(client.run())
    try:
        yield client
    finally:
        client.submit_detach()
        await asyncio.wait_for(task, 10)


async def until(client: RemoteEngine, check: Callable[[EngineSnapshot], bool],
                timeout: float = 30) -> EngineSnapshot:
    deadline = time.monotonic() + timeout
    while True:
        snap = client.snapshot()
        if check(snap):
            return snap
        assert time.monotonic() < deadline, f"timed out; last snapshot: phase={snap.phase} " \
            f"symbol={snap.symbol} candles={len(snap.market.candles)} error={snap.error}"
        await asyncio.sleep(0.05)


def round_tick(value: float, tick: Decimal) -> Decimal:
    return (Decimal(str(value)) / tick).to_integral_value(ROUND_DOWN) * tick


def raw_connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(str(path))
    return sock


def raw_send(sock: socket.socket, message: Any) -> None:
    sock.sendall(pack(ENCODER.encode(message)))


def raw_hello(sock: socket.socket, protocol: int = PROTOCOL, role: str = "trader") -> Any:
    raw_send(sock, Hello(protocol, "test", role, "raw"))  # type: ignore[arg-type]
    return raw_read(sock)


def raw_read(sock: socket.socket) -> Any:
    """The next frame, decoded (None at the end of the stream)."""
    header = _exactly(sock, 4)
    if header is None:
        return None
    size = int.from_bytes(header, "big")
    assert size <= MAX_SERVER_FRAME
    body = _exactly(sock, size)
    assert body is not None
    return SERVER_DECODER.decode(body)


def _exactly(sock: socket.socket, n: int) -> bytes | None:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


class PtyScreen:
    """``python -m tradeterm ARGS`` in a pseudo-terminal of ``cols`` x ``rows``, as a user runs
    it; :meth:`pump` reads what it draws (so it never blocks on a full terminal)."""

    def __init__(self, args: list[str], *, env: dict[str, str], cwd: Path, cols: int = 120,
                 rows: int = 40) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tradeterm", *args], stdin=slave, stdout=slave,
                stderr=slave, cwd=cwd, start_new_session=True,
                env={**env, "TERM": "xterm-256color"},
            )
        finally:
            os.close(slave)

    def pump(self, seconds: float) -> bytes:
        import select

        out = b""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if select.select([self.master], [], [], left)[0]:
                try:
                    out += os.read(self.master, 65536)
                except OSError:
                    break
        return out

    def press(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        os.close(self.master)
