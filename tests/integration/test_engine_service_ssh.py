"""Attaching from another machine: the engine's socket forwarded by a real OpenSSH.

A real ``sshd`` listens on 127.0.0.1 (a free port, a host key, a user key and an
``authorized_keys`` made for the test, all in a temporary directory); a real ``ssh -N -L
local.sock:engine.sock`` forwards a local Unix socket to the engine's, exactly as
docs/remote.md tells a user to; the screen's own link (``RemoteEngine``) attaches through the
tunnel, sees the engine's market and places a paper order that the engine fills; then
``tradeterm attach --read-only --socket local.sock`` in a pty draws that market and detaches.

Needs ``/usr/sbin/sshd`` (Debian: openssh-server; ``.ci/run`` installs it). In CI (``CI`` set)
a missing sshd fails the test; elsewhere it skips with the reason.
"""

from __future__ import annotations

import asyncio
import fcntl
import getpass
import os
import pty
import re
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from service_helpers import EngineProcess, attached, until

from tradeterm.core.commands import ClosePosition, PlaceOrder
from tradeterm.core.events import Event, OrderFilled
from tradeterm.core.trading import OrderRequest, OrderType

pytestmark = pytest.mark.integration

SSHD = Path("/usr/sbin/sshd")
BTC = "BTC/USDT"
BTC_PRICE = re.compile(r"\b[1-9]\d{4,5}\.\d{2}\b")  # the demo's BTC/USDT, ~65,000
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]")


