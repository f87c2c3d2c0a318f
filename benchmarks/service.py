"""What the engine service costs: attach time, round trips over the socket, memory, bandwidth.

Starts the engine as a VPS runs it (``python -m tradeterm --demo run --headless``: the repo's
``config.toml``, so 3 watchlist symbols and 2 strategies, simulator in-process, ccxt over
loopback) in a temporary data directory, waits until its socket streams the market, then:

1. **attach -> first frame with data**: ``tradeterm attach`` in a 120x40 pty, from exec to the
   first output showing a price (the book, tape or watchlist: drawn only from engine data);
   interpreter start-up and the handshake included. Several runs.
2. **round trips**, two levels, said apart in the output:
   - *protocol*: a ``RemoteEngine`` (the screen's own link, no screen) submits ``SwitchSymbol``
     and waits for the first view update carrying the new symbol's book; and submits a paper
     market order and waits for its ``OrderFilled`` event (the engine's command path: risk,
     paper broker, journal).
   - *screen*: in the attached workstation (pty, 120x40) press ``]`` / ``[`` (BTC/USDT <->
     ETH/USDT) and wait until the terminal output shows the new symbol's order book (at least
     :data:`BOOK_PRICES` distinct prices of the new symbol's magnitude: the watchlist alone
     draws one). Key to pixels: screen, socket, engine's view pump, socket, screen redraw.
3. **memory**: the attached screen process (RSS, PSS) and the engine with its children (the
   strategy workers): RSS summed, PSS summed (what the machine spends).
4. **bandwidth**: the screen attaches through a counting proxy socket (a Unix socket in
   between, forwarding both ways); bytes the client receives per second on the socket, next to
   the bytes per second the attached screen writes to its terminal, at 120x40 and 240x70,
   with a BTC/USDT position open (its account changes with every tick, as a trader's does).

Before (today's single process: ``benchmarks/terminal_load.py``'s terminal bytes/s and memory,
the issue's figures, or measured again with ``--before``, which also times the in-process
launch to the first frame with data, ``benchmarks/first_frame.py``) is printed beside.

    uv run --extra test python benchmarks/service.py [--runs 5] [--seconds 40] [--before]

Budgets (issue 12): attach 1 s, round trip p99 50 ms, screen 120 MB RSS, engine 200 MB (PSS
summed over its processes, as terminal_load.py measured today's 224 MB),
socket bytes/s <= terminal bytes/s. Exits 1 when a budget is exceeded. Timings on a shared
machine are noisy: read the min and median beside the max.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import msgspec
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pty import REPO, PtyApp  # noqa: E402

from tradeterm.config import load_settings  # noqa: E402
from tradeterm.core.commands import ClosePosition, PlaceOrder, SwitchSymbol  # noqa: E402
from tradeterm.core.events import Event, OrderDenied, OrderFilled  # noqa: E402
from tradeterm.core.trading import OrderRequest, OrderType  # noqa: E402
from tradeterm.service.paths import socket_path  # noqa: E402
from tradeterm.wire.messages import View  # noqa: E402
from tradeterm.wire.remote import RemoteEngine  # noqa: E402

BUDGET_ATTACH_S = 1.0
BUDGET_RTT_P99_MS = 50.0
BUDGET_SCREEN_MB = 120.0
BUDGET_ENGINE_MB = 200.0
# today's single process (issue 12, measured with benchmarks/terminal_load.py)
BEFORE_BOTH_MB = 224.0
BEFORE_TERMINAL_KIB_S = {(120, 40): 16.7, (240, 70): 33.8}

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>]")
PRICE = re.compile(r"\d[\d,]{3,}\.\d{2}")  # as benchmarks/first_frame.py
NUMBER = re.compile(r"(?<![\d.])(\d{2,6}\.\d{2})(?![\d])")
BOOK_PRICES = 6
CLOSE = re.compile(r"(?<![A-Za-z])C\s+(\d+\.\d{2})")
BTC, ETH = "BTC/USDT", "ETH/USDT"
# the demo's magnitudes (sim/spec.py: BTC 65,000, ETH 3,400): a number in range is that
# symbol's price; the book's sizes and totals (< 100) are in neither
RANGES = {BTC: (10_000.0, 1_000_000.0), ETH: (1_000.0, 10_000.0)}


def text_of(output: bytes | bytearray) -> str:
    return ANSI.sub(" ", output.decode("utf-8", "replace"))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def spread(values: list[float], unit: str = "s", scale: float = 1.0) -> str:
    v = [x * scale for x in values]
    return (f"min {min(v):.3f} {unit}, median {statistics.median(v):.3f} {unit}, "
            f"max {max(v):.3f} {unit} over {len(v)}")


# -- the engine -----------------------------------------------------------------------------------


class Engine:
    """The headless engine in ``data`` (the repo's config.toml: 3 symbols, 2 strategies)."""

    def __init__(self, data: Path) -> None:
        self.env = {**os.environ, "XDG_DATA_HOME": str(data)}
        self.journal = data / "tradeterm" / "journal.sqlite"
        self.socket = socket_path(self.journal)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tradeterm", "--demo", "run", "--headless"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=self.env, cwd=REPO, start_new_session=True)

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds until the socket streams a book and an account."""
        t0 = time.perf_counter()

        async def probe() -> None:
            client = RemoteEngine(self.socket, role="read-only", client="bench-probe")
            await client.connect()
            task = asyncio.create_task(client.run())
            try:
                while True:
                    snap = client.snapshot()
                    if snap.market.book is not None and snap.account is not None:
                        return
                    await asyncio.sleep(0.05)
            finally:
                client.submit_detach()
                await asyncio.wait_for(task, 10)

        while not self.socket.exists():
            if self.proc.poll() is not None:
                raise SystemExit("the engine ended before serving its socket")
            if time.perf_counter() - t0 > timeout:
                raise SystemExit("the engine never served its socket")
            time.sleep(0.2)
        asyncio.run(asyncio.wait_for(probe(), timeout))
        return time.perf_counter() - t0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@dataclass(frozen=True)
class Memory:
    rss_mb: float  # summed over the process and its children
    pss_mb: float
    own_rss_mb: float  # the process alone
    processes: int


def memory(pid: int) -> Memory:
    proc = psutil.Process(pid)
    rss = pss = 0
    own = count = 0
    for p in (proc, *proc.children(recursive=True)):
        try:
            info = p.memory_full_info()
        except psutil.NoSuchProcess:
            continue
        rss, pss, count = rss + info.rss, pss + getattr(info, "pss", info.rss), count + 1
        if p.pid == pid:
            own = info.rss
    return Memory(rss / 2**20, pss / 2**20, own / 2**20, count)


# -- a counting proxy between screen and engine ---------------------------------------------------


class CountingProxy:
    """A Unix socket at ``path`` forwarding every connection to ``upstream``; counts the bytes
    the engine sends to clients (``down``) and the bytes clients send (``up``)."""

    def __init__(self, path: Path, upstream: Path) -> None:
        self.path, self.upstream = path, upstream
        self.down = self.up = 0
        self.tally: Counter[str] = Counter()  # bytes per frame kind and view field, when on
        self.tallying = False
        self._lock = threading.Lock()
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        os.chmod(path, 0o600)
        self._server.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            engine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            engine.connect(str(self.upstream))
            threading.Thread(target=self._pipe, args=(engine, client, "down"), daemon=True).start()
            threading.Thread(target=self._pipe, args=(client, engine, "up"), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, way: str) -> None:
        pending = bytearray()  # this connection's frame not yet whole
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
                with self._lock:
                    if way == "down":
                        self.down += len(chunk)
                        self._count_frames(pending, chunk)
                    else:
                        self.up += len(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _count_frames(self, pending: bytearray, chunk: bytes) -> None:
        """Split the engine's stream into frames; count each view field's encoded bytes.
        """
        pending += chunk
        while len(pending) >= 4:
            size = int.from_bytes(pending[:4], "big")
            if len(pending) < 4 + size:
                return
            payload = bytes(pending[4:4 + size])
            del pending[:4 + size]
            if not self.tallying:  # the stream is split from its start, counted when asked
                continue
            frame = msgspec.msgpack.decode(payload)
            kind = frame.get("t", "?") if isinstance(frame, dict) else "?"
            self.tally[f"({kind} frames, whole)"] += 4 + size
            if kind == "view":
                for name, value in frame.items():
                    if name != "t":
                        self.tally[name] += len(msgspec.msgpack.encode(value))

    def close(self) -> None:
        self._server.close()


# -- 1. attach ------------------------------------------------------------------------------------


def attach_times(engine: Engine, runs: int) -> tuple[list[float], list[float]]:
    """(first frame, first frame with a price) per run, seconds from exec."""
    frames, datas = [], []
    for i in range(runs):
        app = PtyApp(["attach"], env=engine.env)
        try:
            frame = app.wait_for(lambda out: "PAPER" in ANSI.sub(" ", out), timeout=20)
            data_at = app.wait_for(lambda out: bool(PRICE.search(ANSI.sub(" ", out))), timeout=20)
        finally:
            app.stop()
        print(f"  attach run {i + 1}: first frame {frame or float('nan'):.3f} s, "
              f"first frame with a price {data_at or float('nan'):.3f} s", flush=True)
        if frame is not None:
            frames.append(frame)
        if data_at is not None:
            datas.append(data_at)
    return frames, datas


# -- 2a. protocol round trips ---------------------------------------------------------------------


class TimedRemote(RemoteEngine):
    """A RemoteEngine that signals the first view carrying a book of the subscribed symbol."""

    def __init__(self, path: Path, symbol: str = "") -> None:
        super().__init__(path, client="bench", symbol=symbol)
        self.book_seen = asyncio.Event()

    def _apply_view(self, view: View) -> None:
        super()._apply_view(view)
        if self._market_ok and self._book is not None:
            self.book_seen.set()


class Holder:
    """A second client watching ETH/USDT in a thread of its own, so that the engine streams
    that symbol's book all along: a switch to it is then the socket's round trip alone, not
    the exchange's subscription of a book stream (measured apart, as "cold")."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._hold()), daemon=True)
        self._thread.start()
        if not self._ready.wait(30):
            raise SystemExit("the holder client never saw the ETH/USDT book")

    async def _hold(self) -> None:
        client = TimedRemote(self.path, symbol=ETH)
        await client.connect()
        task = asyncio.create_task(client.run())
        await asyncio.wait_for(client.book_seen.wait(), 30)
        self._ready.set()
        while not self._stop.is_set():
            await asyncio.sleep(0.1)
        client.submit_detach()
        await asyncio.wait_for(task, 10)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(15)


async def protocol_round_trips(path: Path, switches: int,
                               orders: int) -> tuple[list[float], list[float]]:
    client = TimedRemote(path)
    await client.connect()
    task = asyncio.create_task(client.run())
    filled = asyncio.Event()
    denials: list[str] = []

    def on_event(event: Event) -> None:
        if isinstance(event, OrderDenied):  # risk answered: a round trip too, said apart
            denials.append(event.rule)
        if isinstance(event, OrderFilled | OrderDenied):
            filled.set()

    client.add_listener(on_event)
    switch_s: list[float] = []
    order_s: list[float] = []
    try:
        await asyncio.wait_for(client.book_seen.wait(), 30)
        for i in range(switches):
            await asyncio.sleep(0.05 + (i % 7) * 0.013)  # not in step with the view pump
            client.book_seen.clear()
            t0 = time.perf_counter()
            client.submit(SwitchSymbol(ETH if i % 2 == 0 else BTC))
            await asyncio.wait_for(client.book_seen.wait(), 10)
            switch_s.append(time.perf_counter() - t0)
        for i in range(orders):
            await asyncio.sleep(0.05 + (i % 7) * 0.013)
            filled.clear()
            side = "buy" if i % 2 == 0 else "sell"
            t0 = time.perf_counter()
            client.submit(PlaceOrder(OrderRequest(client.snapshot().symbol, side,
                                                  OrderType.MARKET, Decimal("0.001"))))
            try:
                await asyncio.wait_for(filled.wait(), 10)
            except TimeoutError:
                print(f"  order {i + 1}: no fill nor denial within 10 s", flush=True)
                continue
            order_s.append(time.perf_counter() - t0)
        if denials:
            print(f"  orders denied by risk (answered, counted): {len(denials)} "
                  f"({', '.join(sorted(set(denials)))})", flush=True)
    finally:
        client.submit_detach()
        await asyncio.wait_for(task, 10)
    return switch_s, order_s


# -- 2b. screen round trips -----------------------------------------------------------------------


def prices_of(symbol: str, text: str) -> set[float]:
    low, high = RANGES[symbol]
    return {v for v in (float(m) for m in NUMBER.findall(text)) if low <= v < high}


def chart_close_of(symbol: str, text: str) -> bool:
    """The chart's header shows a close (``C 3399.92``) of ``symbol``'s magnitude."""
    low, high = RANGES[symbol]
    return any(low <= float(v) < high for v in CLOSE.findall(text))


def screen_round_trips(engine: Engine, presses: int) -> tuple[list[float], list[float]]:
    """Key press to the new symbol's chart (its header's close) and to its book, on the
    terminal of the attached screen."""
    app = PtyApp(["attach"], env=engine.env)
    charts: list[float] = []
    books: list[float] = []
    try:
        if app.wait_for(lambda out: bool(PRICE.search(ANSI.sub(" ", out))), timeout=30) is None:
            raise SystemExit("the attached screen never drew a price")
        app.drain_for(3.0)
        for i in range(presses):
            target, key = (ETH, b"]") if i % 2 == 0 else (BTC, b"[")
            app.drain_for(0.3 + (i % 5) * 0.07)
            mark = len(app.output)
            t0 = time.perf_counter()
            os.write(app.master, key)
            chart = book = None
            while time.perf_counter() - t0 < 10 and (chart is None or book is None):
                if not app.pump(0.005):
                    continue
                text = text_of(app.output[mark:])
                if chart is None and chart_close_of(target, text):
                    chart = time.perf_counter() - t0
                if book is None and len(prices_of(target, text)) >= BOOK_PRICES:
                    book = time.perf_counter() - t0
            if chart is None or book is None:
                print(f"  press {i + 1}: the {target} chart or book never showed", flush=True)
                continue
            charts.append(chart)
            books.append(book)
    finally:
        app.stop()
    return charts, books


# -- 3, 4. bandwidth and memory -------------------------------------------------------------------


@dataclass(frozen=True)
class Traffic:
    cols: int
    rows: int
    seconds: float
    socket_bytes_s: float
    terminal_bytes_s: float
    screen: Memory
    engine: Memory


def traffic(engine: Engine, tmp: Path, cols: int, rows: int, seconds: float) -> Traffic:
    proxy = CountingProxy(tmp / f"proxy-{cols}x{rows}.sock", engine.socket)
    app = PtyApp(["attach", "--socket", str(proxy.path)], cols=cols, rows=rows, env=engine.env)
    try:
        if app.wait_for(lambda out: bool(PRICE.search(ANSI.sub(" ", out))), timeout=30) is None:
            raise SystemExit("the attached screen never drew a price")
        warm = min(15.0, seconds / 3)
        app.drain_for(warm)
        with proxy._lock:
            down0, proxy.tallying = proxy.down, True
        t0 = time.perf_counter()
        written = app.drain_for(seconds - warm)
        elapsed = time.perf_counter() - t0
        down = proxy.down - down0
        screen, engine_mem = memory(app.proc.pid), memory(engine.proc.pid)
    finally:
        app.stop()
        proxy.close()
    parts = ", ".join(f"{name} {n / elapsed / 1024:.2f}" for name, n in proxy.tally.most_common(8))
    print(f"  socket at {cols}x{rows}, KiB/s by frame and view field: {parts}", flush=True)
    return Traffic(cols, rows, elapsed, down / elapsed, written / elapsed, screen, engine_mem)


async def position(path: Path, quantity: str | None) -> None:
    """Open a BTC/USDT position of ``quantity`` (the account then changes with every tick,
    as a trader's does), or close it (None)."""
    client = TimedRemote(path)
    await client.connect()
    task = asyncio.create_task(client.run())
    try:
        await asyncio.wait_for(client.book_seen.wait(), 30)
        for _ in range(90):  # risk may deny for a while (max orders per minute): again
            if quantity is None:
                client.submit(ClosePosition(BTC))
            else:
                client.submit(PlaceOrder(OrderRequest(BTC, "buy", OrderType.MARKET,
                                                      Decimal(quantity))))
            await asyncio.sleep(1.0)
            account = client.snapshot().account
            held = account is not None and any(p.symbol == BTC for p in account.positions)
            if held == (quantity is not None):
                break
        print(f"  BTC/USDT position {'open' if held else 'closed'}", flush=True)
    finally:
        client.submit_detach()
        await asyncio.wait_for(task, 10)


def before_terminal(seconds: float, cols: int, rows: int) -> tuple[float, float]:
    """terminal_load.py again: (KiB/s, PSS MB) of ``tradeterm --demo`` in one process."""
    import terminal_load

    load = terminal_load.measure(seconds, cols, rows)
    return load.bytes_per_s / 1024, load.pss_mb


# -- the report -----------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="attach runs")
    parser.add_argument("--switches", type=int, default=200, help="protocol symbol switches")
    parser.add_argument("--cold", type=int, default=20,
                        help="protocol symbol switches with no other client on ETH/USDT")
    parser.add_argument("--orders", type=int, default=40, help="protocol market orders")
    parser.add_argument("--presses", type=int, default=40, help="screen key presses")
    parser.add_argument("--seconds", type=float, default=40.0,
                        help="each bandwidth run, warm-up (a third, at most 15 s) included")
    parser.add_argument("--before", action="store_true",
                        help="measure today's single process again (terminal_load.py)")
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="tt-bench-") as tmp_name:
        tmp = Path(tmp_name)
        engine = Engine(tmp / "data")
        try:
            ready = engine.wait_ready()
            print(f"engine ready (socket streams the market) after {ready:.1f} s; "
                  f"pid {engine.proc.pid}; socket {engine.socket}", flush=True)
            engine_idle = memory(engine.proc.pid)
            frames, datas = attach_times(engine, args.runs)
            holder = Holder(engine.socket)
            try:
                switch_s, order_s = asyncio.run(
                    protocol_round_trips(engine.socket, args.switches, args.orders))
                chart_s, screen_s = screen_round_trips(engine, args.presses)
            finally:
                holder.close()
            cold_s, _ = asyncio.run(protocol_round_trips(engine.socket, args.cold, 0))
            asyncio.run(position(engine.socket, "0.01"))
            loads = [traffic(engine, tmp, c, r, args.seconds) for c, r in ((120, 40), (240, 70))]
            asyncio.run(position(engine.socket, None))
        finally:
            engine.stop()
    before: dict[tuple[int, int], tuple[float, float]] = {}
    launch: list[float] = []
    if args.before:
        import first_frame

        for _ in range(args.runs):
            data_at = first_frame.one_run()[1]
            if data_at is not None:
                launch.append(data_at)
        for size in BEFORE_TERMINAL_KIB_S:
            before[size] = before_terminal(args.seconds, *size)

    print()
    print("tradeterm engine service (engine: --demo run --headless, 3 symbols, 2 strategies; "
          "screen: tradeterm attach in a pty)")
    if datas:
        within = max(datas) <= BUDGET_ATTACH_S
        ok &= within
        print(f"  attach -> first frame with a price : {spread(datas)} "
              f"(budget {BUDGET_ATTACH_S:.1f} s) {verdict(within)}")
    else:
        ok = False
        print("  attach -> first frame with a price : never seen  OVER")
    if frames:
        print(f"  attach -> first frame              : {spread(frames)}")
    if launch:
        print(f"  before: tradeterm --demo in one process, launch -> first frame with data: "
              f"{spread(launch)}")
    print("  round trips (ETH/USDT held by another client, so its book streams all along; "
          "cold: nobody else on it):")
    for name, values, budgeted in (
        ("protocol: SwitchSymbol -> book view", switch_s, True),
        ("protocol, cold: SwitchSymbol -> book", cold_s, False),
        ("protocol: market order -> fill/denial", order_s, False),
        ("screen: key -> new symbol's chart drawn", chart_s, False),
        ("screen: key -> new symbol's book drawn", screen_s, False),
    ):
        if not values:
            print(f"  {name:38}: no samples")
            ok &= not budgeted
            continue
        p50, p99 = pct(values, 50) * 1000, pct(values, 99) * 1000
        line = (f"  {name:38}: p50 {p50:6.1f} ms, p99 {p99:6.1f} ms, max "
                f"{max(values) * 1000:6.1f} ms over {len(values)}")
        if budgeted:
            within = p99 <= BUDGET_RTT_P99_MS
            ok &= within
            line += f" (budget p99 {BUDGET_RTT_P99_MS:.0f} ms) {verdict(within)}"
        print(line)
    ui = load_settings(REPO / "config.toml").ui
    print(f"  (the screen samples its engine link ui.fps={ui.fps} times a second and redraws book "
          f"and tape at most ui.book_fps={ui.book_fps} times, attached as in one process: the "
          f"screen figures carry up to {1000 / ui.fps:.0f} and {1000 / ui.book_fps:.0f} ms of "
          "that cadence, so the budget is judged on the protocol's round trip)")
    small = loads[0]
    screen_ok = small.screen.rss_mb <= BUDGET_SCREEN_MB
    # today's 224 MB (terminal_load.py) is PSS summed over the process and its children
    engine_ok = small.engine.pss_mb <= BUDGET_ENGINE_MB
    ok &= screen_ok and engine_ok
    print(f"  screen RSS (120x40, attached)       : {small.screen.rss_mb:6.1f} MB, PSS "
          f"{small.screen.pss_mb:6.1f} MB (budget {BUDGET_SCREEN_MB:.0f} MB RSS) "
          f"{verdict(screen_ok)}")
    print(f"  engine RSS, + {small.engine.processes - 1} children (summed)    : "
          f"{small.engine.rss_mb:6.1f} MB, PSS {small.engine.pss_mb:6.1f} MB; engine process "
          f"alone {small.engine.own_rss_mb:6.1f} MB (budget {BUDGET_ENGINE_MB:.0f} MB PSS) "
          f"{verdict(engine_ok)}")
    print(f"  engine with no screen attached      : RSS {engine_idle.rss_mb:6.1f} MB summed, PSS "
          f"{engine_idle.pss_mb:6.1f} MB, process alone {engine_idle.own_rss_mb:6.1f} MB")
    both = small.screen.pss_mb + small.engine.pss_mb
    print(f"  screen + engine PSS                 : {both:6.1f} MB "
          f"(before, one process: {BEFORE_BOTH_MB:.0f} MB)")
    for load in loads:
        size = (load.cols, load.rows)
        sock, term = load.socket_bytes_s / 1024, load.terminal_bytes_s / 1024
        within = sock <= term
        ok &= within
        then = (f"measured now {before[size][0]:.1f} KiB/s, PSS {before[size][1]:.0f} MB"
                if size in before else f"issue 12: {BEFORE_TERMINAL_KIB_S[size]:.1f} KiB/s")
        print(f"  {load.cols}x{load.rows}: socket {sock:6.1f} KiB/s per client, terminal "
              f"{term:6.1f} KiB/s (budget socket <= terminal) {verdict(within)}; over "
              f"{load.seconds:.0f} s; before, terminal of the single process: {then}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
