"""The optimiser's speed: the 81-combination ``ema_cross`` grid (fast x slow, 9 steps each) on
130k one-minute bars, as a plain loop, on the local pool, and on Ray with 1 and 2 nodes.

    uv run python benchmarks/optimize.py [--runs 3] [--workers 2] [--data FILE]
    uv run --extra cluster python benchmarks/optimize.py --ray     # adds the Ray rows

Candles: ``--data FILE``, else the real BTC/USDT file of ``../shared/data`` (130,708 bars) when
it is there, else 130,000 generated bars. Every candidate is backtested on every bar (``--split
1``: no out-of-sample phase), ranked by Sharpe; all modes must give the same summaries (checked).

Then a TPE study of 81 trials on the local pool (Optuna's sampling and the SQLite study
included; trials the ``fast < slow`` constraint refuses are not run).

Printed per mode: the time to start it (processes, the compiled walk, the candles written
once), the time for the 81 candidates once started (best and worst of ``--runs``), candidates
per second, and the speed-up over the plain loop ("with start": one command's figure, start plus
one search). The machine is shared: repeat it, and read ranges.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
REAL = "binance_spot_BTCUSDT_1m_2025-05-20_2025-08-18_filim.parquet"


def _candles(path: Path | None) -> tuple[object, str]:
    from tradeterm.indicators.frame import synthetic_candles
    from tradeterm.strategy.check import read_candles

    for candidate in (path, SHARED / REAL, Path("/work/shared/data") / REAL):
        if candidate is not None and candidate.is_file():
            return read_candles(candidate), candidate.name
    return synthetic_candles(130_000, seed=1), "130,000 generated bars"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--data", type=Path)
    ap.add_argument("--ray", action="store_true", help="also Ray with 1 and 2 local nodes")
    args = ap.parse_args()
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")  # before ray: see cluster.py

    from tradeterm.backtest.optimize import Job, grid_candidates, load_strategy_class, optimize
    from tradeterm.backtest.pool import LocalPool, Serial
    from tradeterm.backtest.runner import BacktestConfig, rules_for

    candles, label = _candles(args.data)
    file = ROOT / "strategies" / "ema_cross.py"
    cls = load_strategy_class(file, "ema_cross")
    cands = grid_candidates(cls.param_space(), 9, vary=["fast", "slow"])
    config = BacktestConfig(rules=rules_for("BTC/USDT"))
    job = Job(file, "ema_cross", candles, config, 60_000, candles.height,  # type: ignore[attr-defined]
              "BTC/USDT")
    print(f"ema_cross, {len(cands)} candidates (fast x slow), {label}: "
          f"{candles.height:,} bars, {os.cpu_count()} cores")  # type: ignore[attr-defined]

    def measure(name: str, opener: object) -> float:
        t0 = time.perf_counter()
        pool = opener()  # type: ignore[operator]
        started = time.perf_counter() - t0
        times = []
        summaries = None
        try:
            for _ in range(args.runs):
                t = time.perf_counter()
                result = optimize(job, cands, metric="sharpe", top=0, pool=pool)
                times.append(time.perf_counter() - t)
                summaries = [result.in_sample[i] for i in sorted(result.in_sample)]
        finally:
            pool.close()
        reference.setdefault("summaries", summaries)
        same = "same" if summaries == reference["summaries"] else "DIFFERENT"
        best = min(times)
        base = reference.setdefault("serial", best)
        print(f"{name:<24} start {started:5.2f} s | {len(cands)} candidates "
              f"{best:5.2f}-{max(times):5.2f} s | {len(cands) / best:5.1f}/s | "
              f"x{base / best:4.2f} (x{base / (started + best):4.2f} with start) | "
              f"summaries {same}")
        return best

    reference: dict[str, object] = {}
    measure("plain loop (serial)", lambda: Serial(file, "ema_cross"))
    measure(f"local pool, {args.workers} workers",
            lambda: LocalPool(file, "ema_cross", args.workers))
    _study_row(job, cls, file, args.workers)
    if args.ray:
        _ray_rows(measure, file)


def _study_row(job: object, cls: object, file: Path, workers: int) -> None:
    """A TPE study of 81 trials (batch 8) on the local pool: the sampler's and SQLite's
    bookkeeping included."""
    import tempfile

    from tradeterm.backtest.pool import LocalPool
    from tradeterm.backtest.study import run_study

    with tempfile.TemporaryDirectory() as tmp, LocalPool(file, "ema_cross", workers) as pool:
        t = time.perf_counter()
        done = run_study(job, cls, pool, space=cls.param_space(),  # type: ignore[arg-type,attr-defined]
                         names=["fast", "slow"], explicit={}, metrics=["sharpe"], trials=81,
                         seed=0, storage=Path(tmp) / "s.sqlite", name="bench", top=0)
        took = time.perf_counter() - t
    print(f"{'tpe study, local pool':<24} 81 trials ({done.pruned} refused, never run) "
          f"{took:5.2f} s | {81 / took:5.1f} trials/s")


def _ray_rows(measure: object, file: Path) -> None:
    """Ray with one node, then two (each node 1 CPU on this machine), started here."""
    try:
        from ray.cluster_utils import Cluster
    except ImportError:
        print("ray is not installed (uv sync --extra cluster): no Ray rows")
        return
    from tradeterm.backtest.cluster import RayPool

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        measure("ray, 1 node (1 CPU)",  # type: ignore[operator]
                lambda: RayPool(file, "ema_cross", cluster.address))
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        measure("ray, 2 nodes (1 CPU each)",  # type: ignore[operator]
                lambda: RayPool(file, "ema_cross", cluster.address))
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    main()
