"""The replay sandbox's parts: the paced lockstep market (with a recording gate standing in for
the engine), warm-up history for ``--from``, the coarse path of long bars, the replay journal's
name and how a second run keeps the first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tradeterm.config import Settings, replay_journal
from tradeterm.desk import keep_previous_replay, previous_replay
from tradeterm.sim import SimServer
from tradeterm.sim.paced import PacedReplay, coarse_path
from tradeterm.sim.replay import ReplayFileError, split_at, tick_path, waypoints
from tradeterm.sim.spec import DEFAULT_SPECS
from tradeterm.sim.warmup import FileHistory

START = 1_704_067_200_000  # 2024-01-01 00:00 UTC
MINUTE = 60_000


def frame(bars: int, base: float = 100.0, seed: int = 1, start: int = START) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    close = base + np.cumsum(rng.integers(-3, 4, bars)) * 0.01
    open_ = np.concatenate(([base], close[:-1]))
    return pl.DataFrame({
        "timestamp_ms": start + np.arange(bars) * MINUTE,
        "open": np.round(open_, 2), "high": np.round(np.maximum(open_, close) + 0.02, 2),
        "low": np.round(np.minimum(open_, close) - 0.01, 2), "close": np.round(close, 2),
        "volume": np.full(bars, 50_000.0),
    })


class RecordingGate:
    """The engine's side, recorded: ready at once, flat (no print to confirm)."""

    def __init__(self, trading: bool = False) -> None:
        self.bars: list[list[tuple[str, str, int]]] = []
        self.books: list[tuple[str, float, float]] = []
        self.trades: list[tuple[str, int]] = []
        self._trading = trading

    async def ready(self) -> set[str]:
        return set()

    def trading(self, market_id: str) -> bool:
        return self._trading

    async def book(self, market_id: str, bid: float, ask: float) -> None:
        self.books.append((market_id, bid, ask))

    async def trade(self, market_id: str, trade_id: int) -> None:
        self.trades.append((market_id, trade_id))

    async def bar(self, closed: list[tuple[str, str, int]]) -> None:
        self.bars.append(closed)


def ohlc(candle: object) -> tuple[int, int, int, int]:
    return (candle.o, candle.h, candle.l, candle.c)  # type: ignore[attr-defined]


# -- the paced market -------------------------------------------------------------------------------


async def test_paced_replay_plays_several_files_on_one_clock_and_reproduces_their_candles(
    tmp_path: Path,
) -> None:
    btc, eth = frame(30, 100.0, 1), frame(20, 50.0, 2, start=START + 10 * MINUTE)
    btc.write_parquet(tmp_path / "BTCUSDT_1m.parquet")
    eth.write_parquet(tmp_path / "ETHUSDT_1m.parquet")
    server = SimServer(replay=[tmp_path / "BTCUSDT_1m.parquet", tmp_path / "ETHUSDT_1m.parquet"])
    await server.start()
    try:
        # every print's time, in the order published: the one clock never goes back
        stamps: list[int] = []
        publish = server.publish
        server.publish = lambda sym, out, now: (stamps.append(now), publish(sym, out, now))[1]  # type: ignore[method-assign]
        replay = PacedReplay(server, RecordingGate(), speed=1e9)
        await asyncio.wait_for(replay.run(), 30)
    finally:
        await server.stop()
    assert replay.status.finished and replay.status.paused
    assert replay.status.position_ms == START + 29 * MINUTE
    assert stamps == sorted(stamps) and stamps[0] == START
    for sym, df in (("BTCUSDT", btc), ("ETHUSDT", eth)):
        spec = DEFAULT_SPECS[sym]
        closed = server.markets[sym].candles["1m"].closed
        expected = [tuple(spec.to_ticks(x) for x in row)
                    for row in df.select("open", "high", "low", "close").iter_rows()]
        got = [ohlc(c) for c in closed if c.t >= int(df["timestamp_ms"][0])]
        assert got == expected[:-1]  # the last bar plays but never closes
        assert ohlc(server.markets[sym].candles["1m"].current) == expected[-1]


