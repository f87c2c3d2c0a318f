"""The child side of strategy isolation: one process runs one strategy file.

The parent (:mod:`tradeterm.strategy.isolation`) forks it from a forkserver that has polars,
TA-Lib and the indicators imported already, so a worker starts in tens of milliseconds and
shares those pages with its siblings. The worker loads the strategy file itself (an import that
hangs or crashes is contained too), reports the class metadata, runs the look-ahead guard when
asked, then evaluates one candle frame per request until the parent closes the pipe.

Messages on the pipe use :class:`multiprocessing.connection.Connection` framing (a 4-byte
big-endian length, then the bytes). Control messages are small pickled tuples; the candle
frame travels as Arrow IPC bytes (``DataFrame.write_ipc``), never as a pickled frame.

Memory: ``RLIMIT_DATA`` is set to the worker's data size at start plus the configured limit, so
an allocation that would cross it fails at once (numpy and Python raise ``MemoryError``, which
is reported as such; polars aborts, which the parent recognises from the worker's stderr). The
parent also watches the worker's RSS; either way the reason is the memory limit.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import resource
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import ValidationError

from tradeterm.core.models import Signal, timeframe_ms
from tradeterm.strategy.api import STATUS_COLUMN, Strategy, missing_plots, normalise_output
from tradeterm.strategy.bar_guard import check_signal_bars
from tradeterm.strategy.guard import bar_line
from tradeterm.strategy.loader import StrategyLoadError, _class_line, load_file
from tradeterm.strategy.lookahead import check_lookahead
from tradeterm.strategy.recheck import Recheck
from tradeterm.strategy.signals import last_bar_signals

PLOT_BARS = 1000
"""Newest bars of each declared plot column an evaluation sends back (the chart's window)."""

Plots = tuple[tuple[int, ...], dict[str, tuple[float | None, ...]]]
"""A strategy's plot columns on its newest bars: (open times, column -> values, null as None)."""

GUARD_BARS = 2000
"""Synthetic bars the look-ahead guard runs on when a strategy is enabled (plus 2x warm-up)."""

MEMORY_MARKERS = ("memory allocation of", "MemoryError", "Cannot allocate memory")
"""Words in a dead worker's last output that mean an allocation hit the memory limit."""


@dataclass(frozen=True, slots=True)
class StrategyMeta:
    """What the parent needs to know of a strategy class it never imports."""

    name: str
    file: Path
    timeframe: str
    symbols: tuple[str, ...]
    warmup: int
    params: dict[str, Any] = field(default_factory=dict)
    line: int | None = None  # the class statement's line (for duplicate-name errors)
    plots: tuple[str, ...] = ()  # columns it declares plottable (Strategy.plots)


@dataclass(frozen=True, slots=True)
class WorkerJob:
    """How the parent starts a worker."""

    file: Path
    memory_limit_mb: int
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # [strategies.params.<name>]
    params_origin: str = "settings"  # the config file they came from (for the error line)


def params_error(exc: ValidationError, name: str, origin: str) -> str:
    """A configured parameter the strategy's ``Params`` refused, as one line naming the file
    and the key: ``config.toml: key 'strategies.params.ml_signal.min_confidence' has value 2:
    Input should be less than or equal to 1``."""
    errors = exc.errors()
    err = errors[0]
    key = ".".join(("strategies", "params", name, *(str(p) for p in err["loc"])))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if err["type"] == "extra_forbidden":
        return f"{origin}: unknown key '{key}' (not a parameter of {name}){more}"
    shown = repr(err.get("input"))
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return f"{origin}: key '{key}' has value {shown}: {err['msg']}{more}"


# -- replies (child -> parent), as pickled tuples -----------------------------------------------
# ("loaded", StrategyMeta, create_error | None) | ("load_error", file, line, message)
# ("guarded", refusal | None)
# ("signals", list[Signal], duration_ms, Plots | None, status | None) | ("error", text)
# | ("lookahead", reason)
# ("memory", text)


def error_text(exc: BaseException, file: Path | None = None) -> str:
    """``Type: message (file.py:line)``, one line, pointing at the strategy's own line if any."""
    text = f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__
    if file is not None:
        lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
                 if Path(f.filename) == file]
        if lines:
            text += f" ({file.name}:{lines[-1]})"
    return text


