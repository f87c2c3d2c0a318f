"""The backtest screen's requests: the engine runs the jobs, every attached client sees them.

``backtest.strategies`` lists the strategies the form offers, ``backtest.data`` says what the
download store holds for a symbol and timeframe, ``backtest.start`` starts a job (a trader
only; one job at a time per engine, a second start is refused naming the running one) and
``backtest.state`` answers the running job's progress and the last report, for a screen opened
while a job runs or after it ended.

A job is ``backtest.job.run_isolated`` in a thread: the backtest itself runs in a child
interpreter (as do the listing and the data check, so the engine never imports a strategy file,
polars or the backtester for the screen). Its stages are published as
:class:`BacktestProgressed` and its end as :class:`BacktestFinished` (the small, display-ready
report), broadcast like every engine event, so a backtest started from one screen shows on all.
The jobs are an engine service: stopping the engine kills a running child.

``backtest.optimize`` starts an optimisation (``backtest/optimize_job.py``: the ``optimize``
command's search in the same child) in the same job slot: one job at a time, backtest or
optimisation. It streams :class:`OptimizeProgressed` (trials done of total, best so far) and
ends with :class:`OptimizeFinished` (the trial table, the heatmap, the best equity curves);
``backtest.state`` also answers the running optimisation and the last one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tradeterm.backtest.job import (
    STAGES,
    BacktestRequest,
    JobError,
    data_isolated,
    list_isolated,
    optimize_isolated,
    run_isolated,
)
from tradeterm.backtest.optimize_job import (
    MAX_TRIALS,
    METHODS,
    OBJECTIVES,
    OptimizeRequest,
)
from tradeterm.core.events import (
    BacktestFinished,
    BacktestProgressed,
    Event,
    OptimizeFinished,
    OptimizeProgressed,
)
from tradeterm.core.models import TIMEFRAME_MS
from tradeterm.service.asking import Asker, RequestRefused
from tradeterm.wire.codec import to_plain

if TYPE_CHECKING:
    from tradeterm.engine import Engine


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(slots=True)
class _Job:
    number: int
    request: BacktestRequest | OptimizeRequest
    progress: BacktestProgressed | OptimizeProgressed
    task: asyncio.Task[None] | None = None


class Backtests:
    """One engine's backtest jobs (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.running: _Job | None = None
        self.last: BacktestFinished | None = None
        self.last_optimize: OptimizeFinished | None = None
        self.closed = False

    # an engine service: started late (on the first request), closed with the engine
    async def start(self) -> None:
        return None

    async def close(self) -> None:
        self.closed = True  # the job's thread sees it within 0.1 s and kills the child
        job = self.running
        if job is not None and job.task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(job.task), 10)

    def _cancelled(self) -> bool:
        return self.closed

    def _publish(self, event: Event) -> None:
        self.engine.publish(event)

    def _free(self) -> None:
        """Refused unless the job slot is free (backtests and optimisations share it)."""
        running = self.running
        if running is not None:
            r = running.request
            what = ("an optimisation" if isinstance(r, OptimizeRequest) else "a backtest")
            raise RequestRefused(f"{what} is running ({r.strategy} on {r.symbol} "
                                 f"{r.timeframe}, job {running.number}): wait for it to end")
        if self.closed:
            raise RequestRefused("the engine is stopping")

    def begin_optimize(self, request: OptimizeRequest) -> int:
        self._free()
        self.count += 1
        job = _Job(self.count, request, OptimizeProgressed(
            _now_ms(), self.count, request.strategy, request.symbol, request.timeframe,
            "queued", 0, request.trials))
        self.running = job
        loop = asyncio.get_running_loop()

        def progressed(step: Any) -> None:  # in the job's thread: (phase, done, total, best)
            if isinstance(step, tuple) and len(step) == 4:
                loop.call_soon_threadsafe(self._optimize_progressed, job, step)

        job.task = loop.create_task(self._optimize(job, progressed),
                                    name=f"optimize:{job.number}")
        return job.number

    def _optimize_progressed(self, job: _Job, step: tuple[Any, ...]) -> None:
        if self.running is not job:
            return
        r = job.request
        phase, done, total, best = step
        job.progress = OptimizeProgressed(_now_ms(), job.number, r.strategy, r.symbol,
                                          r.timeframe, str(phase), int(done), int(total),
                                          None if best is None else str(best))
        self._publish(job.progress)

    async def _optimize(self, job: _Job, progressed: Any) -> None:
        r = job.request
        args = (_now_ms(), job.number, r.strategy, r.symbol, r.timeframe)
        try:
            report = await asyncio.to_thread(optimize_isolated, self.engine.settings, r,
                                             progressed, self._cancelled)
            event = OptimizeFinished(*args, report=report)
        except JobError as exc:
            event = OptimizeFinished(*args, error=str(exc))
        except Exception as exc:  # a bug: the screens say so, the engine goes on
            event = OptimizeFinished(*args, error=f"the optimisation failed: "
                                     f"{type(exc).__name__}: {exc}")
        self.running, self.last_optimize = None, event
        self._publish(event)

    def begin(self, request: BacktestRequest) -> int:
        self._free()
        self.count += 1
        job = _Job(self.count, request, self._progress_event(self.count, request, "queued", 0))
        self.running = job
        loop = asyncio.get_running_loop()
        step = 0

        def progressed(stage: str) -> None:  # in the job's thread
            nonlocal step
            step += 1
            loop.call_soon_threadsafe(self._progressed, job, stage, step)

        job.task = loop.create_task(self._run(job, progressed), name=f"backtest:{job.number}")
        return job.number

    @staticmethod
    def _progress_event(number: int, request: BacktestRequest, stage: str,
                        step: int) -> BacktestProgressed:
        return BacktestProgressed(_now_ms(), number, request.strategy, request.symbol,
                                  request.timeframe, stage, step, STAGES)

    def _progressed(self, job: _Job, stage: str, step: int) -> None:
        assert isinstance(job.request, BacktestRequest)
        job.progress = self._progress_event(job.number, job.request, stage, step)
        self._publish(job.progress)

    async def _run(self, job: _Job, progressed: Any) -> None:
        r = job.request
        assert isinstance(r, BacktestRequest)
        try:
            report = await asyncio.to_thread(run_isolated, self.engine.settings, r, progressed,
                                             self._cancelled)
            event = BacktestFinished(_now_ms(), job.number, r.strategy, r.symbol, r.timeframe,
                                     report=report)
        except JobError as exc:
            event = BacktestFinished(_now_ms(), job.number, r.strategy, r.symbol, r.timeframe,
                                     error=str(exc))
        except Exception as exc:  # a bug: the screens say so, the engine goes on
            event = BacktestFinished(_now_ms(), job.number, r.strategy, r.symbol, r.timeframe,
                                     error=f"the backtest failed: {type(exc).__name__}: {exc}")
        self.running, self.last = None, event
        self._publish(event)


