"""``optimize --ray``: a real Ray cluster on this machine (a head node and a second node, each
its own raylet with one CPU, started by ``ray.cluster_utils.Cluster`` on the node's own
address), running a seeded Optuna study whose trials and summaries must equal the same study
run in this process.

Runs when ray is installed (``uv run --extra test --extra cluster pytest -m cluster``); without
it the test is reported as skipped. Why CI does not install the extra: ray is a 76 MB download
that unpacks to ~200 MB (the biggest dependency of the project, for an optional feature), and on
the 2-core CI machine, shared with the rest of the suite, starting the two nodes and their actors
took 42-100 s for this test under a load average of 10-12 (1 min 52 s with uv installing ray),
close to the suite's 120 s per-test timeout, against a few seconds for the rest of the optimiser's
tests; the local pool, which everyone uses, is tested in CI by tests/unit/backtest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from ray.cluster_utils import Cluster  # noqa: E402

from tradeterm.backtest.cluster import RayPool  # noqa: E402
from tradeterm.backtest.optimize import Job, load_strategy_class  # noqa: E402
from tradeterm.backtest.pool import Serial  # noqa: E402
from tradeterm.backtest.runner import BacktestConfig  # noqa: E402
from tradeterm.backtest.study import run_study  # noqa: E402
from tradeterm.indicators.frame import synthetic_candles  # noqa: E402

pytestmark = pytest.mark.cluster

CROSS = '''
import polars as pl
from pydantic import Field
from tradeterm.strategy import Strategy


class Cross(Strategy):
    name = "cross"
    constraints = ("fast < slow",)

    class Params(Strategy.Params):
        fast: int = Field(3, ge=2, le=30)
        slow: int = Field(10, ge=3, le=30)

    def signals(self, frame):
        p = self.params
        fast = pl.col("close").rolling_mean(p.fast)
        slow = pl.col("close").rolling_mean(p.slow)
        up = ((fast > slow) & (fast.shift(1) <= slow.shift(1))).fill_null(False)
        down = ((fast < slow) & (fast.shift(1) >= slow.shift(1))).fill_null(False)
        return frame.with_columns(
            entry_long=up, entry_short=down, exit_long=down, exit_short=up,
            stop=pl.when(up).then(pl.col("close") * 0.99).otherwise(pl.col("close") * 1.01),
        )
'''


def _study(pool, file: Path, storage: Path):
    candles = synthetic_candles(1500, seed=5)
    cls = load_strategy_class(file, "cross")
    job = Job(file, "cross", candles, BacktestConfig(), 60_000, 1000)
    return run_study(job, cls, pool, space=cls.param_space(), names=["fast", "slow"],
                     explicit={}, metrics=["sharpe"], trials=8, seed=11, storage=storage,
                     name="ray", batch=4, top=3)


@pytest.mark.timeout(600)
def test_a_seeded_study_on_a_two_node_ray_cluster_equals_the_local_run(tmp_path, monkeypatch):
    # the nodes' workers run this interpreter, not Ray's `uv run` hook (which starts them in
    # another folder and breaks under `uv run --no-sync`); ray read the variable on import
    from ray._private import ray_constants

    monkeypatch.setattr(ray_constants, "RAY_ENABLE_UV_RUN_RUNTIME_ENV", False)
    file = tmp_path / "cross.py"
    file.write_text(CROSS)
    with Serial(file, "cross") as pool:
        local = _study(pool, file, tmp_path / "local.sqlite")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        with RayPool(file, "cross", cluster.address) as pool:
            assert (pool.workers, pool.nodes) == (2, 2)  # one actor on each node
            remote = _study(pool, file, tmp_path / "ray.sqlite")
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert remote.result.in_sample == local.result.in_sample
    assert len(local.result.in_sample) == 8
    assert [(r.index, r.params, r.in_sample, r.out_of_sample) for r in remote.result.top] == [
        (r.index, r.params, r.in_sample, r.out_of_sample) for r in local.result.top]
    assert all(r.out_of_sample is not None for r in remote.result.top)
