"""Where the optimiser's backtests run: in this process, on a persistent local pool, or on a Ray
cluster (:mod:`tradeterm.backtest.cluster`). All three take the same small tasks (a candidate's
parameters and the bars to simulate) and return the same small :class:`Summary` records.

Why a persistent pool, and not one ``ProcessPoolExecutor`` per phase: measured on the
81-combination ``ema_cross`` grid over 130,708 one-minute bars (2-core machine), the old two
spawn pools ran 1.7x *slower* than a plain loop. Each pool started fresh interpreters (~1.5 s
apiece: polars, numba, the strategy), pickled the candles into every worker, and the
out-of-sample phase paid all of that again. Here:

* the pool is started **once** per command and serves every phase, fold and data set;
* workers are forked from a forkserver that has already imported polars, numpy, numba and the
  backtester (a fork costs ~40 ms, a spawn ~1.5 s); the forkserver itself runs no polars code, so
  no thread pool is forked half-alive (a plain ``fork`` of a process that ran polars can
  deadlock); each worker then loads the compiled walk from numba's disk cache once;
* the candles are written once, one ``.npy`` file per column, that every worker memory-maps
  (:func:`write_columns`; polars 2 no longer maps an Arrow IPC file): one copy in the page
  cache for all workers, nothing pickled per task but the parameters;
* each worker's polars thread pool is sized to its share of the cores, so two workers do not
  fight over two cores with four threads.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import polars as pl

    from tradeterm.backtest.optimize import Summary
    from tradeterm.backtest.runner import BacktestConfig
    from tradeterm.strategy.api import Strategy

PRELOAD = ("polars", "numpy", "tradeterm.backtest.runner", "tradeterm.backtest.walk",
           "tradeterm.backtest.kernel", "tradeterm.backtest.metrics", "tradeterm.backtest.pool",
           "tradeterm.strategy.loader")
"""Imported once in the forkserver (imports only: no polars computation runs there)."""


@dataclass(frozen=True, slots=True)
class Dataset:
    """One data set the workers hold: the candles (a folder of memory-mapped columns, or a Ray
    object), the account and the market. Small and picklable: it travels with every task."""

    key: str
    path: Path
    config: BacktestConfig
    timeframe_ms: int
    symbol: str
    bars: int


@dataclass(frozen=True, slots=True)
class Task:
    """Backtest ``params`` on ``dataset``'s bars ``[start, stop)`` (the strategy is evaluated
    on the whole history, so the slice starts with warm indicators)."""

    index: int
    params: dict[str, Any]
    dataset: Dataset
    start: int
    stop: int


Outcome = tuple[int, "Summary | None", "str | None"]
"""``(index, summary, error)``: a strategy that raises gives ``(index, None, message)``."""

Done = Callable[[int, int], None]
"""``done(completed, total)`` after each finished task."""


class Evaluator(Protocol):
    """Runs tasks; results in task order, whatever order they finished in."""

    workers: int

    def dataset(self, candles: pl.DataFrame, config: BacktestConfig, timeframe_ms: int,
                symbol: str) -> Dataset: ...

    def run(self, tasks: Sequence[Task], done: Done | None = None) -> list[Outcome]: ...

    def close(self) -> None: ...


# -- what every worker (and the serial loop) does -----------------------------------------------


def evaluate(cls: type[Strategy], candles: pl.DataFrame, task: Task, name: str) -> Outcome:
    """One backtest; an exception in the strategy becomes an error message instead of killing
    the search."""
    from tradeterm.backtest.optimize import summarize
    from tradeterm.backtest.runner import simulate

    d = task.dataset
    try:
        frame = cls(task.params).evaluate(candles)
        part = frame.slice(task.start, task.stop - task.start)
        result = simulate(part, d.config, d.timeframe_ms, symbol=d.symbol, strategy=name)
        return task.index, summarize(result), None
    except Exception as exc:  # noqa: BLE001 - user code: report, keep searching
        return task.index, None, f"{type(exc).__name__}: {exc}"


_STATE: dict[str, Any] = {}
"""A worker's strategy class and memory-mapped candles (by file), set up once per process."""


def _worker_init(strategy_file: Path, strategy_name: str, threads: int) -> None:
    os.environ["POLARS_MAX_THREADS"] = str(threads)  # read when polars first computes here
    from tradeterm.backtest.optimize import load_strategy_class
    from tradeterm.backtest.runner import warm_up

    _STATE["cls"] = load_strategy_class(strategy_file, strategy_name)
    _STATE["name"] = strategy_name
    _STATE["data"] = {}
    warm_up()  # the compiled walk from numba's disk cache, once per worker


def write_columns(candles: pl.DataFrame, folder: Path) -> None:
    """The candles as one ``.npy`` file per column (numeric columns without nulls: the candle
    store's ``open_time`` and OHLCV), else as one Arrow IPC file. Why not IPC alone: polars 2
    reads an IPC file into memory (measured: +160 MB for a 160 MB file), while a memory-mapped
    ``.npy`` becomes a polars column without a copy, so every worker shares the page cache."""
    import numpy as np

    folder.mkdir(parents=True)
    if all(dt.is_numeric() for dt in candles.dtypes) and not any(
            candles.null_count().row(0)):
        for name in candles.columns:
            np.save(folder / f"{len(list(folder.iterdir())):03d}.npy",
                    candles.get_column(name).to_numpy())
        (folder / "columns.txt").write_text("\n".join(candles.columns))
    else:
        candles.write_ipc(folder / "candles.arrow")


