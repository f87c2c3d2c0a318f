"""The strategy engine: loaded strategies, their health, and their evaluation at a candle close.

Every strategy runs in its own worker process (:mod:`tradeterm.strategy.isolation`): the worker
loads the file, runs the look-ahead guard and evaluates each closed bar; this process never
imports user code. A strategy that raises, overruns its deadline (``[strategies]
eval_timeout_s``), goes over its memory limit (``memory_limit_mb``) or whose worker dies is
FAILED with the reason and a :class:`StrategyFailed` event, its worker is killed, and the other
strategies go on: their evaluations run concurrently, each strategy's signals are emitted as
soon as its own worker answers. A strategy only becomes ENABLED after the look-ahead guard
passed on synthetic candles of its timeframe. Enabling a failed strategy starts a fresh worker.
Live, the worker computes each bar the strategy signalled on again 3 bars later
(:mod:`tradeterm.strategy.recheck`); a changed signal comes back as a ``lookahead`` reply and
the strategy is FAILED with that reason, like any other failure.

Only enabled strategies keep a worker; a disabled one is loaded in a short-lived worker for its
metadata (name, timeframe, symbols, warm-up) and the worker is stopped.

Every change of state and every event happens on the loop; a worker's evaluations are serialised
(one request at a time), so user code never runs concurrently with itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from tradeterm.config import StrategySettings
from tradeterm.core.events import Event, SignalEmitted, StrategyFailed
from tradeterm.core.models import (
    Candle,
    Signal,
    StrategyHealth,
    StrategyState,
    timeframe_ms,
)
from tradeterm.strategy.isolation import StrategyWorker, WorkerFailed
from tradeterm.strategy.loader import FileWatcher, StrategyLoadError, strategy_files
from tradeterm.strategy.worker import GUARD_BARS, Plots, StrategyMeta, error_text, frame_to_ipc

__all__ = ["GUARD_BARS", "MAX_SIGNALS", "StrategyEngine", "StrategyMeta", "error_text"]

log = logging.getLogger(__name__)

MAX_SIGNALS = 200
"""Recent signals kept for the snapshot."""

LOAD_TIMEOUT_S = 30.0
"""How long a worker may take to import its strategy file, and separately to run the guard."""


@dataclass(slots=True)
class _Slot:
    """One strategy name: its metadata (None if its file failed), its worker and its health."""

    health: StrategyHealth
    meta: StrategyMeta | None = None
    worker: StrategyWorker | None = None
    create_error: str | None = None  # the class could not be instantiated with its defaults
    last_bar: dict[tuple[str, str], int] = field(default_factory=dict)  # (symbol, tf) -> time
    plots: dict[tuple[str, str], Plots] = field(default_factory=dict)  # (symbol, tf) -> newest


@dataclass(frozen=True, slots=True)
class _Opened:
    """What a worker found in one file: metadata or a load error; the guard's verdict."""

    file: Path
    meta: StrategyMeta | None = None
    error: StrategyLoadError | None = None
    create_error: str | None = None
    worker: StrategyWorker | None = None  # kept only for a wanted strategy that passed
    refused: str | None = None  # why the guard (or the worker) refused it


