"""The strategy engine: loaded strategies, their health, and their evaluation at a candle close.

User code runs through one safe wrapper: an exception disables that strategy (FAILED, with the
reason, and a :class:`StrategyFailed` event) and never the engine. A strategy only becomes
ENABLED after the look-ahead guard passed on synthetic candles of its timeframe.

Threads and the loop: loading files, running the guard and evaluating strategies happen in a
worker thread (``asyncio.to_thread``; polars and TA-Lib release the GIL), because a strategy on
a few thousand bars can take tens of milliseconds and the loop is shared with the UI. The thread
only computes; every change of state and every event happens back on the loop, so readers never
see a half-applied change. Evaluations are serialised (one at a time) so user code never runs
concurrently with itself.
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
from tradeterm.core.models import Candle, Signal, StrategyHealth, StrategyState, timeframe_ms
from tradeterm.strategy.api import Strategy
from tradeterm.strategy.loader import FileWatcher, LoadedStrategy, StrategyLoadError, load_directory
from tradeterm.strategy.lookahead import check_lookahead
from tradeterm.strategy.signals import last_bar_signals

log = logging.getLogger(__name__)

GUARD_BARS = 2000
"""Synthetic bars the look-ahead guard runs on when a strategy is enabled (plus 2x warm-up)."""

MAX_SIGNALS = 200
"""Recent signals kept for the snapshot."""


def error_text(exc: BaseException, file: Path | None = None) -> str:
    """``Type: message (file.py:line)``, one line, pointing at the strategy's own line if any."""
    import traceback

    text = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    if file is not None:
        lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
                 if Path(f.filename) == file]
        if lines:
            text += f" ({file.name}:{lines[-1]})"
    return text


@dataclass(slots=True)
class _Slot:
    """One strategy name: its class and instance (None if its file failed) and its health."""

    health: StrategyHealth
    loaded: LoadedStrategy | None = None
    instance: Strategy | None = None
    last_bar: dict[tuple[str, str], int] = field(default_factory=dict)  # (symbol, tf) -> time


@dataclass(frozen=True, slots=True)
class Prepared:
    """What a load in the worker thread found, to be applied on the loop."""

    loaded: dict[str, LoadedStrategy]
    errors: list[StrategyLoadError]
    files: set[Path]  # the files this load covered (changed or removed ones on a reload)
    guard: dict[str, str | None]  # name -> reason the guard refused it (None: passed)


