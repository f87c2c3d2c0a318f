"""Resident memory, CPU and terminal output of the real workstation after streaming a while.

Runs ``tradeterm --demo`` in a 120x40 pseudo-terminal (simulator in-process, ccxt over loopback,
exactly as a user runs it), lets it stream, then prints RSS, CPU use over the last stretch and
bytes written to the terminal per second (what a slow ssh link has to carry).

    uv run --extra test python benchmarks/memory.py [--seconds 60]

Budgets (docs/architecture.md): RSS < 200 MB, CPU a few % of one core, little output per second.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pty import PtyApp  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--cols", type=int, default=120)
    parser.add_argument("--rows", type=int, default=40)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as data:
        app = PtyApp(["--demo"], cols=args.cols, rows=args.rows, env={"XDG_DATA_HOME": data})
        proc = psutil.Process(app.proc.pid)
        try:
            warmup = min(20.0, args.seconds / 3)
            app.drain_for(warmup)
            cpu0 = proc.cpu_times()
            t0 = time.perf_counter()
            written = app.drain_for(args.seconds - warmup)
            elapsed = time.perf_counter() - t0
            cpu1 = proc.cpu_times()
            rss = proc.memory_info().rss
            threads = proc.num_threads()
        finally:
            app.stop()

    cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / elapsed * 100
    print(f"tradeterm --demo at {args.cols}x{args.rows}, after {args.seconds:.0f} s streaming "
          f"(simulator in-process, 1 symbol on screen, 3 in the watchlist)")
    print(f"  resident memory : {rss / 2**20:7.1f} MB   (budget < 200 MB)")
    print(f"  CPU             : {cpu:7.1f} % of one core over the last {elapsed:.0f} s "
          f"(app + in-process simulator; budget: a few %)")
    print(f"  terminal output : {written / elapsed / 1024:7.1f} KiB/s")
    print(f"  threads         : {threads}")


if __name__ == "__main__":
    main()