def frame_to_ipc(frame: pl.DataFrame) -> bytes:
    """A candle frame as Arrow IPC bytes (uncompressed: the pipe is local, encoding is cheap)."""
    sink = io.BytesIO()
    frame.write_ipc(sink, compression="uncompressed")
    return sink.getvalue()


def guard(cls: type[Strategy], guard_bars: int, cuts: int,
          params: dict[str, Any] | None = None) -> str | None:
    """The whole guard (prefix cuts and every fired bar) on synthetic candles of the strategy's
    timeframe; the refusal reason."""
    from tradeterm.indicators.frame import synthetic_candles

    refusal = live_refusal(cls)
    if refusal:
        return refusal

    frame = synthetic_candles(
        guard_bars + 2 * cls.warmup, seed=1, interval_ms=timeframe_ms(cls.timeframe)
    )
    try:
        strategy = cls(params)
        raw = strategy.compute(frame)
        evaluated = normalise_output(raw, frame.height, strategy.warmup, strategy.name)
        unplottable = missing_plots(raw, tuple(cls.plots), strategy.name)
        if unplottable:
            return unplottable
        report = check_lookahead(strategy, frame, cuts, seed=0, full=raw)
        if not report.ok:
            return report.reason
        bars = check_signal_bars(strategy, frame, evaluated)
    except Exception as exc:  # noqa: BLE001 - user code raising on synthetic data: as live
        return f"raised on synthetic candles: {error_text(exc, _file_of(cls))}"
    return None if bars.ok else f"look-ahead {bar_line(bars)}"


def live_refusal(cls: type[Strategy]) -> str | None:
    """Why the live engine will not run ``cls``: shares (``scale_out``) it cannot take as legs
    (more than three, a share outside (0, 1], not summing to 1), as the backtester refuses
    them."""
    from tradeterm.core.scale_out import leg_weights

    try:
        leg_weights(tuple(getattr(cls, "scale_out", ())))
    except (TypeError, ValueError) as exc:
        return f"declares {exc}"
    return None


def _file_of(cls: type) -> Path | None:
    import inspect

    try:
        return Path(inspect.getfile(cls)).resolve()
    except (OSError, TypeError):
        return None


def evaluate(strategy: Strategy, frame: pl.DataFrame, symbol: str, timeframe: str) -> list[Signal]:
    """The last bar's signals of ``strategy`` on ``frame`` (what the engine emits)."""
    return last_bar_signals(strategy.evaluate(frame), strategy.name, symbol, timeframe,
                            tuple(getattr(strategy, "scale_out", ())))


# -- the child process ----------------------------------------------------------------------------


def _detach(output: Connection) -> None:
    """Own the process: stdout/stderr to the parent's log pipe (never the terminal the app
    draws on), Ctrl-C ignored (the parent decides), killed if the forkserver dies with it."""
    fd = output.fileno()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    output.close()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):  # Linux: die with the forkserver (that is, the engine)
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _data_bytes() -> int:
    """The process's data size now (VmData), the base the memory limit is added to."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


def _limit_memory(limit_mb: int) -> None:
    with contextlib.suppress(OSError, ValueError):
        limit = _data_bytes() + limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _send(conn: Connection, *message: object) -> None:
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _load(file: Path) -> tuple[type[Strategy] | None, tuple[object, ...]]:
    try:
        [cls] = load_file(file)
    except StrategyLoadError as exc:
        return None, ("load_error", str(exc.file), exc.line, exc.message)
    meta = StrategyMeta(
        name=cls.name, file=file.resolve(), timeframe=cls.timeframe, symbols=tuple(cls.symbols),
        warmup=cls.warmup, params=_params(cls), line=_class_line(cls), plots=tuple(cls.plots),
    )
    return cls, ("loaded", meta)


def _params(cls: type[Strategy]) -> dict[str, Any]:
    try:
        return dict(cls.Params().model_dump(mode="json"))
    except Exception:  # noqa: BLE001 - params not JSON-able: metadata only, not needed
        return {}


def worker_main(conn: Connection, output: Connection, job: WorkerJob) -> None:
    """The worker's whole life: load, answer requests, exit when the parent closes the pipe."""
    _detach(output)
    _limit_memory(job.memory_limit_mb)
    try:
        _serve(conn, job)
    except MemoryError:
        with contextlib.suppress(Exception):
            _send(conn, "memory", "MemoryError")
    except (EOFError, OSError):
        pass  # the parent is gone or closed the pipe: nothing left to do


