"""``tradeterm optimize`` and the ``tradeterm backtest`` research matrix draw progress bars on a
terminal only: a real pseudo-terminal shows them, pipes (CI, logs, a test's capture) get none.
With stdout redirected to a file and stderr still a terminal, the bars go to stderr and the
file holds only the report."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tradeterm.backtest.data.store import candle_path, write_atomic
from tradeterm.indicators.frame import synthetic_candles

pytestmark = pytest.mark.integration

STRATEGIES = Path(__file__).resolve().parents[2] / "strategies"

def bar(label: str) -> re.Pattern[str]:
    """A rich progress row: its description, the bar (BarColumn), done/total."""
    return re.compile(rf"{label}\s+[━╸╺╼ ]*[━╸╺╼]+[━╸╺╼ ]*\s+\d+/\d+")


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "TRADETERM_STRATEGIES__DIR": str(STRATEGIES),
            "TRADETERM_DATA_DIR": str(data_dir), "COLUMNS": "200", "TERM": "xterm-256color"}


def _store(tmp_path: Path) -> Path:
    for seed, symbol in ((12, "BTCUSDT"), (13, "ETHUSDT")):
        write_atomic(synthetic_candles(1500, seed=seed, start_price=60_000.0,
                                       interval_ms=3_600_000),
                     candle_path(tmp_path, symbol, "1h"))
    return tmp_path


OPTIMIZE = ["optimize", "ema_cross", "--symbol", "BTC/USDT", "--timeframe", "1h", "--grid",
            "--steps", "3", "--vary", "fast,slow", "--jobs", "1", "--no-guard"]
MATRIX = ["backtest", "ema_cross", "--symbols", "BTC/USDT,ETH/USDT", "--timeframes", "1h",
          "--no-guard"]


def _on_a_terminal(argv: list[str], data_dir: Path, *, stdout_file: Path | None = None
                   ) -> tuple[int, str]:
    """Run ``tradeterm ARGV`` with stderr (and stdout, unless ``stdout_file``) on a pty; what
    the terminal showed."""
    master, slave = pty.openpty()
    out = stdout_file.open("wb") if stdout_file is not None else slave
    try:
        proc = subprocess.Popen([sys.executable, "-m", "tradeterm", *argv], stdin=slave,
                                stdout=out, stderr=slave, env=_env(data_dir), close_fds=True)
    finally:
        os.close(slave)
        if stdout_file is not None:
            out.close()  # type: ignore[union-attr]
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return proc.wait(timeout=300), shown.decode(errors="replace")


@pytest.mark.parametrize("argv,label", [(OPTIMIZE, "in-sample"), (MATRIX, "backtests")])
def test_bars_on_a_terminal_and_none_in_pipes(tmp_path: Path, argv: list[str],
                                              label: str) -> None:
    data_dir = _store(tmp_path)
    status, shown = _on_a_terminal(argv, data_dir)
    assert status == 0, shown
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    assert bar(label).search(plain), shown
    assert (f"{label} " in plain) and ("7/7" in plain if argv is OPTIMIZE else "2/2" in plain)

    piped = subprocess.run([sys.executable, "-m", "tradeterm", *argv], capture_output=True,
                           text=True, timeout=300, env=_env(data_dir))
    assert piped.returncode == 0, piped.stderr
    assert "ema_cross" in piped.stdout  # the report itself
    assert not bar(label).search(piped.stdout + piped.stderr)
    assert "\x1b[" not in piped.stdout + piped.stderr  # no cursor moves either


def test_bars_go_to_stderr_when_stdout_is_a_file(tmp_path: Path) -> None:
    data_dir = _store(tmp_path)
    report = tmp_path / "report.txt"
    status, shown = _on_a_terminal(OPTIMIZE, data_dir, stdout_file=report)
    assert status == 0, shown
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown)
    assert bar("in-sample").search(plain), shown  # on the terminal (stderr)
    text = report.read_text()
    assert "top " in text and not bar("in-sample").search(text)  # the file: the report
    assert "\x1b[" not in text
