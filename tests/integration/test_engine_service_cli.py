"""``tradeterm engine start --detach | status | logs | stop`` with real processes: a detached
engine on the demo market in a temporary data directory, found by its journal lock, a second
engine refused, a status line in its log, stopped with SIGTERM, the lock released.

The status period is 1 s here (``TRADETERM_SERVICE__STATUS_EVERY_S``) instead of 60.
"""

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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purpose (its parent, the test's `tradeterm`, has exited)
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_detached_engine_status_logs_refusal_and_stop(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADETERM_")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               TRADETERM_SERVICE__STATUS_EVERY_S="1")
    data = tmp_path / "data" / "tradeterm"
    journal, log = data / "journal.sqlite", data / "tradeterm.log"
    pid: int | None = None
    try:
        started = _tradeterm("engine", "start", "--demo", "--detach", env=env, cwd=tmp_path)
        assert started.returncode == 0, started.stdout + started.stderr
        lines = started.stdout.strip().splitlines()
        assert len(lines) == 1 and "tradeterm attach" in lines[0], started.stdout
        holder = engine_holding(journal)
        assert holder is not None and holder.pid is not None
        pid = holder.pid
        assert f"pid {pid}" in lines[0] and str(log) in lines[0]
        assert holder.command == "tradeterm engine start --demo"  # --detach is not passed on

        status = _tradeterm("engine", "status", env=env, cwd=tmp_path)
        assert status.returncode == 0, status.stdout + status.stderr
        assert f"engine running: pid {pid}" in status.stdout
        assert "command  tradeterm engine start --demo" in status.stdout
        assert str(log) in status.stdout and "up " in status.stdout

        second = _tradeterm("--demo", "engine", "start", env=env, cwd=tmp_path)
        assert second.returncode == 2
        assert f"pid {pid}" in second.stderr and "another tradeterm engine" in second.stderr
        second_detached = _tradeterm("engine", "start", "--demo", "--detach", env=env,
                                     cwd=tmp_path)
        assert second_detached.returncode == 2 and f"pid {pid}" in second_detached.stderr

        deadline = time.monotonic() + 60  # the first status line comes 1 s after the journal
        while True:
            logs = _tradeterm("engine", "logs", "-n", "200", env=env, cwd=tmp_path)
            assert logs.returncode == 0, logs.stderr
            if "status equity=10000.00 USDT" in logs.stdout:
                break
            assert time.monotonic() < deadline, logs.stdout
            time.sleep(0.5)
        status_lines = [ln for ln in logs.stdout.splitlines() if ": status equity=" in ln]
        assert "day=0.00/-300.00 USDT positions=0 orders=0 trading=active" in status_lines[-1]
        text = log.read_text()
        assert text.count("restored: balance=") == 1  # the desk's line, not written twice
        assert "EngineReady exchange=binance" in text
        assert oct(log.stat().st_mode & 0o777) == "0o600"
        status = _tradeterm("engine", "status", env=env, cwd=tmp_path)
        assert "last     status equity=" in status.stdout
        # live figures over the engine's socket, and where that socket is
        assert "  socket   " in status.stdout and ".sock" in status.stdout
        assert ("live     running, paper, trading active, equity 10000.00 USDT," in status.stdout
                and "0 positions, 0 working orders, 0 screens attached" in status.stdout), \
            status.stdout

        refused = _tradeterm("engine", "stop", env=env, cwd=tmp_path)  # no tty, no --yes
        assert refused.returncode == 2 and "--yes" in refused.stderr
        assert _alive(pid)

        stopped = _tradeterm("engine", "stop", "--yes", env=env, cwd=tmp_path)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert "0 open positions and 0 working orders" in stopped.stdout
        assert f"engine stopped (pid {pid})" in stopped.stdout
        assert engine_holding(journal) is None
        deadline = time.monotonic() + 30
        while _alive(pid):
            assert time.monotonic() < deadline, "the engine process did not end"
            time.sleep(0.1)
        pid = None
        assert log.read_text().rstrip().endswith("tradeterm engine: stopped")
        assert "Traceback" not in log.read_text()

        after = _tradeterm("engine", "status", env=env, cwd=tmp_path)
        assert after.returncode == 3
        assert "no engine is running" in after.stdout
    finally:
        if pid is not None and _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_detached_engine_that_fails_prints_its_last_log_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A child that ends before it holds the journal (here its arguments are refused, which the
    CLI's own checks would have caught first) is reported with its last log lines and its exit
    status; its output went to the engine's log."""
    from tradeterm.config import Settings
    from tradeterm.service.cli import start_detached

    settings = Settings(data_dir=tmp_path / "data")
    (tmp_path / "data").mkdir()
    log = tmp_path / "data" / "tradeterm.log"
    log.write_text("an older run's line\n")
    code = start_detached(settings, ["engine", "start", "--bogus", "--detach"])
    err = capsys.readouterr().err
    assert code == 2
    assert "unknown flag --bogus" in err and "failed to start (exit status 2)" in err
    assert "an older run" not in err  # only what this child wrote
    assert "unknown flag --bogus" in log.read_text()
    assert engine_holding(settings.journal_file) is None
