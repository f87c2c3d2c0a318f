"""The log file holds every fill: it is 0600 like the journal, also when an older run left it
0644 (a real process: pytest's own log handlers would make ``basicConfig`` a no-op here)."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import logging, sys
from pathlib import Path
from tradeterm.cli import _setup_logging
from tradeterm.config import Settings
path = _setup_logging(Settings(data_dir=Path(sys.argv[1])))
logging.getLogger("tradeterm.desk").info("filled 0.1 BTC/USDT @ 64990.12")
print(path)
"""


@pytest.mark.parametrize("existing", [False, True])
def test_log_file_when_set_up_then_owner_only_and_written(tmp_path: Path, existing: bool):
    log = tmp_path / "tradeterm.log"
    if existing:
        log.write_text("an older run\n")
        log.chmod(0o644)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == log
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert "filled 0.1 BTC/USDT" in log.read_text()