def _serve(conn: Connection, job: WorkerJob) -> None:
    try:
        cls, reply = _load(job.file)
    except MemoryError:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit and the like from a user import
        cls, reply = None, ("load_error", str(job.file), None, error_text(exc, job.file))
    instance: Strategy | None = None
    configured = job.params.get(cls.name) if cls is not None else None
    if cls is not None:
        try:
            instance = cls(configured)
            meta = reply[1]
            assert isinstance(meta, StrategyMeta)
            with contextlib.suppress(Exception):  # the parameters it runs with, as configured
                meta = replace(meta, params=dict(instance.params.model_dump(mode="json")))
            reply = ("loaded", meta, None)
        except MemoryError:
            raise
        except ValidationError as exc:
            if configured is None:  # the defaults themselves are broken: the class's fault
                reply = (*reply, f"cannot create: {error_text(exc, job.file.resolve())}")
            else:
                reply = (*reply, params_error(exc, cls.name, job.params_origin))
        except Exception as exc:  # noqa: BLE001 - user code in __init__
            reply = (*reply, f"cannot create: {error_text(exc, job.file.resolve())}")
    _send(conn, *reply)
    recheck = Recheck()
    while True:
        request = pickle.loads(conn.recv_bytes())
        kind = request[0]
        if kind == "stop":
            return
        if kind == "guard" and cls is not None:
            _send(conn, "guarded", _guarded(cls, request[1], request[2], configured))
        elif kind == "eval" and instance is not None:
            payload = conn.recv_bytes()
            _send(conn, *_evaluated(instance, payload, request[1], request[2], job.file, recheck))


def _guarded(cls: type[Strategy], guard_bars: int, cuts: int,
             params: dict[str, Any] | None = None) -> str | None:
    try:
        return guard(cls, guard_bars, cuts, params)
    except MemoryError:
        raise
    except BaseException as exc:  # noqa: BLE001 - a SystemExit in user code is its failure
        return f"raised on synthetic candles: {error_text(exc, _file_of(cls))}"


def _evaluated(
    instance: Strategy, payload: bytes, symbol: str, timeframe: str, file: Path,
    recheck: Recheck | None = None,
) -> tuple[object, ...]:
    """The last bar's signals; first, the bars acted on a few bars ago are computed again
    (:mod:`tradeterm.strategy.recheck`): a changed signal is a ``lookahead`` reply."""
    start = time.perf_counter()
    try:
        frame = pl.read_ipc(io.BytesIO(payload))
        evaluated = instance.evaluate(frame)
        signals = last_bar_signals(evaluated, instance.name, symbol, timeframe,
                                   tuple(getattr(instance, "scale_out", ())))
        note = _status(evaluated)
        if recheck is not None:
            key = (symbol, timeframe)
            changed = recheck.verify(instance, key, frame, timeframe_ms(timeframe))
            if changed is not None:
                return ("lookahead", changed)
            if signals:
                recheck.acted(key, frame, evaluated, getattr(instance, "recheck_epoch", None))
    except MemoryError:
        raise
    except BaseException as exc:  # noqa: BLE001 - whatever user code raises fails only itself
        return ("error", error_text(exc, file.resolve()))
    return ("signals", signals, (time.perf_counter() - start) * 1000,
            plot_tail(evaluated, tuple(instance.plots)), note)


def plot_tail(evaluated: pl.DataFrame, plots: tuple[str, ...],
              bars: int = PLOT_BARS) -> Plots | None:
    """The declared plot columns on the newest ``bars`` bars (a column the frame lacks, or
    cannot give as numbers, is left out: the guard refused such a strategy already)."""
    if not plots:
        return None
    tail = evaluated.tail(bars)
    columns: dict[str, tuple[float | None, ...]] = {}
    for column in plots:
        if column in tail.columns and missing_plots(tail, (column,), "") is None:
            values = tail.get_column(column).cast(pl.Float64).fill_nan(None)
            columns[column] = tuple(values.to_list())
    return tuple(int(t) for t in tail.get_column("open_time").to_list()), columns


def _status(evaluated: pl.DataFrame) -> str | None:
    """The newest bar's ``status`` (one line, at most 120 characters), if the strategy has one."""
    if STATUS_COLUMN not in evaluated.columns or evaluated.is_empty():
        return None
    value = evaluated.get_column(STATUS_COLUMN)[-1]
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text[:120] or None
