"""`tradeterm --demo run --headless`: the engine without a screen, stopped cleanly by SIGTERM."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path


def test_headless_demo_streams_prints_events_and_stops_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradeterm", "--demo", "run", "--headless"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        stdin=subprocess.DEVNULL,
    )
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 1.0)
            if ready:
                line = proc.stdout.readline()  # type: ignore[union-attr]
                seen.append(line)
                if "FeedStatusChanged stream=book symbol=BTC/USDT status=connected" in line:
                    break
        else:
            raise AssertionError("no connected book stream in:\n" + "".join(seen))
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert any("EngineReady exchange=binance" in line for line in seen)
    assert "stopped" in err and "Traceback" not in err
    assert "status=stopped" in out  # streams were cancelled on the way out
