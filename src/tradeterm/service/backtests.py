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
    run_isolated,
)
from tradeterm.core.events import BacktestFinished, BacktestProgressed, Event
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
    request: BacktestRequest
    progress: BacktestProgressed
    task: asyncio.Task[None] | None = None


class Backtests:
    """One engine's backtest jobs (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.running: _Job | None = None
        self.last: BacktestFinished | None = None
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

    def begin(self, request: BacktestRequest) -> int:
        running = self.running
        if running is not None:
            r = running.request
            raise RequestRefused(f"a backtest is running ({r.strategy} on {r.symbol} "
                                 f"{r.timeframe}, job {running.number}): wait for it to end")
        if self.closed:
            raise RequestRefused("the engine is stopping")
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
        job.progress = self._progress_event(job.number, job.request, stage, step)
        self._publish(job.progress)

    async def _run(self, job: _Job, progressed: Any) -> None:
        r = job.request
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
    return {"running": to_plain(running.progress) if running is not None else None,
            "last": to_plain(jobs.last) if jobs.last is not None else None}
