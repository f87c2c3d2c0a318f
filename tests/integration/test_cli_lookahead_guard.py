"""The look-ahead guard as a user meets it: ``check-strategy``, ``backtest`` and ``optimize`` (real
processes, real parquet files) catch a strategy that peeks on a few bars, on every dataset, and
name the bar; ``--no-guard`` runs it and says so; an honest strategy runs, its verdict cached."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from lookahead_samples import RARE_PEEK_SRC, peeked_bars, write

from tradeterm.indicators.frame import synthetic_candles

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DATASETS = [(1, 0), (2, 7), (4, 3)]


def run(command: list[str], strategies: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRADETERM_STRATEGIES__DIR": str(strategies),
           "TRADETERM_DATA_DIR": str(data_dir), "COLUMNS": "400"}
    return subprocess.run([sys.executable, "-m", "tradeterm", *command],
                          capture_output=True, text=True, timeout=300, env=env)


def candles(tmp_path: Path, seed: int, start: int) -> tuple[Path, pl.DataFrame]:
    frame = synthetic_candles(6000, seed=seed, start_ms=1_704_067_200_000 + start * 60_000)
    path = tmp_path / f"candles_{seed}_{start}.parquet"
    frame.write_parquet(path)
    return path, frame


COMMANDS = {
    "check-strategy": (["check-strategy", "rare_peek", "--data"], [], 1),
    "backtest": (["backtest", "rare_peek", "--no-store", "--no-chart", "--data"], [], 2),
    "optimize": (["optimize", "rare_peek", "--grid", "--steps", "2", "--jobs", "1", "--data"],
                 [], 2),
}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize(("seed", "start"), DATASETS)
def test_a_strategy_peeking_on_a_few_bars_is_refused_naming_the_bar(tmp_path, command, seed,
                                                                    start):
    write(tmp_path, RARE_PEEK_SRC, "rare_peek")
    data, frame = candles(tmp_path, seed, start)
    first = peeked_bars(frame)[0]
    head, tail, status = COMMANDS[command]
    proc = run([*head, str(data), *tail], tmp_path, tmp_path / "data")
    out = " ".join(proc.stdout.split())
    assert proc.returncode == status, proc.stdout + proc.stderr
    assert f"at bar {first} (" in out
    assert "entry_long is True with the later bars, False without them" in out
    assert "Traceback" not in proc.stderr
    if command != "check-strategy":
        assert f"tradeterm {command}: refused: rare_peek looks ahead at bar {first}" in out
        assert "Total return" not in out and "rank" not in out.lower()  # no results shown


@pytest.mark.parametrize("command", ["backtest", "optimize"])
def test_no_guard_runs_it_and_says_so(tmp_path, command):
    write(tmp_path, RARE_PEEK_SRC, "rare_peek")
    data, _ = candles(tmp_path, 1, 0)
    head, tail, _ = COMMANDS[command]
    proc = run([*head, str(data), *tail, "--no-guard"], tmp_path, tmp_path / "data")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = " ".join(proc.stdout.split())
    assert out.startswith("look-ahead guard: SKIPPED (--no-guard)")
    assert "not checked for look-ahead" in out


def test_an_honest_shipped_strategy_runs_and_its_verdict_is_cached(tmp_path):
    data, _ = candles(tmp_path, 3, 0)
    args = ["backtest", "ema_cross", "--no-store", "--no-chart", "--timeframe", "1m", "--data",
            str(data)]
    first = run(args, REPO / "strategies", tmp_path / "data")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "look-ahead guard: ok (" in first.stdout and "cached" not in first.stdout
    again = run(args, REPO / "strategies", tmp_path / "data")
    assert again.returncode == 0 and "look-ahead guard: ok (" in again.stdout
    assert "; cached)" in again.stdout
    assert len(list((tmp_path / "data" / "guard-cache").glob("*.json"))) == 1
