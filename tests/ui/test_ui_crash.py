"""A crash of the screen: shown (one line), logged with its traceback to the log file (not the
terminal), and the process exits non-zero (it used to exit 0)."""

from __future__ import annotations

import logging
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_engine import FakeEngine

from tradeterm.config import Settings
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.widgets.status import StatusBar

BOOM = "boom from a widget"

# The real entry point (tradeterm.cli.main, what the `tradeterm` script runs) in a terminal,
# with the status bar made to raise on its third redraw (after the first frames).
CRASHING = f"""
import sys
from tradeterm.ui.widgets.status import StatusBar
calls = []
original = StatusBar.update_data
def update_data(self, *args, **kwargs):
    calls.append(1)
    if len(calls) == 3:
        raise RuntimeError({BOOM!r})
    return original(self, *args, **kwargs)
StatusBar.update_data = update_data
from tradeterm.cli import main
sys.exit(main(["--exchange", "binance"]))
"""


async def test_crash_when_a_widget_raises_then_return_code_1_and_traceback_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    def update_data(self: StatusBar, *args: object, **kwargs: object) -> None:
        raise RuntimeError(BOOM)

    monkeypatch.setattr(StatusBar, "update_data", update_data)
    settings = Settings(symbols=["BTC/USDT"], data_dir=tmp_path)
    app = TradetermApp(settings, FakeEngine(settings))
    with (caplog.at_level(logging.CRITICAL, logger="tradeterm.ui.app"),
          pytest.raises(RuntimeError, match=BOOM)):  # run_test re-raises it for tests
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
    assert app.return_code == 1
    records = [r for r in caplog.records if r.levelno == logging.CRITICAL]
    assert records  # (each redraw until the app has stopped raises again)
    assert all(r.exc_info is not None and BOOM in str(r.exc_info[1]) for r in records)


def run_in_terminal(script: str, env: dict[str, str], timeout: float) -> tuple[int, str]:
    """Run ``python -c script`` with a pseudo-terminal as stdin/stdout/stderr; (status, output)."""
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=child, stdout=child,
                            stderr=child, env=env, close_fds=True)
    os.close(child)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(main, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif proc.poll() is not None:
                break
        status = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    return status, output.decode("utf-8", "replace")


def test_crash_when_real_entry_point_then_exit_1_one_line_and_traceback_in_log(tmp_path: Path):
    env = {**os.environ, "TRADETERM_DATA_DIR": str(tmp_path), "TERM": "xterm-256color",
           "COLUMNS": "120", "LINES": "40"}
    status, output = run_in_terminal(CRASHING, env, timeout=60)  # a liveness bound only
    assert status == 1, output[-2000:]
    assert f"the screen failed: RuntimeError: {BOOM}" in output
    assert "Traceback" not in output  # the traceback is for the log file, not the terminal
    log = (tmp_path / "tradeterm.log").read_text()
    assert "the screen failed" in log and "Traceback (most recent call last)" in log
    assert f"RuntimeError: {BOOM}" in log and "update_data" in log
