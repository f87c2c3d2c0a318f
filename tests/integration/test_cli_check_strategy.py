"""`tradeterm check-strategy` as a user runs it: exit status and the named column and bar."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PEEKING = '''
import polars as pl
from tradeterm.strategy import Strategy


class Peek(Strategy):
    name = "peek"

    def signals(self, frame):
        nxt = pl.col("close").shift(-1)
        return frame.with_columns(
            entry_long=nxt > pl.col("close"), entry_short=pl.lit(False),
            exit_long=pl.lit(False), exit_short=pl.lit(False),
        )
'''


def run(args: list[str], strategies: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRADETERM_STRATEGIES__DIR": str(strategies)}
    return subprocess.run(
        [sys.executable, "-m", "tradeterm", "check-strategy", *args],
        capture_output=True, text=True, timeout=120, env=env,
    )


def test_peeking_strategy_exits_1_naming_column_and_bar(tmp_path: Path) -> None:
    (tmp_path / "peek.py").write_text(PEEKING)
    proc = run(["peek"], tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = " ".join(proc.stdout.split())
    assert "LOOK-AHEAD in column entry_long at bar " in out
    assert "Traceback" not in proc.stderr


def test_shipped_ema_cross_is_clean() -> None:
    repo = Path(__file__).resolve().parents[2]
    proc = run(["ema_cross"], repo / "strategies")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no look-ahead" in proc.stdout


def test_unknown_strategy_exits_2(tmp_path: Path) -> None:
    proc = run(["nope"], tmp_path)
    assert proc.returncode == 2
    assert "no strategy named 'nope'" in proc.stdout + proc.stderr