class StrategyEngine:
    """See the module docstring. Loop-side methods must be called on the engine's loop."""

    def __init__(
        self,
        settings: StrategySettings,
        publish: Callable[[Event], None],
        clock: Callable[[], int],
        *,
        guard_bars: int = GUARD_BARS,
        max_signals: int = MAX_SIGNALS,
    ) -> None:
        self.settings = settings
        self._publish = publish
        self._clock = clock
        self._guard_bars = guard_bars
        self._wanted = set(settings.enabled)  # names the user wants running
        self._slots: dict[str, _Slot] = {}
        self._watcher = FileWatcher(settings.dir)
        self._signals: deque[Signal] = deque(maxlen=max_signals)
        self._lock = asyncio.Lock()
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

    def strategy(self, name: str) -> Strategy | None:
        slot = self._slots.get(name)
        return slot.instance if slot is not None else None

    def _enabled(self) -> list[tuple[str, _Slot]]:
        return [
            (n, s) for n, s in sorted(self._slots.items())
            if s.health.state is StrategyState.ENABLED and s.instance is not None
        ]

    def wanted_streams(self, chart_symbol: str | None) -> set[tuple[str, str]]:
        """``(symbol, timeframe)`` candles the enabled strategies need; a strategy without
        ``symbols`` follows the chart's symbol."""
        keys: set[tuple[str, str]] = set()
        for _, slot in self._enabled():
            cls = type(slot.instance)
            symbols = cls.symbols or ((chart_symbol,) if chart_symbol else ())
            keys.update((s, cls.timeframe) for s in symbols)
        return keys

    def history_bars(self) -> int:
        """Bars of history worth fetching for the enabled strategies: twice the longest warm-up
        (so recursive indicators like EMAs have settled by the bars that matter)."""
        return max((2 * type(s.instance).warmup for _, s in self._enabled()), default=0)

    def targets(self, symbol: str, timeframe: str) -> list[str]:
        """Names of the enabled strategies evaluated when a ``symbol``/``timeframe`` bar closes
        (those listing the symbol, and those listing none: they run on any symbol)."""
        return [
            n for n, s in self._enabled()
            if type(s.instance).timeframe == timeframe
            and (not type(s.instance).symbols or symbol in type(s.instance).symbols)
        ]

    # -- loading (prepare in a thread, apply on the loop) ---------------------------------------

    def prepare(self, *, initial: bool = False) -> Prepared | None:
        """Blocking: load new or changed files and guard the wanted strategies among them.

        None when nothing changed since the last call. Call through ``asyncio.to_thread``.
        """
        changed, removed = self._watcher.poll()
        if not (changed or removed or initial):
            return None
        result = load_directory(self.settings.dir, sorted(changed))
        guard = {
            name: self._guard(loaded.cls)
            for name, loaded in result.strategies.items()
            if name in self._wanted
        }
        return Prepared(result.strategies, result.errors, changed | removed, guard)

    def _guard(self, cls: type[Strategy]) -> str | None:
        """The guard on synthetic candles of the strategy's timeframe; the refusal reason."""
        from tradeterm.indicators.frame import synthetic_candles

        frame = synthetic_candles(
            self._guard_bars + 2 * cls.warmup, seed=1, interval_ms=timeframe_ms(cls.timeframe)
        )
        try:
            report = check_lookahead(cls(), frame, self.settings.lookahead_cuts, seed=0)
        except Exception as exc:  # user code raising on synthetic data: same verdict as live
            return f"raised on synthetic candles: {error_text(exc, _file_of(cls))}"
        return None if report.ok else report.reason

    def apply(self, prepared: Prepared) -> None:
        """Loop side: install what :meth:`prepare` found; publish failures."""
        now = self._clock()
        # Strategies whose file changed or vanished are replaced by what the file holds now.
        for name, slot in list(self._slots.items()):
            file = slot.loaded.file if slot.loaded else slot.health.file
            if file is not None and Path(file) in prepared.files:
                del self._slots[name]
        for err in prepared.errors:
            name = err.file.stem
            if name in self._slots and self._slots[name].loaded is not None:
                name = f"{name} ({err.file.name})"  # a duplicate name: keep the running one
            self._slots[name] = _Slot(
                StrategyHealth(name, StrategyState.FAILED, str(err.file), last_error=str(err))
            )
            log.warning("strategy file failed to load: %s", err)
            self._publish(StrategyFailed(now, strategy=name, reason=str(err)))
        for name, loaded in prepared.loaded.items():
            if name in self._slots and self._slots[name].loaded is not None:
                reason = f"duplicate strategy name {name!r} in {loaded.file}"
                self._publish(StrategyFailed(now, strategy=name, reason=reason))
                continue
            self._install(name, loaded, prepared.guard.get(name), now)
        for name in sorted(self._wanted - set(self._slots)):
            reason = f"no strategy named {name!r} in {self.settings.dir}"
            self._slots[name] = _Slot(StrategyHealth(name, StrategyState.FAILED, last_error=reason))
        self._changed()

    def _install(self, name: str, loaded: LoadedStrategy, refused: str | None, now: int) -> None:
        file = str(loaded.file)
        try:
            instance = loaded.cls()
        except Exception as exc:
            reason = f"cannot create: {error_text(exc, loaded.file)}"
            self._slots[name] = _Slot(
                StrategyHealth(name, StrategyState.FAILED, file, last_error=reason), loaded
            )
            self._publish(StrategyFailed(now, strategy=name, reason=reason))
            return
        slot = _Slot(StrategyHealth(name, StrategyState.DISABLED, file), loaded, instance)
        self._slots[name] = slot
        if name not in self._wanted:
            return
        if refused is not None:
            self._fail(slot, refused, now)
        else:
            slot.health = replace(slot.health, state=StrategyState.ENABLED)

    async def load(self) -> None:
        """Load every strategy file and guard the enabled ones (the work runs in a thread)."""
        prepared = await asyncio.to_thread(self.prepare, initial=True)
        if prepared is not None:
            self.apply(prepared)

    async def reload_changed(self) -> bool:
        """Reload files whose mtime changed since the last look; True if any did."""
        prepared = await asyncio.to_thread(self.prepare)
        if prepared is None:
            return False
        self.apply(prepared)
        return True

    # -- enabling -------------------------------------------------------------------------------

    async def enable(self, name: str) -> StrategyHealth | None:
        """Run the guard and enable ``name`` if it passes (FAILED with the reason otherwise)."""
        slot = self._slots.get(name)
        if slot is None or slot.loaded is None or slot.instance is None:
            return slot.health if slot else None
        self._wanted.add(name)
        refused = await asyncio.to_thread(self._guard, slot.loaded.cls)
        if refused is not None:
            self._fail(slot, refused, self._clock())
        else:
            slot.health = replace(slot.health, state=StrategyState.ENABLED, last_error=None)
        self._changed()
        return slot.health

    def disable(self, name: str) -> None:
        self._wanted.discard(name)
        slot = self._slots.get(name)
        if slot is not None and slot.health.state is StrategyState.ENABLED:
            slot.health = replace(slot.health, state=StrategyState.DISABLED)
            self._changed()

    def _fail(self, slot: _Slot, reason: str, now: int) -> None:
        slot.health = replace(slot.health, state=StrategyState.FAILED, last_error=reason)
        log.warning("strategy %s failed: %s", slot.health.name, reason)
        self._publish(StrategyFailed(now, strategy=slot.health.name, reason=reason))
        self._changed()

    # -- evaluation -----------------------------------------------------------------------------

    async def on_bar_closed(
        self, symbol: str, timeframe: str, frame: pl.DataFrame | Sequence[Candle]
    ) -> list[Signal]:
        """Evaluate the strategies for ``symbol``/``timeframe`` on ``frame`` (closed bars only,
        the last one just closed) and emit :class:`SignalEmitted` for its signals.

        ``frame`` may be the candles themselves: the frame is then built in the worker thread.
        """
        names = self.targets(symbol, timeframe)
        if not names:
            return []
        async with self._lock:
            jobs = [(n, self._slots[n].instance) for n in names if self._slots[n].instance]
            results = await asyncio.to_thread(_evaluate_all, jobs, symbol, timeframe, frame)
        emitted: list[Signal] = []
        now = self._clock()
        for name, instance, outcome, duration_ms in results:
            slot = self._slots.get(name)
            if slot is None or slot.instance is not instance:
                continue  # reloaded or removed meanwhile: this result is stale
            slot.health = replace(slot.health, last_run_ms=now, last_duration_ms=duration_ms)
            if isinstance(outcome, BaseException):
                self._fail(slot, error_text(outcome, slot.loaded.file if slot.loaded else None),
                           now)
                continue
            fresh = [
                s for s in outcome if s.bar_time > slot.last_bar.get((symbol, timeframe), -1)
            ]
            if outcome:
                slot.last_bar[(symbol, timeframe)] = outcome[0].bar_time
            if fresh:
                slot.health = replace(slot.health, signals=slot.health.signals + len(fresh))
            emitted.extend(fresh)
        self._signals.extend(emitted)
        self._changed()
        for signal in emitted:
            self._publish(SignalEmitted(now, signal=signal))
        return emitted


def _file_of(cls: type) -> Path | None:
    import inspect

    try:
        return Path(inspect.getfile(cls)).resolve()
    except (OSError, TypeError):
        return None


def _evaluate_all(
    jobs: list[tuple[str, Strategy]],
    symbol: str,
    timeframe: str,
    frame: pl.DataFrame | Sequence[Candle],
) -> list[tuple[str, Strategy, list[Signal] | BaseException, float]]:
    """Worker thread: evaluate each strategy, catching everything (the safe wrapper)."""
    if not isinstance(frame, pl.DataFrame):
        from tradeterm.indicators.frame import candles_frame

        frame = candles_frame(frame)
    results: list[tuple[str, Strategy, list[Signal] | BaseException, float]] = []
    for name, instance in jobs:
        start = time.perf_counter()
        try:
            evaluated = instance.evaluate(frame)
            outcome: list[Signal] | BaseException = last_bar_signals(
                evaluated, name, symbol, timeframe
            )
        except Exception as exc:  # user code: whatever it raises disables only itself
            outcome = exc
        results.append((name, instance, outcome, (time.perf_counter() - start) * 1000))
    return results
