"""The real app (``tradeterm --demo`` in a pseudo-terminal) quits on ``q`` within 3 s while a
strategy is stuck in an endless loop, and the stuck strategy's worker does not outlive it."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from test_strategy_isolation_headless import gone, prepare

pytestmark = pytest.mark.integration


def pump(master: int, timeout: float) -> None:
    """Read (and drop) what the app drew, so it never blocks on a full terminal."""
    ready, _, _ = select.select([master], [], [], timeout)
    if ready:
        try:
            os.read(master, 65536)
        except OSError:
            pass


def test_q_quits_the_app_within_3_s_while_a_strategy_is_stuck(tmp_path: Path) -> None:
    env, trigger, pidfile = prepare(tmp_path, eval_timeout_s=600.0)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradeterm", "--demo"],
        stdin=slave, stdout=slave, stderr=slave, cwd=tmp_path, start_new_session=True,
        env={**env, "TERM": "xterm-256color"},
    )
    os.close(slave)
    try:
        signalled = tmp_path / "always.seen"
        deadline = time.monotonic() + 90
        while not signalled.exists():  # 'always' writes it at its first live evaluation
            assert time.monotonic() < deadline and proc.poll() is None, "the app never ran"
            pump(master, 0.1)
        trigger.touch()
        while not (pidfile.exists() and pidfile.read_text()):
            assert time.monotonic() < deadline and proc.poll() is None, "never got stuck"
            pump(master, 0.1)
        worker = int(pidfile.read_text())
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            pump(master, 0.05)
        os.write(master, b"q")
        quit_by = time.monotonic() + 3.0  # the liveness bound of the issue
        while proc.poll() is None and time.monotonic() < quit_by:
            pump(master, 0.05)
        assert proc.poll() is not None, "the app did not exit within 3 s of q"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        os.close(master)
    assert proc.returncode == 0
    assert gone(worker, within_s=5), "the stuck strategy's worker outlived the app"
