"""`tradeterm sim` as a user runs it: a real process, a real port, clear errors."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import polars as pl


def test_sim_command_serves_binance_api_until_interrupted() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradeterm", "sim", "--port", "0", "--seed", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        assert match, line
        base = match.group(1)
        assert httpx.get(f"{base}/api/v3/ping", timeout=10).json() == {}
        info = httpx.get(f"{base}/api/v3/exchangeInfo", timeout=10).json()
        assert {s["symbol"] for s in info["symbols"]} >= {"BTCUSDT", "ETHUSDT", "SOLUSDT"}
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    assert proc.returncode == 0
    assert "Traceback" not in proc.stderr.read()  # type: ignore[union-attr]


def test_sim_command_with_bad_replay_file_exits_2_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "candles.parquet"
    pl.DataFrame({"timestamp_ms": [0, 60_000], "open": [1.0, 2.0]}).write_parquet(bad)
    proc = subprocess.run(
        [sys.executable, "-m", "tradeterm", "sim", "--port", "0", "--replay", str(bad)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert f"{bad}: missing column(s) high, low, close, volume" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_demo_with_missing_replay_file_exits_2_before_the_screen_opens(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "tradeterm", "--demo", "--replay", str(tmp_path / "nope.parquet")],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert "nope.parquet: file not found" in proc.stderr
    assert "Traceback" not in proc.stderr
