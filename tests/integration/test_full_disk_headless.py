"""A full disk in a real headless run: the journal halts trading, every denial is printed while
the strategy keeps signalling, the signals and denials are kept as counts, and when space
returns the recovery is printed and nothing committed is lost.

Real parts only: ``python -m tradeterm --demo run --headless`` in a subprocess (its own simulator
replaying candles at 600x), unmodified ccxt, a real SQLite file. The "full disk" is the
process's file-size limit (``RLIMIT_FSIZE``, set from outside with ``prlimit``): a write past it
fails as a write to a full disk does; lifting the limit is space returning.
"""

from __future__ import annotations

import re
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_crash_recovery import _env, _read

from tradeterm.indicators.frame import synthetic_candles

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not hasattr(resource, "prlimit"), reason="needs Linux prlimit"),
]

DEADLINE_S = 60.0


def _wait(what: str, predicate, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():
        assert time.monotonic() < deadline, f"no {what} in:\n{''.join(lines[-80:])}"
        time.sleep(0.05)


def test_full_disk_then_space_returns_in_a_real_headless_run(tmp_path: Path):
    replay = tmp_path / "BTCUSDT_1m.parquet"
    synthetic_candles(3000, seed=5).rename({"open_time": "timestamp_ms"}).write_parquet(replay)
    journal = tmp_path / "BTCUSDT_1m.replay.sqlite"  # a replay journals beside its data
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradeterm", "--demo", "--replay", str(replay), "--speed", "600",
         "run", "--headless"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
        env=_env(tmp_path, '["flip"]'), stdin=subprocess.DEVNULL,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
                              daemon=True)
    reader.start()

    def printed(text: str) -> list[str]:
        return [ln for ln in list(lines) if text in ln]

    try:
        _wait("fills in the journal", lambda: len(_read(journal)[0]) >= 4, lines)
        # No byte past the first may be written: the journal (and the log file) are full. (A
        # limit at the files' sizes would not do: SQLite rewinds its WAL after a checkpoint.)
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (1, resource.RLIM_INFINITY))
        _wait("halt", lambda: [ln for ln in printed("TradingStateChanged state=halted")
                               if "could not commit to the journal" in ln], lines)
        halted_at = len(lines)
        _wait("denials", lambda: len([ln for ln in lines[halted_at:]
                                      if " OrderDenied " in ln]) >= 5, lines)
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE,
                         (resource.RLIM_INFINITY, resource.RLIM_INFINITY))  # space returns
        _wait("recovery", lambda: printed("writes recovered"), lines)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        reader.join(timeout=10)
    assert proc.returncode == 0, "".join(lines[-80:])
    assert all(" rule=" in ln and ": " in ln for ln in printed(" OrderDenied "))

    fills_shown = {m.group(1) for ln in printed(" OrderFilled ")
                   if (m := re.search(r" fill=(\S+) ", ln))}
    conn = sqlite3.connect(journal)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        kept = {row[0] for row in conn.execute("SELECT id FROM fills")}
        counted = conn.execute(
            "SELECT coalesced FROM risk_events WHERE kind = 'denied' AND coalesced > 1"
        ).fetchall()
    finally:
        conn.close()
    assert fills_shown and fills_shown <= kept  # every fill shown was committed
    assert counted, "the denials during the halt were not kept as counts"