async def test_paced_replay_waits_for_the_engine_at_each_bar_and_on_each_print_it_trades(
    tmp_path: Path,
) -> None:
    frame(5).write_parquet(tmp_path / "BTCUSDT_1m.parquet")
    server = SimServer(replay=tmp_path / "BTCUSDT_1m.parquet")
    await server.start()
    try:
        server.hub.wanted = lambda name: True  # type: ignore[method-assign]  # an engine watching
        gate = RecordingGate(trading=True)
        await asyncio.wait_for(PacedReplay(server, gate, speed=1e9).run(), 30)
    finally:
        await server.stop()
    # each bar closes once, on the next bar's open (and the 3m bar at 00:03)
    minutes = [c for closed in gate.bars for c in closed if c[1] == "1m"]
    assert minutes == [("BTCUSDT", "1m", START + k * MINUTE) for k in range(1, 5)]
    assert ("BTCUSDT", "3m", START + 3 * MINUTE) in gate.bars[2]
    prints = [p for p in server.markets["BTCUSDT"].tape]
    assert [t for _, t in gate.trades] == [p.id for p in prints]  # every print confirmed
    assert gate.books[0] == ("BTCUSDT", 99.99, 100.01)  # the first open, +- one tick


async def test_controls_pause_step_and_speed_within_the_start_speeds_bounds(
    tmp_path: Path,
) -> None:
    frame(10).write_parquet(tmp_path / "BTCUSDT_1m.parquet")
    server = SimServer(replay=tmp_path / "BTCUSDT_1m.parquet")
    await server.start()
    try:
        replay = PacedReplay(server, RecordingGate(), speed=5_000.0)
        assert replay.control("pause").paused
        task = asyncio.create_task(replay.run())
        await asyncio.sleep(0.2)
        assert replay.status.position_ms == START  # paused before its first bar
        replay.control("step")
        for _ in range(200):
            await asyncio.sleep(0.01)
            if replay.status.paused and replay.status.position_ms == START + MINUTE:
                break
        assert replay.status.paused and replay.status.position_ms == START + MINUTE
        await asyncio.sleep(0.1)
        assert replay.status.position_ms == START + MINUTE  # it stays there
        assert replay.control("speed", 10.0).speed == 5_000.0  # the start speed bounds it
        assert replay.control("speed", 1e-6).speed == 0.25
        with pytest.raises(ValueError):
            replay.control("speed", 0)
        with pytest.raises(ValueError):
            replay.control("rewind")
        replay.control("speed", 1e9)
        replay.control("resume")
        await asyncio.wait_for(task, 30)
        assert replay.status.finished
    finally:
        await server.stop()


# -- --from: split and warm-up history ----------------------------------------------------------------


def test_split_at_a_date_inside_the_file_and_refuses_one_outside(tmp_path: Path) -> None:
    df = frame(100)
    past, played = split_at(tmp_path / "f.parquet", df, START + 40 * MINUTE + 1)
    assert len(past) == 41 and int(played["timestamp_ms"][0]) == START + 41 * MINUTE
    assert split_at(tmp_path / "f.parquet", df, None)[1] is df
    for outside in (START - 1, START + 100 * MINUTE):
        with pytest.raises(ReplayFileError, match=r"f\.parquet: --from .* is outside the file "
                           r"\(bars from 2024-01-01 00:00 to 2024-01-01 01:39 UTC\)"):
            split_at(tmp_path / "f.parquet", df, outside)


def test_file_history_serves_the_bars_before_the_boundary_at_any_interval() -> None:
    df = frame(100)
    spec = DEFAULT_SPECS["BTCUSDT"]
    boundary = START + 62 * MINUTE
    history = FileHistory(df.head(62), spec, boundary)
    minutes = history.bars(MINUTE, START, boundary)
    assert len(minutes) == 62 and int(minutes.t[-1]) == boundary - MINUTE
    assert int(minutes.c[10]) == spec.to_ticks(float(df["close"][10]))
    fives = history.bars(5 * MINUTE, START, boundary)
    assert len(fives) == 12  # 00:00 .. 00:55; the 01:00 bar is still open at the boundary
    assert int(fives.h[0]) == max(spec.to_ticks(x) for x in df["high"].head(5))
    partial = history.partial(5 * MINUTE)  # 01:00 and 01:01 inside the live 5m bar
    assert len(partial) == 1 and int(partial.o[0]) == spec.to_ticks(float(df["open"][60]))


