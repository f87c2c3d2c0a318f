"""The parent side of strategy isolation: one worker process per strategy file, driven from the
engine's event loop without a thread ever waiting inside user code.

Why processes: a strategy is user code. In a thread, one ``while True`` freezes every strategy
and keeps the interpreter alive after ``q``; one unbounded allocation gets the whole engine
OOM-killed. A worker process can be given a deadline and a memory ceiling, and killed.

Why a forkserver: ``fork`` is unsafe from a parent with threads and event loops; ``spawn``
costs a fresh interpreter per worker (~1.1 s and ~44 MB private memory each, measured). The
forkserver imports polars, TA-Lib and the indicators once (see :data:`PRELOAD`); each worker is
forked from it in ~40 ms and shares those pages (~13 MB private after start).

The pipe is a socketpair: the worker uses a blocking :class:`Connection`, the parent asyncio
streams with the same framing, so waiting for a reply is a plain ``await`` with a timeout. The
worker's stdout/stderr come back on a second pipe and are logged (a user's ``print`` never
lands on the terminal the app draws on).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import pickle
import socket
import struct
import sys
import threading
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from tradeterm.strategy.worker import MEMORY_MARKERS, WorkerJob, worker_main

log = logging.getLogger(__name__)

PRELOAD = (
    "tradeterm.strategy.worker",
    "tradeterm.indicators.ta",
    "tradeterm.indicators.volume",
    "tradeterm.indicators.vwap",
    "tradeterm.indicators.patterns",
    "tradeterm.indicators.smc",
)
"""Imported once in the forkserver, shared by every worker it forks."""

WATCH_S = 0.05
"""How often the RSS of a busy worker is read (from /proc) against the memory limit."""

STOP_GRACE_S = 0.5
"""How long a worker gets to exit after SIGTERM before SIGKILL."""

_HEADER = struct.Struct("!i")
_BIG = struct.Struct("!Q")


class WorkerFailed(Exception):
    """The worker was stopped or died; ``str()`` is the reason a user reads."""


def context() -> ForkServerContext:
    ctx = multiprocessing.get_context("forkserver")
    assert isinstance(ctx, ForkServerContext)
    ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def ensure_servers() -> None:
    """Start multiprocessing's resource tracker and the forkserver (fast: neither is waited
    for) with a real stderr. Inside the app ``sys.stderr`` is Textual's capture, whose
    ``fileno()`` is -1, and the resource tracker would pass that on: "bad value(s) in
    fds_to_keep". Call on the loop's thread, so nothing else writes to stderr meanwhile."""
    from multiprocessing import forkserver, resource_tracker

    saved = sys.stderr
    try:
        if not _has_fd(saved):
            sys.stderr = sys.__stderr__ if _has_fd(sys.__stderr__) else open(os.devnull, "w")  # noqa: SIM115
        resource_tracker.ensure_running()
        forkserver.ensure_running()
    finally:
        sys.stderr = saved


def _has_fd(stream: object) -> bool:
    try:
        return isinstance(fileno := stream.fileno(), int) and fileno >= 0  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - no fileno, a closed stream, io.UnsupportedOperation...
        return False


def _frame(data: bytes) -> bytes:
    """``Connection.send_bytes`` framing, so the worker can use ``recv_bytes``."""
    if len(data) > 0x7FFFFFFF:
        return _HEADER.pack(-1) + _BIG.pack(len(data)) + data
    return _HEADER.pack(len(data)) + data


_START_LOCK = threading.Lock()


def _start(proc: BaseProcess) -> None:
    """``proc.start()``, one at a time: ``Process.start`` walks a module-level set of children
    that a concurrent start would change under it."""
    with _START_LOCK:
        proc.start()


def _take_fd(conn: Connection) -> int:
    """The descriptor of ``conn``, owned by the caller from now on."""
    fd = os.dup(conn.fileno())
    conn.close()
    return fd


