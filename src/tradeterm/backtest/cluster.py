"""The optimiser's trials on a Ray cluster (``tradeterm optimize --ray [ADDRESS]``; the
``cluster`` extra installs ray). Imported only then: nothing else in tradeterm needs ray.

Why this shape:

* One actor per CPU of the cluster, each holding the strategy class (built from the file's
  *source*, shipped with the actor: another machine does not have the user's file) and the
  compiled walk (loaded once per actor from numba's cache, compiled once per node otherwise).
* The candles are ``ray.put`` once per data set: the object store moves them once to each node
  that needs them, and each actor reads them from its node's store on first use. A task carries
  only the parameters and the bars to simulate; it returns a small :class:`Summary`.
* Results come back in task order (``ActorPool.map``), so a seeded study is the same on Ray as
  on the local pool (:mod:`~tradeterm.backtest.study` asks and tells in fixed batches).

Every node needs tradeterm (and the strategy's imports) installed in the Python that runs it.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradeterm.backtest.pool import Dataset, Done, Outcome, Task, evaluate

if TYPE_CHECKING:
    import polars as pl

    from tradeterm.backtest.runner import BacktestConfig


def _ray(module: str = "ray") -> Any:
    """ray, untyped on purpose: the type checker runs where the optional extra is absent too."""
    return importlib.import_module(module)


class _Worker:
    """The actor's body (wrapped by ``ray.remote`` in :class:`RayPool`)."""

    def __init__(self, source: str, file_name: str, strategy_name: str) -> None:
        from tradeterm.backtest.optimize import load_strategy_class
        from tradeterm.backtest.runner import warm_up

        folder = Path(tempfile.mkdtemp(prefix="tradeterm-ray-"))
        path = folder / file_name
        path.write_text(source)
        self.cls = load_strategy_class(path, strategy_name)
        self.name = strategy_name
        self.frames: dict[str, Any] = {}
        warm_up()

    def node(self) -> str:
        ray = _ray()
        return str(ray.get_runtime_context().get_node_id())

    def run(self, task: Task, refs: dict[str, Any]) -> Outcome:
        ray = _ray()
        key = task.dataset.key
        if key not in self.frames:
            self.frames[key] = ray.get(refs[key])  # from this node's object store
        return evaluate(self.cls, self.frames[key], task, self.name)


class RayPool:
    """An evaluator on a Ray cluster: ``address`` as ``ray.init`` takes it (``host:port``,
    ``ray://host:10001``, ``"auto"``), None for ``RAY_ADDRESS`` or a local Ray started here."""

    def __init__(self, strategy_file: Path, strategy_name: str, address: str | None) -> None:
        from tradeterm.backtest.optimize import load_strategy_class

        # Ray's own `uv run` hook would start each worker with `uv run` in another folder, where
        # it finds no project: workers use this interpreter (or the cluster's own) instead. Read
        # when ray is imported, hence before.
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
        ray = _ray()

        load_strategy_class(strategy_file, strategy_name)  # a bad file fails here, once
        self._owns = not ray.is_initialized()
        if self._owns:
            ray.init(address=address or os.environ.get("RAY_ADDRESS") or None,
                     logging_level="ERROR", log_to_driver=False, include_dashboard=False)
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        remote = ray.remote(num_cpus=1)(_Worker)
        source = strategy_file.read_text()
        self._actors = [remote.remote(source, strategy_file.name, strategy_name)
                        for _ in range(self.workers)]
        self.nodes = len(set(ray.get([a.node.remote() for a in self._actors])))
        self._pool = _ray("ray.util").ActorPool(self._actors)
        self._refs: dict[str, Any] = {}
        self._frames: dict[int, tuple[pl.DataFrame, Dataset]] = {}

    def dataset(self, candles: pl.DataFrame, config: BacktestConfig, timeframe_ms: int,
                symbol: str) -> Dataset:
        ray = _ray()
        found = self._frames.get(id(candles))
        if found is not None and found[1].config == config and found[1].symbol == symbol \
                and found[1].timeframe_ms == timeframe_ms:
            return found[1]
        key = f"candles-{len(self._refs)}"
        self._refs[key] = ray.put(candles)  # once; each node fetches it once
        data = Dataset(key, Path(key), config, timeframe_ms, symbol, candles.height)
        self._frames[id(candles)] = (candles, data)
        return data

    def run(self, tasks: Sequence[Task], done: Done | None = None) -> list[Outcome]:
        refs = self._refs
        out: list[Outcome] = []
        for outcome in self._pool.map(lambda actor, task: actor.run.remote(task, refs), tasks):
            out.append(outcome)
            if done:
                done(len(out), len(tasks))
        return out

    def close(self) -> None:
        ray = _ray()
        for actor in self._actors:
            ray.kill(actor)
        self._actors = []
        self._refs.clear()
        if self._owns:
            ray.shutdown()

    def __enter__(self) -> RayPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
