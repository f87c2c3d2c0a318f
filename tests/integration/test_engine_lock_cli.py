"""A second engine on a running engine's journal is refused with one line naming its pid; the
read-only journal views keep working meanwhile. Real processes, a real journal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tradeterm.journal.lock import engine_holding

pytestmark = pytest.mark.integration


def _tradeterm(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tradeterm", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, stdin=subprocess.DEVNULL, timeout=120)


def test_second_engine_on_a_running_engines_journal_is_refused_and_views_still_read(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    journal = tmp_path / "data" / "tradeterm" / "journal.sqlite"
    first = subprocess.Popen(
        [sys.executable, "-m", "tradeterm", "--demo", "run", "--headless"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while engine_holding(journal) is None or not journal.exists():
            assert first.poll() is None, "the first engine ended"
            assert time.monotonic() < deadline, "the first engine never took the journal"
            time.sleep(0.1)
        assert engine_holding(journal).pid == first.pid  # type: ignore[union-attr]

        second = _tradeterm("--demo", "run", "--headless", env=env, cwd=tmp_path)
        assert second.returncode == 2, second.stdout + second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in second.stderr, second.stderr
        assert f"pid {first.pid}" in lines[0] and "another tradeterm engine" in lines[0]

        view = _tradeterm("journal", "stats", env=env, cwd=tmp_path)
        assert view.returncode == 0, view.stderr
        assert first.poll() is None  # the running engine is untouched
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=30)
    assert engine_holding(journal) is None  # the lock went with the engine
