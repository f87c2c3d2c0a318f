"""The engine's side of scheduled retraining (``[ml] retrain_every_hours``, ``docs/ml.md``).

:class:`Retrainer` runs as a task on the engine's loop and never trains anything itself: for
each model that is due (trained longer ago than the period) it asks the engine for the newest
closed candles (``fetch``: the engine's own exchange connection), writes them to a parquet file,
and starts ``python -m tradeterm.ml.retrain`` (``ml/retrain.py``) as a child process in its own
session. The loop only awaits the child's exit, with a deadline (``retrain_timeout_s``): one that
runs over is killed with its process group, one that dies is reported with its signal or its
last words, and either way the model in use does not change. Retrains run one at a time.

Every outcome is an event (:class:`ModelRetrainStarted`, :class:`ModelRetrained`), so it reaches
the engine's log, ``engine start``'s output and every attached screen as a notice.

This module imports nothing of the ``ml`` extra: without it, a configured retrain is one
:class:`ModelRetrained` saying so, once, and nothing is scheduled.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import polars as pl

from tradeterm.config import MlSettings
from tradeterm.core.events import Event, ModelRetrained, ModelRetrainStarted
from tradeterm.ml.retrain import RESULT, RetrainJob
from tradeterm.ml.store import ModelStoreError, read_manifest, version_of

log = logging.getLogger(__name__)

Fetch = Callable[[str, str, int], Awaitable[pl.DataFrame]]
"""``fetch(symbol, timeframe, bars)``: up to ``bars`` of the newest closed candles, oldest first;
raises with a one-line reason (not connected, the exchange failed...)."""

RETRY_S = 300.0
"""A retrain that could not start (no connection, no candles) is tried again this much later
(or after the period, if that is shorter)."""

EXTRA_MODULES = ("lightgbm", "sklearn", "joblib")


def missing_extra() -> str | None:
    """The one line a configured retrain gives when the ``ml`` extra is not installed."""
    missing = [m for m in EXTRA_MODULES if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    return (f"retraining needs the ml extra ({', '.join(missing)} missing): install it with "
            "`uv sync --extra ml` (or pip install 'tradeterm[ml]'); no model is retrained")


class Retrainer:
    """See the module docstring. ``run()`` is the task; cancel it to stop (a running child is
    killed)."""

    def __init__(self, settings: MlSettings, models_dir: Path, fetch: Fetch,
                 publish: Callable[[Event], None], clock: Callable[[], int], *,
                 ready: Callable[[], bool] = lambda: True, argv: list[str] | None = None) -> None:
        self.settings = settings
        self.models_dir = models_dir
        self._fetch = fetch
        self._publish = publish
        self._clock = clock
        self._ready = ready  # the engine is connected and its strategies loaded
        # the child's command line; the job file's path is appended
        self.argv = argv or [sys.executable, "-m", "tradeterm.ml.retrain"]
        self._due: dict[str, float] = {}  # model -> wall time (s) it is due
        self.running: str | None = None  # the model being retrained now
        self.pid: int | None = None  # its child's pid

    @property
    def period_s(self) -> float:
        return self.settings.retrain_every_hours * 3600

    async def run(self) -> None:
        if self.period_s <= 0 or not self.settings.retrain_models:
            return
        if (why := missing_extra()) is not None:
            log.warning("%s", why)
            for name in self.settings.retrain_models:
                self._publish(ModelRetrained(self._clock(), model=name, ok=False, detail=why))
            return
        for name in self.settings.retrain_models:
            self._due[name] = self._first_due(name)
        while True:
            name = min(self._due, key=lambda n: self._due[n])
            wait = self._due[name] - time.time()
            if wait > 0 or not self._ready():
                await asyncio.sleep(min(wait, 60.0) if wait > 0 else 0.5)
                continue
            ok = await self.retrain(name)
            self._due[name] = time.time() + (self.period_s if ok else min(self.period_s, RETRY_S))

    def _first_due(self, name: str) -> float:
        """The period after the model was trained (at once if that has passed; a model that
        cannot be read is tried at once, and its retrain says why)."""
        try:
            trained = read_manifest(self.models_dir, name).manifest["trained_at_ms"] / 1000
        except (ModelStoreError, KeyError, TypeError):
            return time.time()
        return float(trained) + self.period_s

    async def retrain(self, name: str) -> bool:
        """One retrain of ``name``, reported as events; True if it ran (well or not: a model
        that trained but failed the floor is retried a period later like a good one)."""
        settings = self.settings
        try:
            manifest = read_manifest(self.models_dir, name).manifest
            symbol, timeframe = str(manifest["symbol"]), str(manifest["timeframe"])
        except (ModelStoreError, KeyError) as exc:
            self._failed(name, "", f"cannot read the model's manifest: {exc}")
            return False
        previous = version_of(manifest)
        try:
            frame = await self._fetch(symbol, timeframe, settings.retrain_window_bars)
        except Exception as exc:  # noqa: BLE001 - the engine's fetch: one line
            self._failed(name, previous, f"cannot fetch {symbol} {timeframe} candles: {exc}")
            return False
        if frame.height == 0:
            self._failed(name, previous, f"no closed {symbol} {timeframe} candles to train on")
            return False
        self.running = name
        try:
            with tempfile.TemporaryDirectory(prefix="tradeterm-retrain-") as tmp:
                candles = Path(tmp) / "candles.parquet"
                await asyncio.to_thread(frame.write_parquet, candles)
                job = RetrainJob(str(self.models_dir), name, str(candles),
                                 settings.retrain_window_bars, settings.retrain_floor,
                                 settings.retrain_nice)
                (Path(tmp) / "job.json").write_text(job.to_json())
                self._publish(ModelRetrainStarted(self._clock(), model=name, bars=frame.height,
                                                  version=previous))
                log.info("retraining model %s on %d %s %s bars", name, frame.height, symbol,
                         timeframe)
                result = await self._child(str(Path(tmp) / "job.json"))
        finally:
            self.running, self.pid = None, None
        if result.get("ok"):
            detail = (f"{result.get('bars')} bars; out-of-sample log loss "
                      f"{result.get('log_loss', 0):.4f} (majority {result.get('majority_log_loss', 0):.4f}), "
                      f"accuracy {result.get('accuracy', 0):.3f}")
            if result.get("version") == previous:  # deterministic: no new bar, the same model
                detail = f"unchanged (the same model from the same bars); {detail}"
            log.info("model %s retrained: version %s (was %s), %s", name, result.get("version"),
                     previous, detail)
            self._publish(ModelRetrained(self._clock(), model=name, ok=True,
                                         version=str(result.get("version", "")),
                                         previous=previous, detail=detail))
        else:
            self._failed(name, previous, str(result.get("reason", "failed")))
        return True

    def _failed(self, name: str, previous: str, reason: str) -> None:
        kept = f"; version {previous} stays in use" if previous else ""
        log.warning("retraining model %s failed: %s%s", name, reason, kept)
        self._publish(ModelRetrained(self._clock(), model=name, ok=False, previous=previous,
                                     detail=f"{reason}{kept}"))

    async def _child(self, job_file: str) -> dict[str, object]:
        """Run the child to its end (or the deadline); its result, or why there is none."""
        timeout = self.settings.retrain_timeout_s
        proc = await asyncio.create_subprocess_exec(
            *self.argv, job_file, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed with whatever it started
        )
        self.pid = proc.pid
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), timeout)
        except TimeoutError:
            _kill_group(proc.pid)
            await proc.wait()
            return {"ok": False, "reason": f"timed out after {timeout:g} s (killed)"}
        finally:
            if proc.returncode is None:  # cancelled (the engine stops): never leave it running
                _kill_group(proc.pid)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(proc.wait(), 5)
        lines = out.decode("utf-8", "replace").splitlines()
        for line in lines:
            if not line.startswith(RESULT):
                log.info("retrain: %s", line)
        for line in reversed(lines):
            if line.startswith(RESULT):
                with contextlib.suppress(ValueError):
                    result = json.loads(line[len(RESULT):])
                    if isinstance(result, dict):
                        return result
        code = proc.returncode
        last = next((ln.strip() for ln in reversed(lines) if ln.strip()), "")
        died = f"died: signal {-code}" if code is not None and code < 0 else f"exit status {code}"
        return {"ok": False, "reason": f"the training process {died}" + (f" ({last[:200]})"
                                                                          if last else "")}


def _kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