class StrategyEngine:
    """See the module docstring. Methods must be called on the engine's loop."""

    def __init__(
        self,
        settings: StrategySettings,
        publish: Callable[[Event], None],
        clock: Callable[[], int],
        *,
        guard_bars: int = GUARD_BARS,
        max_signals: int = MAX_SIGNALS,
        load_timeout_s: float = LOAD_TIMEOUT_S,
    ) -> None:
        self.settings = settings
        self._publish = publish
        self._clock = clock
        self._guard_bars = guard_bars
        self._load_timeout_s = load_timeout_s
        self._wanted = set(settings.enabled)  # names the user wants running
        self._slots: dict[str, _Slot] = {}
        self._watcher = FileWatcher(settings.dir)
        self._signals: deque[Signal] = deque(maxlen=max_signals)
        self._workers: set[StrategyWorker] = set()  # every worker started and not yet stopped
        self._stopping: set[asyncio.Task[None]] = set()
        self._closed = False
        self.version = 0
        self._frozen: tuple[tuple[StrategyHealth, ...], tuple[Signal, ...]] | None = None

    # -- readers --------------------------------------------------------------------------------

    def health(self) -> tuple[StrategyHealth, ...]:
        return self._frozen_state()[0]

    def signals(self) -> tuple[Signal, ...]:
        """Recent signals, oldest first (bounded)."""
        return self._frozen_state()[1]

    def _frozen_state(self) -> tuple[tuple[StrategyHealth, ...], tuple[Signal, ...]]:
        if self._frozen is None:
            health = tuple(s.health for _, s in sorted(self._slots.items()))
            self._frozen = (health, tuple(self._signals))
        return self._frozen

    def _changed(self) -> None:
        self.version += 1
        self._frozen = None

    def strategy(self, name: str) -> StrategyMeta | None:
        """The class metadata of ``name`` (the class itself lives in its worker only)."""
        slot = self._slots.get(name)
        return slot.meta if slot is not None else None

    def plots(self, name: str, symbol: str, timeframe: str,
              since: int | None = None) -> Plots | None:
        """``name``'s declared plot columns from its newest evaluation on ``symbol`` /
        ``timeframe``, only the bars from open time ``since`` on (what a screen lacks)."""
        slot = self._slots.get(name)
        held = slot.plots.get((symbol, timeframe)) if slot is not None else None
        if held is None or since is None:
            return held
        times, columns = held
        start = next((i for i, t in enumerate(times) if t >= since), len(times))
        return times[start:], {c: v[start:] for c, v in columns.items()}

    def worker_pid(self, name: str) -> int | None:
        """The pid of ``name``'s worker process, if it has one running."""
        slot = self._slots.get(name)
        worker = slot.worker if slot is not None else None
        return worker.pid if worker is not None and worker.alive else None

    def _enabled(self) -> list[tuple[str, StrategyMeta]]:
        return [
            (n, s.meta) for n, s in sorted(self._slots.items())
            if s.health.state is StrategyState.ENABLED and s.meta is not None
            and s.worker is not None
        ]

    def wanted_streams(self, chart_symbol: str | None) -> set[tuple[str, str]]:
        """``(symbol, timeframe)`` candles the enabled strategies need; a strategy without
        ``symbols`` follows the chart's symbol."""
        keys: set[tuple[str, str]] = set()
        for _, meta in self._enabled():
            symbols = meta.symbols or ((chart_symbol,) if chart_symbol else ())
            keys.update((s, meta.timeframe) for s in symbols)
        return keys

    def history_bars(self) -> int:
        """Bars of history worth fetching for the enabled strategies: twice the longest warm-up
        (so recursive indicators like EMAs have settled by the bars that matter)."""
        return max((2 * meta.warmup for _, meta in self._enabled()), default=0)

    def targets(self, symbol: str, timeframe: str) -> list[str]:
        """Names of the enabled strategies evaluated when a ``symbol``/``timeframe`` bar closes
        (those listing the symbol, and those listing none: they run on any symbol)."""
        return [
            n for n, meta in self._enabled()
            if meta.timeframe == timeframe and (not meta.symbols or symbol in meta.symbols)
        ]

    # -- workers --------------------------------------------------------------------------------

    def _new_worker(self, file: Path) -> StrategyWorker:
        stem = file.stem

        def output(line: str) -> None:
            log.info("strategy %s: %s", stem, line)

        worker = StrategyWorker(file, self.settings.memory_limit_mb, output,
                                self.settings.params, self.settings.params_origin)
        self._workers.add(worker)
        return worker

    async def _stop_worker(self, worker: StrategyWorker, *, now: bool = False) -> None:
        try:
            await worker.stop(now=now)
        finally:
            self._workers.discard(worker)

    def _retire(self, worker: StrategyWorker | None) -> None:
        """Stop ``worker`` in the background (killed at once if it is mid-request)."""
        if worker is None:
            return
        task = asyncio.get_running_loop().create_task(self._stop_worker(worker))
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def close(self) -> None:
        """Kill every worker (shutdown: nothing in a worker is worth waiting for, and one may be
        stuck in an endless loop); returns within about a second."""
        self._closed = True
        await asyncio.gather(
            *(self._stop_worker(w, now=True) for w in list(self._workers)), *self._stopping,
            return_exceptions=True,
        )

    async def _open(self, file: Path, *, only: str | None = None) -> _Opened:
        """Load ``file`` in a fresh worker; keep the worker if the strategy is wanted (or is
        ``only``) and passes the guard."""
        worker = self._new_worker(file)
        try:
            first = await worker.start(self._load_timeout_s)
        except WorkerFailed as exc:
            await self._stop_worker(worker)
            return _Opened(file, error=StrategyLoadError(file, None, str(exc)))
        except Exception as exc:  # noqa: BLE001 - the worker could not start (fork failed...)
            await self._stop_worker(worker)
            reason = f"cannot start a worker process: {type(exc).__name__}: {exc}"
            return _Opened(file, error=StrategyLoadError(file, None, reason))
        if first[0] != "loaded":
            await self._stop_worker(worker)
            _, path, line, message = first
            assert isinstance(path, str) and isinstance(message, str)
            assert line is None or isinstance(line, int)
            return _Opened(file, error=StrategyLoadError(Path(path), line, message))
        meta, create_error = first[1], first[2]
        assert isinstance(meta, StrategyMeta) and (create_error is None or isinstance(create_error,
                                                                                      str))
        wanted = meta.name == only if only is not None else meta.name in self._wanted
        if create_error is not None or not wanted:
            await self._stop_worker(worker)
            return _Opened(file, meta=meta, create_error=create_error)
        refused = await self._guard(worker, meta)
        if refused is not None:
            await self._stop_worker(worker)
            return _Opened(file, meta=meta, refused=refused)
        return _Opened(file, meta=meta, worker=worker)

    async def _guard(self, worker: StrategyWorker, meta: StrategyMeta) -> str | None:
        """The look-ahead guard, run by the worker; the refusal reason (None: passed)."""
        timeout = self._load_timeout_s
        try:
            reply = await worker.call(
                ("guard", self._guard_bars, self.settings.lookahead_cuts), None, timeout,
                lambda: f"timed out after {timeout:g} s in the look-ahead guard",
            )
        except WorkerFailed as exc:
            return str(exc)
        refused = reply[1]
        assert refused is None or isinstance(refused, str)
        return refused

    # -- loading --------------------------------------------------------------------------------

    async def load(self) -> None:
        """Load every strategy file and guard the enabled ones (each in its own worker)."""
        self._watcher.poll()
        await self._load(set(strategy_files(self.settings.dir)), set())
        for name in sorted(set(self.settings.params) - set(self._slots)):
            log.warning("%s: [strategies.params.%s] names no strategy in %s; its parameters "
                        "are not used", self.settings.params_origin, name, self.settings.dir)

    async def reload_changed(self) -> bool:
        """Reload files whose mtime changed since the last look (in fresh workers); True if any
        did."""
        changed, removed = self._watcher.poll()
        if not (changed or removed):
            return False
        await self._load(changed, removed)
        return True

    async def _load(self, changed: set[Path], removed: set[Path]) -> None:
        files = sorted(p.resolve() for p in changed)
        opened = await asyncio.gather(*(self._open(f) for f in files))
        if self._closed:
            for o in opened:
                self._retire(o.worker)
            return
        self._apply(list(opened), {p.resolve() for p in changed | removed})

    def _apply(self, opened: list[_Opened], files: set[Path]) -> None:
        """Install what the workers found (in file-name order, as the loader would)."""
        now = self._clock()
        # Strategies whose file changed or vanished are replaced by what the file holds now.
        for name, slot in list(self._slots.items()):
            file = slot.meta.file if slot.meta else slot.health.file
            if file is not None and Path(file) in files:
                self._retire(slot.worker)
                del self._slots[name]
        errors: list[StrategyLoadError] = []
        loaded: list[_Opened] = []
        first_file: dict[str, Path] = {}
        for item in opened:
            if item.error is not None:
                errors.append(item.error)
            elif item.meta is not None and item.meta.name in first_file:
                self._retire(item.worker)
                errors.append(StrategyLoadError(
                    item.file, item.meta.line,
                    f"duplicate strategy name {item.meta.name!r} "
                    f"(already defined in {first_file[item.meta.name]})",
                ))
            elif item.meta is not None:
                first_file[item.meta.name] = item.file
                loaded.append(item)
        for err in errors:
            name = err.file.stem
            if name in self._slots and self._slots[name].meta is not None:
                name = f"{name} ({err.file.name})"  # a duplicate name: keep the running one
            self._slots[name] = _Slot(
                StrategyHealth(name, StrategyState.FAILED, str(err.file), last_error=str(err))
            )
            log.warning("strategy file failed to load: %s", err)
            self._publish(StrategyFailed(now, strategy=name, reason=str(err)))
        for item in loaded:
            assert item.meta is not None
            name = item.meta.name
            if name in self._slots and self._slots[name].meta is not None:
                self._retire(item.worker)
                reason = f"duplicate strategy name {name!r} in {item.file}"
                self._publish(StrategyFailed(now, strategy=name, reason=reason))
                continue
            self._install(item, now)
        for name in sorted(self._wanted - set(self._slots)):
            reason = f"no strategy named {name!r} in {self.settings.dir}"
            self._slots[name] = _Slot(StrategyHealth(name, StrategyState.FAILED, last_error=reason))
        self._changed()

    def _install(self, item: _Opened, now: int) -> None:
        assert item.meta is not None
        name, file = item.meta.name, str(item.file)
        if item.create_error is not None:
            self._slots[name] = _Slot(
                StrategyHealth(name, StrategyState.FAILED, file, last_error=item.create_error),
                item.meta, create_error=item.create_error,
            )
            self._publish(StrategyFailed(now, strategy=name, reason=item.create_error))
            return
        slot = _Slot(StrategyHealth(name, StrategyState.DISABLED, file, plots=item.meta.plots),
                     item.meta)
        self._slots[name] = slot
        if name not in self._wanted:
            self._retire(item.worker)
            return
        if item.refused is not None:
            self._fail(slot, item.refused, now)
        elif item.worker is not None:
            slot.worker = item.worker
            slot.health = replace(slot.health, state=StrategyState.ENABLED)

    # -- enabling -------------------------------------------------------------------------------

    async def enable(self, name: str) -> StrategyHealth | None:
        """Start a fresh worker for ``name``, run the guard and enable it if it passes (FAILED
        with the reason otherwise)."""
        slot = self._slots.get(name)
        if slot is None or slot.meta is None or slot.create_error is not None:
            return slot.health if slot else None
        self._wanted.add(name)
        if slot.health.state is StrategyState.ENABLED and slot.worker is not None \
                and slot.worker.alive:
            return slot.health
        self._retire(slot.worker)
        slot.worker = None
        opened = await self._open(slot.meta.file, only=name)
        if self._slots.get(name) is not slot or self._closed:  # reloaded meanwhile: stale
            self._retire(opened.worker)
            current = self._slots.get(name)
            return current.health if current else None
        if opened.worker is not None:
            slot.worker, slot.meta = opened.worker, opened.meta or slot.meta
            slot.health = replace(slot.health, state=StrategyState.ENABLED, last_error=None,
                                  plots=slot.meta.plots)
        else:
            reason = opened.refused or opened.create_error or (
                str(opened.error) if opened.error else f"the file no longer defines {name!r}"
            )
            self._fail(slot, reason, self._clock())
        self._changed()
        return slot.health

    def disable(self, name: str) -> None:
        self._wanted.discard(name)
        slot = self._slots.get(name)
        if slot is not None and slot.health.state is StrategyState.ENABLED:
            slot.health = replace(slot.health, state=StrategyState.DISABLED)
            self._retire(slot.worker)
            slot.worker = None
            self._changed()

    def _fail(self, slot: _Slot, reason: str, now: int) -> None:
        slot.health = replace(slot.health, state=StrategyState.FAILED, last_error=reason)
        self._retire(slot.worker)
        slot.worker = None
        log.warning("strategy %s failed: %s", slot.health.name, reason)
        self._publish(StrategyFailed(now, strategy=slot.health.name, reason=reason))
        self._changed()

    # -- evaluation -----------------------------------------------------------------------------

    async def on_bar_closed(
        self, symbol: str, timeframe: str, frame: pl.DataFrame | Sequence[Candle]
    ) -> list[Signal]:
        """Evaluate the strategies for ``symbol``/``timeframe`` on ``frame`` (closed bars only,
        the last one just closed) and emit :class:`SignalEmitted` for its signals.

        ``frame`` may be the candles themselves. Each strategy's signals are emitted as soon as
        its worker answers; the return value (all of them) waits for every strategy.
        """
        names = self.targets(symbol, timeframe)
        if not names:
            return []
        payload, last_open = await asyncio.to_thread(_encode, frame)
        close = _hhmm(last_open + timeframe_ms(timeframe)) if last_open is not None else "last"
        jobs = [self._evaluate(n, self._slots[n], symbol, timeframe, payload, close)
                for n in names]
        emitted: list[Signal] = []
        for signals in await asyncio.gather(*jobs):
            emitted.extend(signals)
        return emitted

    async def _evaluate(
        self, name: str, slot: _Slot, symbol: str, timeframe: str, payload: bytes, close: str
    ) -> list[Signal]:
        worker = slot.worker
        if worker is None:
            return []
        timeout = self.settings.eval_timeout_s
        start = time.perf_counter()
        try:
            reply = await worker.call(
                ("eval", symbol, timeframe), payload, timeout,
                lambda: f"timed out after {timeout:g} s at the {close} close",
            )
        except WorkerFailed as exc:
            reply = ("error", str(exc))
        duration_ms = (time.perf_counter() - start) * 1000
        if self._slots.get(name) is not slot or slot.worker is not worker or self._closed:
            return []  # reloaded, disabled, removed or shut down meanwhile: a stale result
        now = self._clock()
        slot.health = replace(slot.health, last_run_ms=now, last_duration_ms=duration_ms)
        if reply[0] != "signals":
            reason = reply[1]
            assert isinstance(reason, str)
            self._fail(slot, reason, now)
            return []
        outcome = reply[1]
        assert isinstance(outcome, list)
        plots = reply[3] if len(reply) > 3 else None
        if plots is not None:
            slot.plots[(symbol, timeframe)] = plots  # type: ignore[assignment]
        note = reply[4] if len(reply) > 4 else None
        shown = f"{note} {symbol}" if isinstance(note, str) and note else None
        if shown != slot.health.note:
            slot.health = replace(slot.health, note=shown)
        fresh = [s for s in outcome if s.bar_time > slot.last_bar.get((symbol, timeframe), -1)]
        if outcome:
            slot.last_bar[(symbol, timeframe)] = outcome[0].bar_time
        if fresh:
            slot.health = replace(slot.health, signals=slot.health.signals + len(fresh))
        self._signals.extend(fresh)
        self._changed()
        for signal in fresh:
            self._publish(SignalEmitted(now, signal=signal))
        return fresh


def _encode(frame: pl.DataFrame | Sequence[Candle]) -> tuple[bytes, int | None]:
    """The candles as Arrow IPC bytes, and the last bar's open time (thread side)."""
    if not isinstance(frame, pl.DataFrame):
        from tradeterm.indicators.frame import candles_frame

        frame = candles_frame(frame)
    last = int(frame.get_column("open_time")[-1]) if frame.height else None
    return frame_to_ipc(frame), last


def _hhmm(ms: int) -> str:
    """``14:05`` (UTC) for a close time in ms."""
    return time.strftime("%H:%M", time.gmtime(ms / 1000))
