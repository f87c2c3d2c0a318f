"""The engine's log file: where it is, its last lines, following it (``tradeterm engine logs``).

One file per data directory, ``<data_dir>/tradeterm.log`` (0600: it holds every fill), written
by the logging the CLI sets up (``cli._setup_logging`` asks :func:`log_file`) and, for a
detached engine, also by its stdout and stderr (a crash's traceback lands there too).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tradeterm.config import Settings

_STATUS = re.compile(r"(?:^|: )(status .*)$")
_CHUNK = 64 * 1024


def log_file(settings: Settings) -> Path:
    return settings.data_dir / "tradeterm.log"


def open_log(path: Path) -> int:
    """An append descriptor on ``path``, created 0600 (and made 0600 if an older run left it
    wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def tail(path: Path, n: int, start: int = 0, end: int | None = None) -> list[str]:
    """The last ``n`` lines of ``path`` after byte ``start`` and before byte ``end`` (default:
    its end; reads from the end: a log of months costs no more than its last lines)."""
    if n <= 0:
        return []
    with path.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        end = size if end is None else min(end, size)
        pos, data = end, b""
        while pos > start and data.count(b"\n") <= n:
            step = min(_CHUNK, pos - start)
            pos -= step
            f.seek(pos)
            data = f.read(step) + data
    lines = data.decode("utf-8", "replace").splitlines()
    return lines[-n:]


def last_status(path: Path, scan_lines: int = 5000) -> str | None:
    """The last status line in the log (without the logging prefix), or None."""
    try:
        lines = tail(path, scan_lines)
    except OSError:
        return None
    for line in reversed(lines):
        if match := _STATUS.search(line):
            return match.group(1)
    return None


def follow(
    path: Path, n: int, *, poll_s: float = 0.5, write: Callable[[str], None] | None = None,
    until: Callable[[], bool] = lambda: False,
) -> None:
    """Print the last ``n`` lines, then every line appended, until Ctrl-C (or ``until()``).
    A log that is truncated or replaced (rotated) is read again from its start."""
    def to_stdout(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()

    out = write or to_stdout
    f = path.open("rb")
    try:
        # the tail ends where following starts: a line appended in between is printed once
        end = f.seek(0, os.SEEK_END)
        for line in tail(path, n, end=end):
            out(line + "\n")
        ino, partial = os.fstat(f.fileno()).st_ino, b""
        while not until():
            chunk = f.read(_CHUNK)
            if chunk:
                *whole, partial = (partial + chunk).split(b"\n")
                for raw in whole:
                    out(raw.decode("utf-8", "replace") + "\n")
                continue
            time.sleep(poll_s)
            try:
                st = os.stat(path)
            except OSError:
                continue
            if st.st_ino != ino or st.st_size < f.tell():  # rotated or truncated
                f.close()
                f = path.open("rb")
                ino, partial = os.fstat(f.fileno()).st_ino, b""
    finally:
        f.close()