def _need(program: str) -> str:
    path = shutil.which(program) if "/" not in program else (program if Path(program).exists()
                                                             else None)
    if path is None:
        reason = (f"{program} is not installed (Debian: apt-get install openssh-server "
                  "openssh-client); .ci/run installs it")
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the ssh test: {reason}")
        pytest.skip(reason)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check: Callable[[], bool], what: str, proc: subprocess.Popen[bytes],
          timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise AssertionError(f"{what}: the process ended ({proc.returncode}): {err[-1500:]}")
        assert time.monotonic() < deadline, f"{what}: timed out"
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Sshd:
    port: int
    user: str
    key: Path  # the client's private key
    proc: subprocess.Popen[bytes]


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A short directory: a Unix socket's path must stay under 108 bytes."""
    path = Path(tempfile.mkdtemp(prefix="tt-ssh-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sshd(short_dir: Path) -> Iterator[Sshd]:
    sshd_bin, keygen = _need(str(SSHD)), _need("ssh-keygen")
    _need("ssh")
    for name in ("host_key", "user_key"):
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(short_dir / name)],
                       check=True, capture_output=True)
    (short_dir / "authorized_keys").write_text((short_dir / "user_key.pub").read_text())
    if os.geteuid() == 0:  # sshd's privilege separation directory, where distros create it
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    port = _free_port()
    config = short_dir / "sshd_config"
    config.write_text(f"""\
Port {port}
ListenAddress 127.0.0.1
HostKey {short_dir / 'host_key'}
PidFile {short_dir / 'sshd.pid'}
AuthorizedKeysFile {short_dir / 'authorized_keys'}
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowStreamLocalForwarding yes
LogLevel VERBOSE
""")
    proc = subprocess.Popen([sshd_bin, "-D", "-e", "-f", str(config)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)

    def listening() -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        _wait(listening, "sshd never listened", proc)
        yield Sshd(port, getpass.getuser(), short_dir / "user_key", proc)
    finally:
        _stop(proc)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[EngineProcess]:
    proc = EngineProcess(tmp_path)
    try:
        asyncio.run(proc.ready())
        yield proc
    finally:
        proc.stop()


def _forward(sshd: Sshd, local: Path, remote: Path) -> subprocess.Popen[bytes]:
    """The line docs/remote.md gives a user, with a throwaway known_hosts."""
    return subprocess.Popen(
        ["ssh", "-N", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
         "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
         "-o", "StreamLocalBindUnlink=yes", "-i", str(sshd.key), "-p", str(sshd.port),
         "-L", f"{local}:{remote}", f"{sshd.user}@127.0.0.1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def test_a_screen_attaches_over_an_ssh_forwarded_socket_and_trades(
    sshd: Sshd, engine: EngineProcess, short_dir: Path,
) -> None:
    local = short_dir / "local" / "engine.sock"
    local.parent.mkdir(mode=0o700)
    tunnel = _forward(sshd, local, engine.socket)
    try:
        _wait(local.exists, "ssh never opened the forwarded socket", tunnel)
        mode = local.stat().st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) & 0o077 == 0  # what docs/remote.md says of ssh's socket
        fills: list[OrderFilled] = []
        async with attached(local, client="over-ssh") as screen:
            welcome = screen.welcome
            assert welcome is not None and welcome.pid == engine.proc.pid  # that engine
            assert welcome.journal == str(engine.journal)
            snap = await until(screen, lambda s: s.market.book is not None
                               and bool(s.market.candles) and s.account is not None)
            assert snap.symbol == BTC and snap.demo
            assert snap.market.book is not None and snap.market.book.bids

            def on_fill(event: Event) -> None:
                if isinstance(event, OrderFilled):
                    fills.append(event)

            screen.add_listener(on_fill)

            screen.submit(PlaceOrder(OrderRequest(BTC, "buy", OrderType.MARKET,
                                                  Decimal("0.001"))))
            # the fill event and the account's view update may come in either order
            await until(screen, lambda s: bool(fills) and any(
                p.symbol == BTC for p in s.account.positions), timeout=15)
            assert fills[0].fill.symbol == BTC
            status = await screen.ask("status")  # a request answered through the tunnel
            assert status["pid"] == engine.proc.pid
            screen.submit(ClosePosition(BTC))
            await until(screen, lambda s: not s.account.positions, timeout=15)
        assert tunnel.poll() is None and engine.proc.poll() is None
        assert "over-ssh attached as trader" in engine.log_text()
        # the command a user types, through the same tunnel: it draws the engine's market
        # and `q` detaches (exit 0), the engine going on
        output = _attach_in_pty(engine, local)
        assert "screen attached as read-only" in engine.log_text()
        assert BTC_PRICE.search(output), output[-2000:]
        assert "detached; the engine" in output
        assert tunnel.poll() is None and engine.proc.poll() is None
    finally:
        _stop(tunnel)


def _attach_in_pty(engine: EngineProcess, sock: Path) -> str:
    """``tradeterm attach --read-only --socket SOCK`` in a 120x40 pty until the engine logs
    it attached and it drew a second, then ``q``; its output, escape sequences removed."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    screen = subprocess.Popen(
        [sys.executable, "-m", "tradeterm", "attach", "--read-only", "--socket", str(sock)],
        stdin=slave, stdout=slave, stderr=slave, cwd=engine.root, start_new_session=True,
        # its own data directory, like a laptop's: only the tunnel leads to the engine
        env={**engine.env, "TERM": "xterm-256color",
             "XDG_DATA_HOME": str(sock.parent / "laptop-data")})
    os.close(slave)
    out = bytearray()

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            if select.select([master], [], [], left)[0]:
                try:
                    out.extend(os.read(master, 65536))
                except OSError:
                    return

    try:
        deadline = time.monotonic() + 60
        while "screen attached as read-only" not in engine.log_text():
            assert screen.poll() is None, f"the screen ended: {bytes(out[-1500:])!r}"
            assert time.monotonic() < deadline, "the screen never attached"
            pump(0.2)
        pump(1.5)
        os.write(master, b"q")
        end = time.monotonic() + 20
        while screen.poll() is None and time.monotonic() < end:
            pump(0.2)
        pump(0.2)
        assert screen.wait(timeout=5) == 0
    finally:
        if screen.poll() is None:
            os.killpg(screen.pid, signal.SIGKILL)
            screen.wait()
        os.close(master)
    return ANSI.sub(" ", out.decode("utf-8", "replace"))
