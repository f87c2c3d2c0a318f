"""``tradeterm engine start --detach``: the same command, in the foreground of a new session.

The child is ``python -m tradeterm <the same arguments, without --detach>``: a new session (no
controlling terminal, so closing the ssh session or the terminal does not send it SIGHUP),
stdin from /dev/null, stdout and stderr appended to the engine's log file (so a crash's
traceback is there too; the runner then writes each line once). The parent waits until the
child holds the journal lock (it is the engine) or ends (it failed: its last log lines are
shown), and says in one line where it runs and how to reach it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tradeterm.journal.lock import engine_holding
from tradeterm.service.logs import open_log, tail

START_WAIT_S = 60.0


def child_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` without ``--detach`` (or an abbreviation argparse accepted), as a command."""
    kept: list[str] = []
    for i, word in enumerate(argv):
        if word == "--":
            kept.extend(argv[i:])
            break
        if len(word) > 4 and "--detach".startswith(word):  # "--de" could be --demo too
            continue
        kept.append(word)
    return [sys.executable, "-m", "tradeterm", *kept]


@dataclass(frozen=True, slots=True)
class Started:
    pid: int
    holding: bool  # it runs and holds the journal: it is the engine
    exit_code: int | None  # it ended (it failed), with this status
    log_lines: list[str]  # the child's last log lines when it is not (yet) the engine


def start_detached(argv: Sequence[str], journal: Path, log: Path,
                   wait_s: float = START_WAIT_S) -> Started:
    """Start the detached engine and wait for it to hold ``journal`` (see the docstring). A
    child still starting after ``wait_s`` is left running, reported with its log so far."""
    fd = open_log(log)
    start = os.fstat(fd).st_size
    try:
        child = subprocess.Popen(
            child_argv(argv), stdin=subprocess.DEVNULL, stdout=fd, stderr=fd,
            start_new_session=True, close_fds=True, cwd=os.getcwd(),
        )
    finally:
        os.close(fd)
    deadline = time.monotonic() + wait_s
    while True:
        code = child.poll()
        if code is not None:
            return Started(child.pid, False, code, _lines_since(log, start))
        holder = engine_holding(journal)
        if holder is not None and holder.pid == child.pid:
            child.returncode = 0  # it lives on alone: no "still running" warning at our exit
            return Started(child.pid, True, None, [])
        if time.monotonic() >= deadline:
            child.returncode = 0
            return Started(child.pid, False, None, _lines_since(log, start))
        time.sleep(0.1)


def _lines_since(log: Path, start: int, n: int = 15) -> list[str]:
    try:
        return tail(log, n, start)
    except OSError:
        return []
