"""The crash test: a headless engine paper-trading against the simulator is SIGKILLed mid-stream;
the journal is intact and a restart continues from exactly what was committed.

Real parts only: ``python -m tradeterm --demo run --headless`` in a subprocess (its own simulator
replaying candles at 600x, a 1m bar closes every 0.1 s), unmodified ccxt, a real SQLite file.
A replay is a sandbox that journals into its own file and starts afresh on every run
(``docs/replay.md``), so the restart is a paper engine opened on the killed replay's journal
(``TRADETERM_JOURNAL_PATH``): it restores exactly what the killed engine committed.
"""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradeterm.core.display import fmt_quote
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.journal import JournalReader, load_state

pytestmark = pytest.mark.integration

DEADLINE_S = 60.0

# Enters long on even minutes (stop 5 % below, target 5 % above), exits on odd minutes: a steady
# stream of entries, bracket children and closes.
STRATEGY = '''
import polars as pl
from tradeterm.strategy import Strategy


class Flip(Strategy):
    name = "flip"
    timeframe = "1m"

    def signals(self, frame):
        even = (pl.col("open_time") // 60_000) % 2 == 0
        return frame.with_columns(
            entry_long=even, entry_short=pl.lit(False),
            exit_long=~even, exit_short=pl.lit(False),
            stop=pl.col("close") * 0.95, target_1=pl.col("close") * 1.05,
            confidence=pl.lit(0.5), reasons=pl.lit("flip"),
        )
'''


def _env(tmp_path: Path, enabled: str) -> dict[str, str]:
    folder = tmp_path / "strategies"
    folder.mkdir(exist_ok=True)
    (folder / "flip.py").write_text(textwrap.dedent(STRATEGY))
    return {
        **os.environ, "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "TRADETERM_STRATEGIES__DIR": str(folder), "TRADETERM_STRATEGIES__ENABLED": enabled,
        "TRADETERM_STRATEGIES__LOOKAHEAD_CUTS": "2",
        # The replay runs 600x faster than the wall clock the order-rate rule counts on.
        "TRADETERM_RISK__MAX_ORDERS_PER_MINUTE": "10000",
    }


def _start(tmp_path: Path, replay: Path | None, enabled: str, stdout: Any,
           journal: Path | None = None) -> subprocess.Popen[str]:
    """``stdout``: a file while nobody reads (a full pipe would block the engine's prints).
    Without ``replay``: a paper engine on the synthetic market, on ``journal``."""
    market = ["--replay", str(replay), "--speed", "600"] if replay is not None else []
    env = _env(tmp_path, enabled)
    if journal is not None:
        env["TRADETERM_JOURNAL_PATH"] = str(journal)
    return subprocess.Popen(
        [sys.executable, "-m", "tradeterm", "--demo", *market, "run", "--headless"],
        stdout=stdout, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
        env=env, stdin=subprocess.DEVNULL,
    )


def _fills(path: Path) -> list[object]:
    return _read(path)[0]


def _read(path: Path) -> tuple[list[object], list[object]]:
    """(fills, closed trades) committed so far."""
    if not path.exists():
        return [], []
    try:
        with JournalReader(path) as reader:
            return list(reader.fills()), list(reader.trades())
    except Exception:  # not created or not migrated yet
        return [], []


def _line_starting(proc: subprocess.Popen[str], prefix: str, seen: list[str]) -> str:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line and proc.poll() is not None:
                break
            seen.append(line)
            if line.startswith(prefix):
                return line.strip()
    raise AssertionError(f"no {prefix!r} line in:\n{''.join(seen)}")


def test_sigkill_mid_stream_then_restart_restores_exactly_what_was_committed(tmp_path: Path):
    replay = tmp_path / "BTCUSDT_1m.parquet"
    synthetic_candles(3000, seed=5).rename({"open_time": "timestamp_ms"}).write_parquet(replay)
    journal = tmp_path / "BTCUSDT_1m.replay.sqlite"  # the replay's own journal

    log = (tmp_path / "first.out").open("w")
    proc = _start(tmp_path, replay, '["flip"]', log)
    try:
        deadline = time.monotonic() + DEADLINE_S
        while (progress := _read(journal)) and (len(progress[0]) < 8 or len(progress[1]) < 2):
            assert proc.poll() is None, (tmp_path / "first.out").read_text()
            assert time.monotonic() < deadline, "too few fills and closed trades in the journal"
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)  # mid-stream: the engine keeps trading until here
        proc.wait(timeout=30)
        log.close()
    assert proc.returncode == -signal.SIGKILL

    conn = sqlite3.connect(journal)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    state = load_state(journal)
    committed = _fills(journal)
    assert state.balance is not None and len(committed) >= 8
    assert state.realized_today != 0 and state.day_state is not None

    # no strategy: nothing trades while we look
    proc = _start(tmp_path, None, "[]", subprocess.PIPE, journal=journal)
    seen: list[str] = []
    try:
        restored = _line_starting(proc, "restored:", seen)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert restored == (
        f"restored: balance={fmt_quote(state.balance, 'USDT')} positions={len(state.positions)} "
        f"orders={len(state.orders)} realized_today={fmt_quote(state.realized_today, 'USDT')}"
    )
    assert state.day_state is not None  # the replayed day's loss state, untouched (the paper
    # engine's own day is today's, on its wall clock: a row of its own)
    conn = sqlite3.connect(journal)
    try:
        kept = conn.execute("SELECT realized_pnl, start_equity FROM day_state WHERE day = ?",
                            (state.day_state.day.isoformat(),)).fetchone()
    finally:
        conn.close()
    assert kept is not None and Decimal(kept[0]) == state.day_state.realized
    assert Decimal(kept[1]) == state.day_state.start_equity
    after = load_state(journal)
    assert {o.id for o in after.orders} <= {o.id for o in state.orders}
    still = {f.id: f for f in _fills(journal)}  # type: ignore[attr-defined]
    assert all(still[f.id] == f for f in committed)  # type: ignore[attr-defined]