def rss_mb(pid: int) -> float | None:
    """Resident memory of ``pid`` in MB (from /proc), None if unknown."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            resident = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return resident * os.sysconf("SC_PAGE_SIZE") / 2**20


class StrategyWorker:
    """One worker process for one strategy file (see the module docstring)."""

    def __init__(
        self, file: Path, memory_limit_mb: int, on_output: Callable[[str], None] | None = None,
        params: dict[str, dict[str, Any]] | None = None, params_origin: str = "settings",
    ) -> None:
        self.job = WorkerJob(Path(file), memory_limit_mb, dict(params or {}), params_origin)
        self.memory_limit_mb = memory_limit_mb
        self._on_output = on_output
        self._proc: BaseProcess | None = None
        self._starting: asyncio.Future[None] | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._exited: asyncio.Future[int | None] | None = None
        self._out_fd: int | None = None
        self._out_buf = b""
        self.tail: deque[str] = deque(maxlen=20)  # the worker's last output lines
        self.out_of_memory = False  # its output said an allocation failed
        self._busy = asyncio.Lock()  # one request at a time: user code never runs concurrently
        self._closed = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def alive(self) -> bool:
        return self._exited is not None and not self._exited.done() and not self._closed

    # -- life -----------------------------------------------------------------------------------

    async def start(self, timeout_s: float) -> tuple[object, ...]:
        """Start the worker and return its first message (``loaded`` or ``load_error``)."""
        loop = asyncio.get_running_loop()
        ctx = context()
        parent, child = ctx.Pipe(duplex=True)
        out_r, out_w = ctx.Pipe(duplex=False)
        ensure_servers()
        proc = ctx.Process(
            target=worker_main, args=(child, out_w, self.job), daemon=True,
            name=f"tradeterm-strategy:{self.job.file.stem}",
        )
        self._proc = proc
        # The first start waits for the forkserver to import its preloads (~1 s): off the loop.
        self._starting = loop.run_in_executor(None, _start, proc)
        try:
            await asyncio.shield(self._starting)
        finally:
            child.close()
            out_w.close()
        self._exited = loop.create_future()
        loop.add_reader(proc.sentinel, self._on_exit)
        self._out_fd = _take_fd(out_r)
        os.set_blocking(self._out_fd, False)
        loop.add_reader(self._out_fd, self._read_output)
        sock = socket.socket(fileno=_take_fd(parent))
        self._reader, self._writer = await asyncio.open_connection(sock=sock, limit=2**16)
        async with self._busy:
            return await self._reply(timeout_s, f"timed out after {timeout_s:g} s loading the file")

    def _on_exit(self) -> None:
        proc = self._proc
        assert proc is not None and self._exited is not None
        asyncio.get_running_loop().remove_reader(proc.sentinel)
        code = proc.exitcode  # the sentinel is readable: this does not block
        if not self._exited.done():
            self._exited.set_result(code)

    def _read_output(self) -> None:
        fd = self._out_fd
        if fd is None:
            return
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._close_output()
            return
        self._take_output(data)

    def _take_output(self, data: bytes) -> None:
        lines = (self._out_buf + data).split(b"\n")
        self._out_buf = lines.pop()[-4096:]
        for raw in lines:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self.tail.append(line)
                if any(marker in line for marker in MEMORY_MARKERS):
                    self.out_of_memory = True
                if self._on_output is not None:
                    self._on_output(line)

    def _drain_output(self) -> None:
        """Read what the worker wrote before it died (its last words say why)."""
        fd = self._out_fd
        while fd is not None:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            self._take_output(data)
        if self._out_buf:
            self._take_output(b"\n")

    def _close_output(self) -> None:
        fd, self._out_fd = self._out_fd, None
        if fd is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(fd)
            with contextlib.suppress(OSError):
                os.close(fd)

    def kill(self) -> None:
        """SIGKILL now (idempotent); the exit is noticed through the sentinel."""
        proc = self._proc
        exited = self._exited
        if proc is not None and proc.pid is not None and exited is not None and not exited.done():
            with contextlib.suppress(OSError, ValueError, AttributeError):
                proc.kill()

    async def stop(self, *, now: bool = False) -> None:
        """Ask it to exit (EOF, then SIGTERM), SIGKILL after :data:`STOP_GRACE_S` (at once with
        ``now``: a worker holds nothing worth saving); returns within about twice that."""
        self._closed = True
        if now:
            self.kill()
        if self._starting is not None and not self._starting.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._starting), 2 * STOP_GRACE_S)
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        proc, exited = self._proc, self._exited
        if proc is not None and proc.pid is not None:
            if exited is None or not exited.done():
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    proc.terminate()
                if exited is not None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(exited), STOP_GRACE_S)
                if exited is None or not exited.done():
                    with contextlib.suppress(OSError, ValueError, AttributeError):
                        proc.kill()
                    if exited is not None:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(asyncio.shield(exited), STOP_GRACE_S)
            if exited is not None and not exited.done():  # never heard back: stop listening
                with contextlib.suppress(Exception):
                    asyncio.get_running_loop().remove_reader(proc.sentinel)
        self._drain_output()
        self._close_output()

    # -- requests -------------------------------------------------------------------------------

    async def call(
        self, message: tuple[object, ...], payload: bytes | None, timeout_s: float,
        timeout_reason: Callable[[], str],
    ) -> tuple[object, ...]:
        """Send ``message`` (and ``payload``), return the reply; :class:`WorkerFailed` (with the
        worker killed) on a timeout, the memory limit or the worker's death."""
        async with self._busy:
            if self._writer is None or not self.alive:
                raise WorkerFailed(self.death_reason())
            data = _frame(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
            if payload is not None:
                data += _frame(payload)
            self._writer.write(data)
            return await self._reply(timeout_s, timeout_reason())

    async def _reply(self, timeout_s: float, timeout_reason: str) -> tuple[object, ...]:
        loop = asyncio.get_running_loop()
        exited = self._exited
        assert exited is not None
        read = asyncio.ensure_future(self._read_message())
        deadline = loop.time() + timeout_s
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    self.kill()
                    raise WorkerFailed(timeout_reason)
                waiting: set[asyncio.Future[object]] = {read, exited}  # type: ignore[arg-type]
                done, _ = await asyncio.wait(
                    waiting, timeout=min(remaining, WATCH_S),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if read in done and read.exception() is None:
                    reply = read.result()
                    if reply and reply[0] == "memory":
                        self.kill()
                        raise WorkerFailed(self.memory_reason())
                    return reply
                if done:  # the pipe closed or the process exited: wait for its status
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(asyncio.shield(exited), 2.0)
                    self.kill()
                    raise WorkerFailed(self.death_reason())
                rss = rss_mb(self.pid) if self.pid is not None else None
                if rss is not None and rss > self.memory_limit_mb:
                    self.kill()
                    raise WorkerFailed(self.memory_reason())
        except BaseException:
            self.kill()  # a cancelled or failed request leaves the worker out of step: end it
            raise
        finally:
            if not read.done():
                read.cancel()

    async def _read_message(self) -> tuple[object, ...]:
        reader = self._reader
        assert reader is not None
        (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
        if size == -1:
            (size,) = _BIG.unpack(await reader.readexactly(_BIG.size))
        message = pickle.loads(await reader.readexactly(size))
        assert isinstance(message, tuple)
        return message

    # -- reasons --------------------------------------------------------------------------------

    def memory_reason(self) -> str:
        return f"over the {self.memory_limit_mb} MB memory limit"

    def death_reason(self) -> str:
        """``worker died: signal 6`` (or the memory limit, when its last words say so)."""
        self._drain_output()
        if self.out_of_memory:
            return self.memory_reason()
        code = self._exited.result() if self._exited is not None and self._exited.done() else None
        if code is None:
            return "worker died"
        if code < 0:
            return f"worker died: signal {-code}"
        return f"worker died: exit status {code}"
