"""Finding and stopping the engine by its journal lock, with real processes and real flocks:
a pid the lock file names but that does not hold the lock is never signalled; a real holder
is asked about, then stopped with SIGTERM, and the lock is released."""

from __future__ import annotations

import fcntl
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradeterm.config import Settings
from tradeterm.journal.lock import lock_path
from tradeterm.service import cli as service_cli
from tradeterm.service.control import running, verified_pid

HOLDER = """
import sys, time
from pathlib import Path
from tradeterm.journal.lock import EngineLock
EngineLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
time.sleep(600)
"""


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    proc.kill()
    proc.wait(timeout=10)


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def _fake_lock(journal: Path, pid: int) -> int:
    """The lock held by this test process, the file naming ``pid``: returns the fd."""
    path = lock_path(journal)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, json.dumps({"pid": pid, "started_ms": 1, "command": "tradeterm x"}).encode())
    return fd


def test_stop_never_signals_a_pid_that_does_not_hold_the_lock(
    tmp_path: Path, sleeper: subprocess.Popen[bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(tmp_path)
    journal = settings.journal_file
    fd = _fake_lock(journal, sleeper.pid)
    try:
        assert verified_pid(journal, os.getpid())  # the kernel's holder is this process
        assert not verified_pid(journal, sleeper.pid)
        engine = running(journal)
        assert engine is not None and engine.pid == sleeper.pid and not engine.verified
        assert service_cli.stop(settings, yes=True) == 1
        err = capsys.readouterr().err
        assert f"names pid {sleeper.pid}, which does not hold the engine lock" in err
        assert len(err.strip().splitlines()) == 1
        time.sleep(0.2)
        assert sleeper.poll() is None  # untouched
        assert service_cli.status(settings) == 0  # something holds the journal: say so
        assert "does not hold the lock" in capsys.readouterr().out
    finally:
        os.close(fd)
    assert running(journal) is None


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A real process holding the journal's engine lock (EngineLock, as the desk takes it)."""
    journal = _settings(tmp_path).journal_file
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(journal)], text=True,
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    yield proc
    proc.kill()
    proc.wait(timeout=10)


def test_stop_asks_first_and_a_no_leaves_the_engine_running(
    tmp_path: Path, holder: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = _settings(tmp_path)
    tty = io.StringIO("n\n")
    tty.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdin", tty)
    assert service_cli.stop(settings, yes=False) == 1
    out = capsys.readouterr().out
    assert f"pid {holder.pid}" in out and "not stopped" in out
    # no journal file here: the counts cannot be read, and it says so rather than guessing
    assert "open positions and orders could not be read" in out
    time.sleep(0.2)
    assert holder.poll() is None


def test_stop_refuses_without_yes_when_not_at_a_terminal(
    tmp_path: Path, holder: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert service_cli.stop(_settings(tmp_path), yes=False) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1 and "--yes" in captured.err
    assert holder.poll() is None


def test_stop_with_yes_sends_sigterm_and_waits_for_the_lock(
    tmp_path: Path, holder: subprocess.Popen[str], capsys: pytest.CaptureFixture[str],
) -> None:
    settings = _settings(tmp_path)
    assert service_cli.stop(settings, yes=True) == 0
    assert holder.wait(timeout=10) == -15  # SIGTERM
    assert running(settings.journal_file) is None
    assert f"engine stopped (pid {holder.pid})" in capsys.readouterr().out
    assert service_cli.status(settings) == service_cli.NOT_RUNNING
    assert service_cli.stop(settings, yes=True) == 0  # nothing to stop is not an error
    assert "nothing to stop" in capsys.readouterr().out


def test_stop_that_outlasts_the_wait_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    """A holder that ignores SIGTERM: stop gives up after the bound and says what to do."""
    journal = _settings(tmp_path).journal_file
    script = "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + HOLDER
    proc = subprocess.Popen([sys.executable, "-c", script, str(journal)], text=True,
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        assert service_cli.stop(_settings(tmp_path), yes=True, wait_s=0.5) == 1
        err = capsys.readouterr().err
        assert f"pid {proc.pid} still holds" in err and f"kill -9 {proc.pid}" in err
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _journal_with(path: Path, positions: int, orders: int) -> None:
    """A real journal (the writer's) with open positions and working orders."""
    from decimal import Decimal

    from tradeterm.core.trading import (
        AccountSnapshot,
        Order,
        OrderRequest,
        OrderStatus,
        OrderType,
        Position,
    )
    from tradeterm.journal import AccountRecord, JournalWriter, RunRecord

    path.parent.mkdir(parents=True, exist_ok=True)
    pos = tuple(Position(s, Decimal("0.1"), Decimal("100"), 1_000)
                for s in ("BTC/USDT", "ETH/USDT", "SOL/USDT")[:positions])
    req = OrderRequest("BTC/USDT", "buy", OrderType.LIMIT, Decimal("0.1"), Decimal("90"))
    account = AccountSnapshot("USDT", Decimal("10000"), Decimal("10000"), Decimal(0),
                              Decimal(0), positions=pos)
    with JournalWriter(path, run=RunRecord(1, "0.1.0", "paper", "abc")) as writer:
        writer.write(AccountRecord(1_000, account)).result(20)
        for i in range(orders):
            writer.write(Order(f"o{i}", req, OrderStatus.OPEN, 1_000 + i, 1_000 + i)).result(20)
        writer.write(Order("done", req, OrderStatus.FILLED, 2_000, 2_000)).result(20)


def test_stop_counts_open_positions_and_working_orders_from_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    settings = _settings(tmp_path)
    _journal_with(settings.journal_file, positions=1, orders=2)
    assert service_cli.open_counts(settings.journal_file) == (1, 2)
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(settings.journal_file)],
                            text=True, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        tty = io.StringIO("\n")  # Enter: the default is no
        tty.isatty = lambda: True  # type: ignore[method-assign]
        monkeypatch.setattr(sys, "stdin", tty)
        assert service_cli.stop(settings, yes=False) == 1
        out = capsys.readouterr().out
        assert f"The engine pid {proc.pid}" in out
        assert "has 1 open position and 2 working orders." in out and "not stopped" in out
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait(timeout=10)
