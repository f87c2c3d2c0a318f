"""Replay control without sockets: the clock's speed and freeze, one bar per step, the end."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.sim.clock import MAX_SPEED, MIN_SPEED, SimClock
from tradeterm.sim.server import SimServer
from tradeterm.sim.spec import DEFAULT_SPECS

BTC = DEFAULT_SPECS["BTCUSDT"]


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_speed_change_keeps_the_simulated_time_and_changes_the_rate() -> None:
    mono = FakeMonotonic()
    clock = SimClock(1_000_000, speed=10, monotonic=mono)
    mono.t += 2.0
    assert clock.now_ms() == 1_020_000
    assert clock.set_speed(20) == 20
    assert clock.now_ms() == 1_020_000  # no jump
    mono.t += 1.0
    assert clock.now_ms() == 1_040_000  # twice the rate


def test_speed_is_bounded_but_a_start_speed_outside_the_bounds_is_kept() -> None:
    clock = SimClock(0, speed=1.0, monotonic=FakeMonotonic())
    assert clock.set_speed(1e9) == MAX_SPEED
    assert clock.set_speed(1e-9) == MIN_SPEED
    fast = SimClock(0, speed=5000, monotonic=FakeMonotonic())
    assert fast.set_speed(10_000) == 5000  # `>` never slows it down
    assert fast.set_speed(2500) == 2500


def test_a_frozen_clock_stands_still_until_thawed_then_runs_from_there() -> None:
    mono = FakeMonotonic()
    clock = SimClock(0, speed=1, monotonic=mono)
    mono.t += 1
    clock.freeze()
    mono.t += 50
    assert clock.now_ms() == 1_000
    clock.freeze(60_000)  # a step moves a frozen clock forward
    assert clock.now_ms() == 60_000
    clock.set_speed(2)  # applies after the thaw
    clock.thaw()
    mono.t += 1
    assert clock.now_ms() == 62_000


def _replay_server(tmp_path: Path, bars: int) -> tuple[SimServer, pl.DataFrame]:
    path = tmp_path / "BTCUSDT_1m.parquet"
    df = synthetic_candles(bars, seed=3, start_price=60_000.0).rename(
        {"open_time": "timestamp_ms"})
    df.write_parquet(path)
    server = SimServer(seed=1, symbols=("BTCUSDT",), replay=path, speed=1.0)
    server._build_markets()  # the market model only: no sockets needed to step it
    return server, df


def _row_ticks(df: pl.DataFrame, i: int) -> list[int]:
    row = df.row(i, named=True)
    return [BTC.to_ticks(row[k]) for k in ("open", "high", "low", "close")]


def test_step_plays_exactly_one_bar_and_stays_paused(tmp_path: Path) -> None:
    server, df = _replay_server(tmp_path, bars=10)
    start = int(df["timestamp_ms"][0])
    candles = server.markets["BTCUSDT"].candles["1m"]

    status = server.replay_control("step")
    assert status.paused and not status.finished
    assert server.now_ms() == start + 60_000 and status.position_ms == start + 60_000
    assert [c.t for c in candles.closed] == [start]
    first = candles.closed[0]
    assert [first.o, first.h, first.l, first.c] == _row_ticks(df, 0)
    assert candles.current.t == start + 60_000 and candles.current.n == 0  # next bar not begun

    server.replay_control("step")
    assert [c.t for c in candles.closed] == [start, start + 60_000]
    second = candles.closed[1]
    assert [second.o, second.h, second.l, second.c] == _row_ticks(df, 1)
    assert server.paused and server.replay_status.position_ms == start + 120_000


def test_step_from_the_middle_of_a_bar_finishes_that_bar(tmp_path: Path) -> None:
    server, df = _replay_server(tmp_path, bars=10)
    start = int(df["timestamp_ms"][0])
    server.clock.freeze(start + 25_000)
    server._step()  # part of bar 0 printed
    server.replay_control("step")
    closed = server.markets["BTCUSDT"].candles["1m"].closed
    assert [c.t for c in closed] == [start]
    assert [closed[0].o, closed[0].h, closed[0].l, closed[0].c] == _row_ticks(df, 0)


def test_the_end_of_the_file_finishes_and_pauses_the_replay(tmp_path: Path) -> None:
    server, df = _replay_server(tmp_path, bars=3)
    start = int(df["timestamp_ms"][0])
    for _ in range(3):
        status = server.replay_control("step")
    assert status.finished and status.paused
    assert status.position_ms == start + 120_000  # the last bar's open
    closed = server.markets["BTCUSDT"].candles["1m"].closed
    assert [c.t for c in closed] == [start, start + 60_000, start + 120_000]
    server.replay_control("resume")
    server.replay_control("step")
    assert server.paused and server.now_ms() == start + 180_000  # nothing left to play


def test_a_running_replay_reaching_the_end_stops_exactly_there(tmp_path: Path) -> None:
    server, df = _replay_server(tmp_path, bars=3)
    start = int(df["timestamp_ms"][0])
    server.clock.freeze(start + 500_000)  # as if the loop woke up late, past the end
    server.paused = False
    server._end_replay_if_due()
    assert server.finished and server.paused and server.now_ms() == start + 180_000
    assert len(server.markets["BTCUSDT"].candles["1m"].closed) == 3


def test_controls_on_a_synthetic_market_are_refused() -> None:
    server = SimServer(seed=1, symbols=("BTCUSDT",))
    server._build_markets()
    with pytest.raises(ValueError, match="not a replay"):
        server.replay_control("pause")