async def test_from_serves_warm_up_klines_and_starts_the_market_at_that_bar(tmp_path: Path):
    frame(200).write_parquet(tmp_path / "BTCUSDT_1m.parquet")
    server = SimServer(replay=tmp_path / "BTCUSDT_1m.parquet", speed=1e9,
                       replay_from_ms=START + 150 * MINUTE)
    await server.start()
    try:
        market = server.markets["BTCUSDT"]
        bars = market.klines("1m", None, None, 60)
        assert int(bars.t[-1]) == START + 150 * MINUTE  # the live (first replayed) bar
        assert int(bars.t[0]) == START + 91 * MINUTE and len(bars) == 60
    finally:
        await server.stop()


# -- coarse paths -------------------------------------------------------------------------------------


def test_a_short_bar_prints_every_tick_a_long_one_an_even_walk_through_its_waypoints() -> None:
    assert coarse_path(100, 105, 98, 103, 240) == tick_path(100, 105, 98, 103)
    long = coarse_path(10_000, 12_000, 9_000, 11_000, 240)
    assert len(long) <= 243 and long[0] == 10_000 and long[-1] == 11_000
    points = waypoints(10_000, 12_000, 9_000, 11_000)
    at = [long.index(p) for p in points]
    assert at == sorted(at)  # every waypoint printed, in order
    assert max(long) == 12_000 and min(long) == 9_000


# -- the replay journal ------------------------------------------------------------------------------


def test_a_replay_journals_beside_its_files_never_in_the_paper_journal(tmp_path: Path) -> None:
    a, b = tmp_path / "x" / "BTCUSDT_1m.parquet", tmp_path / "ETHUSDT_1m.parquet"
    paper = Settings(data_dir=tmp_path, journal_path=tmp_path / "mine.sqlite")
    assert paper.journal_file == tmp_path / "mine.sqlite" and not paper.replaying
    one = Settings(data_dir=tmp_path, journal_path=tmp_path / "mine.sqlite", demo=True,
                   sim={"replay": a})
    assert one.replaying and one.journal_file == tmp_path / "x" / "BTCUSDT_1m.replay.sqlite"
    two = Settings(data_dir=tmp_path, demo=True, sim={"replay": [a, b]})
    assert two.journal_file == tmp_path / "x" / "BTCUSDT_1m+ETHUSDT_1m.replay.sqlite"
    assert replay_journal([b]) == tmp_path / "ETHUSDT_1m.replay.sqlite"
    not_demo = Settings(data_dir=tmp_path, sim={"replay": a})  # a replay is the demo market
    assert not not_demo.replaying and not_demo.journal_file == tmp_path / "journal.sqlite"
    dated = Settings(data_dir=tmp_path, demo=True, sim={"replay": a, "replay_from": "2024-03-01"})
    assert dated.sim.replay_from_ms == int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1000)


def test_a_read_only_folder_of_data_puts_the_replay_journal_in_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    import tradeterm.config as config

    # a read-only archive (faked: the tests may run as root, whom no mode stops)
    monkeypatch.setattr(config.os, "access", lambda path, mode: Path(path) != shared)
    assert replay_journal([shared / "BTCUSDT_1m.parquet"], tmp_path / "data") == \
        tmp_path / "data" / "replays" / "BTCUSDT_1m.replay.sqlite"
    assert replay_journal([tmp_path / "BTCUSDT_1m.parquet"], tmp_path / "data") == \
        tmp_path / "BTCUSDT_1m.replay.sqlite"


def test_a_second_run_keeps_the_previous_one_and_starts_afresh(tmp_path: Path) -> None:
    journal = tmp_path / "BTCUSDT_1m.replay.sqlite"
    keep_previous_replay(journal)  # nothing yet: nothing to keep
    assert not list(tmp_path.iterdir())
    journal.write_bytes(b"first run")
    (tmp_path / "BTCUSDT_1m.replay.sqlite-wal").write_bytes(b"first wal")
    keep_previous_replay(journal)
    previous = previous_replay(journal)
    assert previous == tmp_path / "BTCUSDT_1m.replay.prev.sqlite"
    assert not journal.exists() and previous.read_bytes() == b"first run"
    assert (tmp_path / "BTCUSDT_1m.replay.prev.sqlite-wal").read_bytes() == b"first wal"
    journal.write_bytes(b"second run")
    keep_previous_replay(journal)
    assert previous.read_bytes() == b"second run"  # one previous run is kept
    assert not (tmp_path / "BTCUSDT_1m.replay.prev.sqlite-wal").exists()  # not a stale one
