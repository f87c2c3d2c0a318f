"""A real ``tradeterm --demo run --headless`` process with a strategy stuck in an endless loop:
the other strategy keeps trading, the stuck one is FAILED at its deadline, and SIGTERM while a
strategy is stuck mid-evaluation still ends the process (and its worker) within 3 s."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.worker import GUARD_BARS

pytestmark = pytest.mark.integration

ALWAYS = '''
from pathlib import Path
import polars as pl
from tradeterm.strategy import Strategy


class Always(Strategy):
    name = "always"

    def signals(self, frame):
        if frame["close"][0] != GUARD_FIRST:  # a live frame, not the guard's synthetic one
            Path(SEEN).touch()
        return frame.with_columns(
            entry_long=pl.lit(True), entry_short=pl.lit(False),
            exit_long=pl.lit(False), exit_short=pl.lit(False),
        )
'''

# Hangs once the test creates the trigger file (so it passes the guard and gets enabled first);
# writes its pid when it starts looping.
HANG = '''
import os
from pathlib import Path
import polars as pl
from tradeterm.strategy import Strategy

TRIGGER = Path({trigger!r})


class Hang(Strategy):
    name = "hang"

    def signals(self, frame):
        if TRIGGER.exists():
            Path({pidfile!r}).write_text(str(os.getpid()))
            while True:
                pass
        return frame.with_columns(
            entry_long=pl.lit(False), entry_short=pl.lit(False),
            exit_long=pl.lit(False), exit_short=pl.lit(False),
        )
'''


def prepare(tmp_path: Path, eval_timeout_s: float) -> tuple[dict[str, str], Path, Path]:
    """The strategies folder, a replayed market at 600x (a 1m bar every 0.1 s) and the
    environment that points tradeterm at them; the hang trigger file and the pid file."""
    folder = tmp_path / "strategies"
    folder.mkdir()
    trigger, pidfile = tmp_path / "go", tmp_path / "hang.pid"
    seen = tmp_path / "always.seen"
    guard_first = synthetic_candles(GUARD_BARS, seed=1)["close"][0]  # the guard's first bar
    always = ALWAYS.replace("SEEN", repr(str(seen))).replace("GUARD_FIRST", repr(guard_first))
    (folder / "always.py").write_text(textwrap.dedent(always))
    (folder / "hang.py").write_text(
        textwrap.dedent(HANG.format(trigger=str(trigger), pidfile=str(pidfile)))
    )
    replay = tmp_path / "BTCUSDT_1m.parquet"
    synthetic_candles(3000, seed=5).rename({"open_time": "timestamp_ms"}).write_parquet(replay)
    env = {
        **os.environ, "XDG_DATA_HOME": str(tmp_path),
        "TRADETERM_SIM__REPLAY": str(replay), "TRADETERM_SIM__SPEED": "600",
        "TRADETERM_STRATEGIES__DIR": str(folder),
        "TRADETERM_STRATEGIES__ENABLED": '["always", "hang"]',
        "TRADETERM_STRATEGIES__LOOKAHEAD_CUTS": "2",
        "TRADETERM_STRATEGIES__EVAL_TIMEOUT_S": str(eval_timeout_s),
    }
    return env, trigger, pidfile


def start(tmp_path: Path, eval_timeout_s: float) -> tuple[subprocess.Popen[str], Path, Path]:
    env, trigger, pidfile = prepare(tmp_path, eval_timeout_s)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradeterm", "--demo", "run", "--headless"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        stdin=subprocess.DEVNULL, cwd=tmp_path,
    )
    return proc, trigger, pidfile


def read_until(proc: subprocess.Popen[str], seen: list[str], predicate, what: str,
               timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate(seen):
            return
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            seen.append(line)
    raise AssertionError(f"{what} not seen in:\n" + "".join(seen[-40:]))


def signals_of(seen: list[str], name: str) -> list[str]:
    return [line for line in seen if "SignalEmitted" in line and f"strategy='{name}'" in line
            or "SignalEmitted" in line and f"strategy={name}" in line]


def gone(pid: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ")[-1].startswith("Z"):
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_a_stuck_strategy_fails_at_its_deadline_while_the_other_keeps_signalling(tmp_path):
    proc, trigger, _ = start(tmp_path, eval_timeout_s=2.0)
    seen: list[str] = []
    try:
        read_until(proc, seen, lambda s: len(signals_of(s, "always")) >= 2, "signals of 'always'")
        trigger.touch()
        read_until(proc, seen, lambda s: any("StrategyFailed strategy=hang" in x for x in s),
                   "hang failed")
        [failed] = [x for x in seen if "StrategyFailed strategy=hang" in x]
        assert "reason=timed out after 2 s at the " in failed and failed.rstrip().endswith("close")
        after = len(seen)
        read_until(proc, seen, lambda s: len(signals_of(s[after:], "always")) >= 3,
                   "'always' signalling on after hang failed")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_sigterm_while_a_strategy_is_stuck_exits_within_3_s(tmp_path):
    proc, trigger, pidfile = start(tmp_path, eval_timeout_s=600.0)
    seen: list[str] = []
    try:
        read_until(proc, seen, lambda s: len(signals_of(s, "always")) >= 1, "a signal")
        trigger.touch()
        deadline = time.monotonic() + 60
        while not pidfile.exists() or not pidfile.read_text():
            assert time.monotonic() < deadline, "the strategy never started its loop"
            time.sleep(0.05)
        worker = int(pidfile.read_text())
        time.sleep(0.3)  # well inside the endless loop now (the deadline is 600 s)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=3)  # the liveness bound of the issue
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AssertionError("tradeterm did not exit within 3 s of SIGTERM") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "stopped" in err and "Traceback" not in err
    assert gone(worker, within_s=5), "the stuck strategy's worker outlived tradeterm"
