"""What the real workstation costs while it streams: terminal output, CPU, memory.

Runs ``tradeterm --demo`` in a pseudo-terminal (at 120x40, then at 240x70 by default;
simulator in-process, ccxt over loopback, exactly as a user runs it), lets it warm up, then
measures over the rest of the run: bytes written to the terminal per second (what a slow ssh
link has to carry), CPU of the process and its children as % of one core, and resident memory.

    uv run --extra test python benchmarks/terminal_load.py [--seconds 60] [--sizes 120x40,240x70]
    uv run --extra test python benchmarks/terminal_load.py --cols 80 --rows 24   # one size

Budgets (docs/architecture.md, issue 5): under 20 KB/s, under 10 % of one core, under 200 MB;
at 200 columns and more (issue 15) under 25 KB/s.
Exits 1 when a budget is exceeded, so it can gate a release check.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pty import PtyApp  # noqa: E402

BUDGET_BYTES_S = 20 * 1024
BUDGET_BYTES_S_BIG = 25 * 1024  # a 200+ column screen (issue 15)
BUDGET_CPU_PCT = 10.0
BUDGET_RSS_MB = 200.0


@dataclass(frozen=True)
class Load:
    seconds: float
    bytes_per_s: float
    cpu_pct: float  # of one core, process + children
    rss_mb: float  # process + children, each one's RSS (shared pages counted in every process)
    pss_mb: float  # process + children, proportional (shared pages divided among sharers)
    processes: int
    threads: int


def _cpu_s(proc: psutil.Process) -> float:
    """CPU seconds of ``proc`` and its live children."""
    total = 0.0
    for p in (proc, *proc.children(recursive=True)):
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def _memory_mb(proc: psutil.Process) -> tuple[float, float, int]:
    """Summed RSS, summed PSS (MB) and the count of ``proc`` and its children. With strategy
    worker processes forked from one forkserver, RSS counts the pages they share (polars,
    TA-Lib) once per process; PSS divides them, so it is what the machine actually spends."""
    rss = pss = count = 0
    for p in (proc, *proc.children(recursive=True)):
        try:
            info = p.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        rss, pss, count = rss + info.rss, pss + getattr(info, "pss", info.rss), count + 1
    return rss / 2**20, pss / 2**20, count


def measure(seconds: float, cols: int = 120, rows: int = 40) -> Load:
    """Run ``tradeterm --demo`` for ``seconds``; the first third (at most 20 s) is warm-up."""
    with tempfile.TemporaryDirectory() as data:
        app = PtyApp(["--demo"], cols=cols, rows=rows, env={"XDG_DATA_HOME": data})
        proc = psutil.Process(app.proc.pid)
        try:
            app.drain_for(min(20.0, seconds / 3))
            cpu0, t0 = _cpu_s(proc), time.perf_counter()
            written = app.drain_for(seconds - min(20.0, seconds / 3))
            elapsed = time.perf_counter() - t0
            cpu1 = _cpu_s(proc)
            (rss, pss, processes), threads = _memory_mb(proc), proc.num_threads()
        finally:
            app.stop()
    return Load(elapsed, written / elapsed, (cpu1 - cpu0) / elapsed * 100, rss, pss, processes,
                threads)


def report(load: Load, cols: int, rows: int) -> bool:
    """Print the figures against their budgets; True if all are within."""
    budget_bytes = BUDGET_BYTES_S_BIG if cols >= 200 else BUDGET_BYTES_S
    rows_out = [
        ("terminal output", load.bytes_per_s / 1024, "KiB/s", budget_bytes / 1024),
        ("CPU (one core)", load.cpu_pct, "%", BUDGET_CPU_PCT),
        ("memory (PSS)", load.pss_mb, "MB", BUDGET_RSS_MB),
    ]
    print(f"tradeterm --demo at {cols}x{rows}, measured over {load.seconds:.0f} s after warm-up "
          f"(process + children; simulator in-process, 3 symbols in the watchlist)")
    ok = True
    for name, value, unit, budget in rows_out:
        within = value <= budget
        ok &= within
        print(f"  {name:16}: {value:7.1f} {unit:5} budget {budget:5.0f} {unit:5} "
              f"{'ok' if within else 'OVER'}")
    print(f"  resident (RSS)  : {load.rss_mb:7.1f} MB    summed over {load.processes} processes "
          "(shared pages counted in each)")
    print(f"  threads         : {load.threads}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="whole run, warm-up included")
    parser.add_argument("--sizes", default="120x40,240x70",
                        help="terminal sizes COLSxROWS, comma-separated, measured one after the other")
    parser.add_argument("--cols", type=int, help="one size only: columns (with --rows)")
    parser.add_argument("--rows", type=int, help="one size only: rows (with --cols)")
    args = parser.parse_args()
    if args.cols or args.rows:
        sizes = [(args.cols or 120, args.rows or 40)]
    else:
        sizes = [(int(c), int(r)) for c, _, r in (s.partition("x") for s in args.sizes.split(","))]
    ok = True
    for cols, rows in sizes:
        ok &= report(measure(args.seconds, cols, rows), cols, rows)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
