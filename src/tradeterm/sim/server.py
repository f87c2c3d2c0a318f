"""The simulator server: aiohttp app, the market loop and the stream publisher.

``SimServer`` owns one :class:`SymbolMarket` per symbol and advances them every 100 ms of wall
time on its event loop; it turns their output into Binance stream events (``depth@100ms`` every
step, ``depth``/``depth@1000ms``, kline and ticker pushes every second, trades as they print).

Beside those (the *active* markets) it lists quiet markets (``QUIET_SPECS``, synthetic mode
only): a quiet market is built the first time anything asks about it (the all-symbol ticker
included) and stays still until a client watches a stream of it or asks for its candles, book
or trades; from then on it is advanced like the others. So the demo starts and ticks as with
three symbols, and a scanner still sees a venue of thirty-odd.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from aiohttp import WSMsgType, web

from tradeterm.core.models import ReplayStatus
from tradeterm.sim import wire
from tradeterm.sim.book import DepthBatch
from tradeterm.sim.clock import SimClock
from tradeterm.sim.faults import Faults
from tradeterm.sim.hub import Connection, Hub
from tradeterm.sim.market import StepOutput, SymbolMarket
from tradeterm.sim.replay import ReplayDriver, load_candles, replay_symbols, split_at
from tradeterm.sim.rest import RestApi
from tradeterm.sim.spec import (
    DEFAULT_SPECS,
    INTERVAL_MS,
    QUIET_HISTORY_DAYS,
    QUIET_SPECS,
    SymbolSpec,
)
from tradeterm.sim.streams import parse_stream
from tradeterm.sim.warmup import FileHistory

log = logging.getLogger(__name__)

TICK_S = 0.1
SLOW_PUSH_S = 1.0
WS_HEARTBEAT_S = 20.0


class SimServer:
    """A Binance-compatible spot exchange on loopback (see docs/simulator.md)."""

    def __init__(self, seed: int = 42, symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "SOLUSDT"),
                 host: str = "127.0.0.1", port: int = 0,
                 replay: Path | str | Sequence[Path | str] | None = None,
                 speed: float = 1.0, replay_from_ms: int | None = None,
                 quiet: bool | None = None) -> None:
        """``quiet``: also list the quiet markets (default: unless replaying)."""
        unknown = [s for s in symbols if s.upper() not in DEFAULT_SPECS]
        if unknown:
            raise ValueError(f"unknown symbols {unknown}; served: {', '.join(DEFAULT_SPECS)}")
        self.seed = seed
        self.symbols = tuple(s.upper() for s in symbols)
        self.host = host
        self.port = port
        files = [replay] if isinstance(replay, str | Path) else list(replay or ())
        self.replays = tuple(Path(f) for f in files)  # several: several symbols on one clock
        self.replay = self.replays[0] if self.replays else None
        self.replay_from_ms = replay_from_ms  # the bars before it are warm-up history
        self.drivers: dict[str, ReplayDriver] = {}
        self.speed = speed
        self.markets: dict[str, SymbolMarket] = {}  # the active ones: advanced every step
        self.listed: dict[str, SymbolSpec] = {s: DEFAULT_SPECS[s] for s in self.symbols}
        if quiet if quiet is not None else not self.replays:
            self.listed.update((s, q) for s, q in QUIET_SPECS.items() if s not in self.listed)
        self._dormant: dict[str, SymbolMarket] = {}  # quiet, built, not advanced yet
        self._start_ms = 0
        self.faults = Faults(self)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: int | None = None
        self.hub = Hub(set(self.listed), time.monotonic)
        self.clock = SimClock()
        self.paused = False
        self.finished = False  # a replay reached the end of its file (and stays paused)
        self.replay_status: ReplayStatus | None = None  # replaced, never mutated: read it anywhere
        self._driver: ReplayDriver | None = None
        self._runner: web.AppRunner | None = None
        self._task: asyncio.Task[None] | None = None
        self._acc1000: dict[str, DepthBatch] = {}
        self._writers: set[asyncio.Task[None]] = set()

    # ---- lifecycle ----------------------------------------------------------------------
    def _build_markets(self) -> None:
        warmups: dict[str, FileHistory | None] = {}
        for path, sym in zip(self.replays, replay_symbols(self.replays, self.symbols),
                             strict=True):
            past, played = split_at(path, load_candles(path), self.replay_from_ms)
            driver = ReplayDriver(played, DEFAULT_SPECS[sym], self.seed)
            self.drivers[sym] = driver
            warmups[sym] = FileHistory(past, DEFAULT_SPECS[sym], driver.start_ms) \
                if len(past) else None
        start = self.clock.now_ms()
        self._start_ms = start
        if self.drivers:
            self._driver = next(iter(self.drivers.values()))
            start = min(d.start_ms for d in self.drivers.values())
            self.clock = SimClock(start, self.speed)  # (at a high speed it has moved already)
        for i, sym in enumerate(self.symbols):
            if (replayed := self.drivers.get(sym)) is not None:
                self.markets[sym] = SymbolMarket(DEFAULT_SPECS[sym], self.seed, i, start, replayed,
                                                 replayed.start_price, warmups[sym])
            else:
                self.markets[sym] = SymbolMarket(DEFAULT_SPECS[sym], self.seed, i, start)

    async def start(self) -> None:
        """Build the markets, bind (port 0 picks a free port) and start the market loop."""
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        self._build_markets()
        self._refresh_replay_status()
        app = web.Application()
        app.add_routes(RestApi(self).routes())
        app.add_routes([
            web.get("/ws", self._ws_handler),
            web.get("/ws/{streams:.*}", self._ws_handler),
            web.get("/stream", self._ws_handler),
            web.get("/stream/{rest:.*}", self._ws_handler),
            web.post("/_sim/fault/{name}", self._fault_handler),
            web.post("/_sim/pause", self._pause_handler),
            web.post("/_sim/resume", self._pause_handler),
        ])
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server) and server.sockets
        self.port = server.sockets[0].getsockname()[1]
        self._task = asyncio.create_task(self._run(), name="sim-market")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.hub.drop_all()
        for task in list(self._writers):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # ---- control ----------------------------------------------------------------------------
    def now_ms(self) -> int:
        return self.clock.now_ms()

    def pause(self) -> None:
        """Freeze the market: no price, book or trade changes until :meth:`resume`."""
        self.paused = True
        self.clock.freeze()

    def resume(self) -> None:
        if self.finished:  # the end of a replay file: nothing left to play
            return
        self.clock.thaw()
        self.paused = False

    # ---- replay control (bar replay in the workstation; see docs/replay.md) --------------------
    def replay_control(self, action: str, factor: float = 1.0) -> ReplayStatus:
        """``pause``, ``resume``, ``step`` (one bar) or ``speed`` (times ``factor``) a replay;
        returns the new status. ValueError when this market is not a replay or the action is
        unknown. Call on the server's loop (``ThreadedSim.call``)."""
        if self._driver is None:
            raise ValueError("the simulated market is not a replay")
        if action == "pause":
            self.pause()
        elif action == "resume":
            self.resume()
        elif action == "step":
            self.step_bar()
        elif action == "speed":
            if not factor > 0:
                raise ValueError(f"speed factor must be positive, got {factor}")
            self.clock.set_speed(self.clock.speed * factor)
        else:
            raise ValueError(f"unknown replay action {action!r}")
        status = self._refresh_replay_status()
        assert status is not None  # a replay (checked above) always has a status
        return status

    def step_bar(self) -> None:
        """Pause (if running), then play up to the next bar boundary of the replayed file:
        exactly that bar's remaining trades print and it closes; the clock stays there."""
        driver = self._driver
        if driver is None or self.finished:
            return
        self.pause()
        now, start, interval = self.clock.now_ms(), driver.start_ms, driver.interval
        target = min(start + ((now - start) // interval + 1) * interval, driver.end_ms)
        self.clock.freeze(target)
        self._step()
        self.finished = target >= driver.end_ms
        self._slow_push()  # the next bar's kline now, not within a second: the bar is closed

    def _end_replay_if_due(self) -> None:
        """At the end of the file: play up to its last bar's close exactly, then stop there."""
        driver = self._driver
        if driver is None or self.paused or self.clock.now_ms() < driver.end_ms:
            return
        self.pause()
        self.clock.freeze(driver.end_ms)
        self._step()
        self.finished = True

    def _refresh_replay_status(self) -> ReplayStatus | None:
        driver = self._driver
        if driver is None:
            return None
        start, interval = driver.start_ms, driver.interval
        bar = start + (self.clock.now_ms() - start) // interval * interval
        status = ReplayStatus(
            paused=self.paused, speed=self.clock.speed,
            position_ms=min(bar, driver.end_ms - interval), finished=self.finished,
        )
        if status != self.replay_status:
            self.replay_status = status
        return status

    def market(self, symbol: str) -> SymbolMarket:
        try:
            return self.markets[symbol.upper()]
        except KeyError:
            raise ValueError(f"unknown symbol {symbol!r}") from None

    # ---- quiet markets: built on first sight, advanced once used ---------------------------
    def listed_market(self, symbol: str) -> SymbolMarket | None:
        """Any listed market, to read (a quiet one is built, still, if it was not yet)."""
        symbol = symbol.upper()
        found = self.markets.get(symbol) or self._dormant.get(symbol)
        if found is None and symbol in self.listed:
            index = 16 + list(QUIET_SPECS).index(symbol)  # its own seed, whoever asks first
            found = SymbolMarket(self.listed[symbol], self.seed, index, self._start_ms,
                                 history_days=QUIET_HISTORY_DAYS)
            self._dormant[symbol] = found
        return found

    def active_market(self, symbol: str) -> SymbolMarket | None:
        """A listed market someone uses (its candles, book, trades, streams): from now on it
        moves with the others (a quiet one catches up on its first step)."""
        symbol = symbol.upper()
        found = self.markets.get(symbol)
        if found is None and (found := self.listed_market(symbol)) is not None:
            self.markets[symbol] = self._dormant.pop(symbol)
        return found

    async def build_listed(self) -> None:
        """Build every quiet market not built yet (~13 ms each), yielding to the market loop
        between them: the first scan of the venue never stalls the streams for long."""
        for symbol in self.listed:
            if symbol not in self.markets and symbol not in self._dormant:
                self.listed_market(symbol)
                await asyncio.sleep(0)

    def all_markets(self) -> list[SymbolMarket]:
        """Every listed market, active first (the all-symbol ticker endpoints)."""
        return [m for s in self.listed if (m := self.listed_market(s)) is not None]

    def _activate_streams(self, conn: Connection) -> None:
        for symbol in conn.symbols() - self.markets.keys():
            self.active_market(symbol)

    def book(self, symbol: str) -> tuple[int, list[tuple[str, str]], list[tuple[str, str]]]:
        """(last update id, bids best first, asks best first), strings as on the wire."""
        m = self.market(symbol)
        spec = m.spec
        bids = [(spec.price_str(p), spec.qty_str(q)) for p, q in m.book.bids.levels()]
        asks = [(spec.price_str(p), spec.qty_str(q)) for p, q in m.book.asks.levels()]
        return m.book.last_update_id, bids, asks

    # ---- market loop ---------------------------------------------------------------------------
    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        next_slow = next_tick + SLOW_PUSH_S
        while True:
            next_tick += TICK_S
            try:
                self._end_replay_if_due()
                if not self.paused:
                    self._step()
                self._refresh_replay_status()
                if loop.time() >= next_slow:
                    next_slow = loop.time() + SLOW_PUSH_S
                    self._slow_push()
            except Exception:  # a bug in one step must not kill the exchange
                log.exception("simulator step failed")
            delay = next_tick - loop.time()
            if delay < 0:
                next_tick = loop.time()
            await asyncio.sleep(max(0.0, delay))

    def _step(self) -> None:
        now = self.now_ms()
        for sym, m in self.markets.items():
            self.publish(sym, m.advance(now), now)

    def publish(self, sym: str, out: StepOutput, now: int) -> None:
        """Send what a market step produced: its trades, the candles it closed, then its book
        changes (one diff event). Also used by the lockstep replay (``sim.lockstep``)."""
        hub = self.hub
        m = self.markets[sym]
        low = sym.lower()
        spec = m.spec
        if out.trades:
            trade_s, agg_s = f"{low}@trade", f"{low}@aggTrade"
            for p in out.trades:
                if hub.wanted(trade_s):
                    hub.publish(trade_s, wire.trade_event(spec, p, now))
                if hub.wanted(agg_s):
                    hub.publish(agg_s, wire.agg_trade_event(spec, p, now))
        for candle in out.closed:
            interval = _interval_name(candle.interval)
            name = f"{low}@kline_{interval}"
            if hub.wanted(name):
                hub.publish(name, wire.kline_event(spec, interval, candle, now, True))
        batch = m.cut_depth()
        if batch is not None:
            if hub.wanted(f"{low}@depth@100ms"):
                hub.publish(f"{low}@depth@100ms", wire.depth_event(spec, batch, now))
            self._accumulate_1000(sym, batch, now)
            if hub.wanted(f"{low}@bookTicker"):
                hub.publish(f"{low}@bookTicker", wire.book_ticker_event(m))

    def _accumulate_1000(self, sym: str, batch: DepthBatch, now: int) -> None:
        acc = self._acc1000.get(sym)
        if acc is not None and batch.first_id != acc.last_id + 1:
            self._flush_1000(sym, now)  # keep a gap visible on the slow stream too
            acc = None
        if acc is None:
            self._acc1000[sym] = DepthBatch(batch.first_id, batch.last_id, dict(batch.bids),
                                            dict(batch.asks))
        else:
            acc.merge(batch)

    def _flush_1000(self, sym: str, now: int) -> None:
        acc = self._acc1000.pop(sym, None)
        if acc is None:
            return
        low = sym.lower()
        event = wire.depth_event(self.markets[sym].spec, acc, now)
        for name in (f"{low}@depth", f"{low}@depth@1000ms"):
            if self.hub.wanted(name):
                self.hub.publish(name, event)

    def _slow_push(self) -> None:
        now = self.now_ms()
        for sym, m in self.markets.items():
            low = sym.lower()
            self._flush_1000(sym, now)
            for interval, ic in m.candles.items():
                name = f"{low}@kline_{interval}"
                if self.hub.wanted(name):
                    self.hub.publish(name, wire.kline_event(m.spec, interval, ic.current, now,
                                                            False))
            if self.hub.wanted(f"{low}@ticker"):
                self.hub.publish(f"{low}@ticker", wire.ticker_event(m, now))

    # ---- websocket ------------------------------------------------------------------------------
    async def _ws_handler(self, request: web.Request) -> web.WebSocketResponse:
        path = request.path
        combined = path == "/stream" or path == "/stream/"
        initial: list[str] = []
        if combined:
            initial = [s for s in request.query.get("streams", "").split("/") if s]
        elif path.startswith("/ws/"):
            initial = [s for s in path[len("/ws/"):].split("/") if s]
        ws = web.WebSocketResponse(heartbeat=WS_HEARTBEAT_S, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = Connection(ws, combined)
        self.hub.conns.add(conn)
        for raw in initial:
            stream = parse_stream(raw, self.hub.symbols)
            if stream is not None:
                self.hub.subscribe(conn, stream)
        self._activate_streams(conn)
        writer = asyncio.create_task(conn.writer())
        self._writers.add(writer)
        writer.add_done_callback(self._writers.discard)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    answer = self.hub.handle_control(conn, msg.data)
                    self._activate_streams(conn)
                    if answer is not None:
                        conn.push(_dumps(answer))
                elif msg.type == WSMsgType.ERROR:
                    break
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.hub.forget(conn)
            writer.cancel()
        return ws

    # ---- http controls ---------------------------------------------------------------------------
    async def _fault_handler(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        q = request.query
        symbol = q.get("symbol")
        try:
            if name == "drop_all_sockets":
                self.faults.drop_all_sockets()
            elif name == "skip_depth_update":
                self.faults.skip_depth_update(symbol or self.symbols[0])
            elif name == "send_malformed":
                self.faults.send_malformed(symbol)
            elif name == "stall":
                self.faults.stall(float(q.get("seconds", "5")), symbol)
            else:
                return web.json_response({"ok": False, "error": f"unknown fault {name!r}"},
                                         status=404)
        except ValueError as e:
            return web.json_response({"ok": False, "error": str(e)}, status=400)
        return web.json_response({"ok": True, "fault": name})

    async def _pause_handler(self, request: web.Request) -> web.Response:
        if request.path.endswith("pause"):
            self.pause()
        else:
            self.resume()
        return web.json_response({"ok": True, "paused": self.paused})


def _interval_name(ms: int) -> str:
    for name, value in INTERVAL_MS.items():
        if value == ms:
            return name
    raise ValueError(ms)


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))
