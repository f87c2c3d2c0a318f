"""Run ``tradeterm`` as a user would, in a pseudo-terminal, and watch what it writes.

Shared by the benchmarks that need the real app (first frame, memory, bytes per second).
"""

from __future__ import annotations

import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import fcntl
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class PtyApp:
    """``tradeterm`` running in a pty of ``cols`` x ``rows``; output is collected as bytes."""

    def __init__(self, args: list[str], cols: int = 120, rows: int = 40, env: dict | None = None):
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        full_env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor", **(env or {})}
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tradeterm", *args],
            stdin=slave, stdout=slave, stderr=slave, env=full_env, cwd=REPO,
            start_new_session=True,
        )
        os.close(slave)
        self.output = bytearray()
        self.first_byte_at: float | None = None

    def pump(self, timeout: float = 0.05) -> int:
        """Read what is available; returns the number of bytes read."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return 0
        try:
            chunk = os.read(self.master, 65536)
        except OSError:
            return 0
        if chunk and self.first_byte_at is None:
            self.first_byte_at = time.perf_counter()
        self.output += chunk
        return len(chunk)

    def wait_for(self, predicate, timeout: float) -> float | None:
        """Seconds since launch when ``predicate(output_text)`` first holds, or None."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.pump() and predicate(self.output.decode("utf-8", "replace")):
                return time.perf_counter() - self.started
            if self.proc.poll() is not None:
                return None
        return None

    def drain_for(self, seconds: float) -> int:
        """Keep reading for ``seconds``; returns bytes read meanwhile."""
        total = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            total += self.pump(0.1)
        return total

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.write(self.master, b"q")
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
        os.close(self.master)