def read_columns(folder: Path) -> pl.DataFrame:
    """What :func:`write_columns` wrote: columns memory-mapped where they can be."""
    import numpy as np
    import polars as pl

    names = folder / "columns.txt"
    if not names.exists():
        return pl.read_ipc(folder / "candles.arrow")
    columns = names.read_text().split("\n")
    return pl.DataFrame({name: np.load(folder / f"{i:03d}.npy", mmap_mode="r")
                         for i, name in enumerate(columns)})


def _candles(path: Path) -> pl.DataFrame:
    data: dict[Path, pl.DataFrame] = _STATE["data"]
    if path not in data:
        data[path] = read_columns(path)
    return data[path]


def _ping() -> int:
    return os.getpid()


def _worker_run(task: Task) -> Outcome:
    return evaluate(_STATE["cls"], _candles(task.dataset.path), task, _STATE["name"])


# -- the evaluators -----------------------------------------------------------------------------


class _Datasets:
    """The Arrow IPC files of one evaluator, written once each, removed on close."""

    def __init__(self) -> None:
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._by_id: dict[int, tuple[pl.DataFrame, Dataset]] = {}

    def add(self, candles: pl.DataFrame, config: BacktestConfig, timeframe_ms: int,
            symbol: str) -> Dataset:
        key = id(candles)
        found = self._by_id.get(key)
        if found is not None and found[1].config == config and found[1].symbol == symbol \
                and found[1].timeframe_ms == timeframe_ms:
            return found[1]
        if self._dir is None:
            self._dir = tempfile.TemporaryDirectory(prefix="tradeterm-opt-")
        path = Path(self._dir.name) / f"candles-{len(self._by_id)}"
        write_columns(candles, path)
        data = Dataset(path.name, path, config, timeframe_ms, symbol, candles.height)
        self._by_id[key] = (candles, data)  # the frame is kept so its id is not reused
        return data

    def frame(self, data: Dataset) -> pl.DataFrame:
        for candles, known in self._by_id.values():
            if known.path == data.path:
                return candles
        raise KeyError(data.path)

    def close(self) -> None:
        self._by_id.clear()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


class Serial:
    """Every task in this process, one after another (``--jobs 1``)."""

    workers = 1

    def __init__(self, strategy_file: Path, strategy_name: str) -> None:
        from tradeterm.backtest.optimize import load_strategy_class

        self.cls = load_strategy_class(strategy_file, strategy_name)
        self.name = strategy_name
        self._data = _Datasets()

    def dataset(self, candles: pl.DataFrame, config: BacktestConfig, timeframe_ms: int,
                symbol: str) -> Dataset:
        return self._data.add(candles, config, timeframe_ms, symbol)

    def run(self, tasks: Sequence[Task], done: Done | None = None) -> list[Outcome]:
        out: list[Outcome] = []
        for task in tasks:
            out.append(evaluate(self.cls, self._data.frame(task.dataset), task, self.name))
            if done:
                done(len(out), len(tasks))
        return out

    def close(self) -> None:
        self._data.close()

    def __enter__(self) -> Serial:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class LocalPool:
    """``workers`` processes forked from a preloaded forkserver, kept for the pool's lifetime."""

    def __init__(self, strategy_file: Path, strategy_name: str, workers: int) -> None:
        from concurrent.futures import ProcessPoolExecutor

        from tradeterm.backtest.optimize import load_strategy_class
        from tradeterm.backtest.runner import warm_up

        load_strategy_class(strategy_file, strategy_name)  # a bad file fails here, once
        warm_up()  # compile (fresh install) or load the walk once, before the workers load it
        self.workers = max(1, workers)
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=ctx, initializer=_worker_init,
            initargs=(strategy_file, strategy_name, threads))
        self._data = _Datasets()
        # start every worker now (the executor starts them on demand): the first search does
        # not pay for it, and a strategy that cannot load in a worker fails here
        for fut in [self._pool.submit(_ping) for _ in range(self.workers)]:
            fut.result()

    def dataset(self, candles: pl.DataFrame, config: BacktestConfig, timeframe_ms: int,
                symbol: str) -> Dataset:
        return self._data.add(candles, config, timeframe_ms, symbol)

    def run(self, tasks: Sequence[Task], done: Done | None = None) -> list[Outcome]:
        from concurrent.futures import as_completed

        futures = [self._pool.submit(_worker_run, task) for task in tasks]
        for count, fut in enumerate(as_completed(futures), 1):
            fut.result()
            if done:
                done(count, len(tasks))
        return [f.result() for f in futures]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._data.close()

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_evaluator(strategy_file: Path, strategy_name: str, jobs: int | None = None,
                   ray: str | None = None) -> Evaluator:
    """Serial for one job, a :class:`LocalPool` for more (default: every core), a Ray cluster
    with ``ray`` (an address, or ``"auto"``)."""
    if ray is not None:
        from tradeterm.backtest.cluster import RayPool

        return RayPool(strategy_file, strategy_name, ray)
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if workers <= 1:
        return Serial(strategy_file, strategy_name)
    return LocalPool(strategy_file, strategy_name, workers)


def closing(evaluator: Evaluator) -> contextlib.AbstractContextManager[Evaluator]:
    """``with closing(open_evaluator(...)) as pool:`` for any evaluator."""

    @contextlib.contextmanager
    def managed() -> Any:
        try:
            yield evaluator
        finally:
            evaluator.close()

    return managed()


__all__ = ["Dataset", "Evaluator", "LocalPool", "Outcome", "Serial", "Task",
           "closing", "evaluate", "open_evaluator"]