_JOBS: weakref.WeakKeyDictionary[Any, Backtests] = weakref.WeakKeyDictionary()


def jobs_of(engine: Engine) -> Backtests:
    """The engine's jobs, made (and registered as its service) on the first request."""
    jobs = _JOBS.get(engine)
    if jobs is None:
        jobs = _JOBS[engine] = Backtests(engine)
        services = getattr(engine, "services", None)
        if isinstance(services, list):
            services.append(jobs)
    return jobs


def _text(args: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = args.get(key)
    if value is None or value == "":
        if required:
            raise RequestRefused(f"{key}: required")
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise RequestRefused(f"{key}: a short text")
    return value.strip()


def request_of(args: dict[str, Any]) -> BacktestRequest:
    """The job a ``backtest.start`` asks for (its parameters stay text: the strategy's own
    ``Params`` validates them in the child, as the CLI's do)."""
    timeframe = _text(args, "timeframe") or ""
    if timeframe not in TIMEFRAME_MS:
        raise RequestRefused(f"timeframe: one of {', '.join(TIMEFRAME_MS)}")
    params = args.get("params", {})
    if not isinstance(params, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
        raise RequestRefused("params: a map of parameter names to their values as text")
    return BacktestRequest(
        _text(args, "strategy") or "", (_text(args, "symbol") or "").upper(), timeframe,
        _text(args, "first_day", required=False), _text(args, "last_day", required=False),
        tuple(sorted(params.items())))


async def strategies(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    jobs = jobs_of(engine)
    try:
        choices, errors = await asyncio.to_thread(list_isolated, engine.settings.strategies.dir,
                                                  jobs._cancelled)
    except JobError as exc:
        raise RequestRefused(f"cannot list the strategies: {exc}") from None
    return {"strategies": to_plain(choices), "errors": errors}


async def data(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    symbol = (_text(args, "symbol") or "").upper()
    timeframe = _text(args, "timeframe") or ""
    if timeframe not in TIMEFRAME_MS:
        raise RequestRefused(f"timeframe: one of {', '.join(TIMEFRAME_MS)}")
    try:
        stored, text = await asyncio.to_thread(data_isolated, engine.settings, symbol, timeframe,
                                               jobs_of(engine)._cancelled)
    except JobError as exc:
        raise RequestRefused(str(exc)) from None
    return {"stored": stored, "text": text}


async def start(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    if asker.role != "trader":
        raise RequestRefused("a read-only client cannot start a backtest")
    number = jobs_of(engine).begin(request_of(args))
    return {"job": number}


async def state(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    jobs = jobs_of(engine)
    running = jobs.running
    backtesting = running is not None and isinstance(running.progress, BacktestProgressed)
    return {"running": to_plain(running.progress) if backtesting and running else None,
            "last": to_plain(jobs.last) if jobs.last is not None else None,
            "optimizing": (to_plain(running.progress) if running is not None and not backtesting
                           else None),
            "last_optimize": (to_plain(jobs.last_optimize) if jobs.last_optimize is not None
                              else None)}


def _number(args: dict[str, Any], key: str, default: float, low: float, high: float,
            kind: type[int] | type[float] = int) -> Any:
    value = args.get(key, default)
    if value is None or value == "":
        return default
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise RequestRefused(f"{key}: a number from {low} to {high}") from None
    if isinstance(value, bool) or not low <= number <= high:
        raise RequestRefused(f"{key}: a number from {low} to {high}")
    return number


def optimize_request_of(args: dict[str, Any]) -> OptimizeRequest:
    """The search a ``backtest.optimize`` asks for (parameters stay text: the strategy's own
    ``Params`` and the optimiser's parser check them in the child)."""
    base = request_of(args)
    method = _text(args, "method", required=False) or "tpe"
    if method not in METHODS:
        raise RequestRefused(f"method: one of {', '.join(METHODS)}")
    objective = _text(args, "objective", required=False) or "sharpe"
    if objective not in OBJECTIVES:
        raise RequestRefused(f"objective: one of {', '.join(OBJECTIVES)}")
    return OptimizeRequest(
        base.strategy, base.symbol, base.timeframe, base.first_day, base.last_day, method,
        _number(args, "trials", 50, 1, MAX_TRIALS), _number(args, "steps", 5, 2, 40),
        objective, _text(args, "x", required=False), _text(args, "y", required=False),
        base.params, _number(args, "split", 0.7, 0.05, 1.0, float),
        _number(args, "seed", 0, 0, 2**31 - 1), _number(args, "min_trades", 0, 0, 1_000_000))


async def optimize(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    if asker.role != "trader":
        raise RequestRefused("a read-only client cannot start an optimisation")
    number = jobs_of(engine).begin_optimize(optimize_request_of(args))
    return {"job": number}
