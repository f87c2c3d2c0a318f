"""Bar replay controls through the real engine: its own simulator (own thread, real loopback
sockets, unmodified ccxt) replaying a generated candle file; commands pause, step and change the
speed of the simulator's clock, and the snapshot shows where the replay is."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path

import polars as pl
import pytest

from tradeterm.config import Settings
from tradeterm.core.commands import ReplayControl
from tradeterm.core.events import CommandIgnored, ReplayFinished
from tradeterm.core.models import EnginePhase, FeedStatus
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.sim import SimServer
from tradeterm.ui.app import TradetermApp

from test_engine_harness import Running, running_engine, until
from ui.ui_helpers import screen_text, wait_for

pytestmark = pytest.mark.integration

BAR_MS = 60_000


def write_replay(tmp_path: Path, bars: int) -> tuple[Path, pl.DataFrame]:
    path = tmp_path / "BTCUSDT_1m.parquet"
    df = synthetic_candles(bars, seed=5, start_price=60_000.0).rename(
        {"open_time": "timestamp_ms"})
    df.write_parquet(path)
    return path, df


def replay_settings(tmp_path: Path, replay: Path, speed: float) -> Settings:
    return Settings(
        demo=True, data_dir=tmp_path, symbols=["BTC/USDT"],
        sim={"replay": replay, "speed": speed},
        strategies={"enabled": []},
        feed={"history_bars": 60, "stale_after_s": 2.0},
    )


def replay_engine(settings: Settings) -> contextlib.AbstractAsyncContextManager[Running]:
    """The engine starting its own simulator (demo mode) on the replay file."""
    return running_engine(None, settings)


def replay(run: Running):
    return run.engine.snapshot().replay


async def until_live(run: Running) -> None:
    await until(
        lambda: (s := run.engine.snapshot()).phase is EnginePhase.RUNNING
        and s.replay is not None and s.market.trades and len(s.market.candles) >= 2,
        "the replay playing on screen",
    )


async def pause_and_settle(run: Running) -> None:
    run.engine.submit(ReplayControl("pause"))
    await until(lambda: replay(run) is not None and replay(run).paused, "paused")
    await asyncio.sleep(1.0)  # frames already on the wire arrive


def candle_at(run: Running, open_time: int):
    return next((c for c in run.engine.snapshot().market.candles if c.open_time == open_time),
                None)


def file_row(df: pl.DataFrame, open_time: int) -> dict:
    return df.filter(pl.col("timestamp_ms") == open_time).row(0, named=True)


async def test_pause_stops_trades_and_candles_and_resume_restarts_them(tmp_path: Path):
    path, _ = write_replay(tmp_path, 3000)
    async with replay_engine(replay_settings(tmp_path, path, speed=60)) as run:
        await until_live(run)
        status = replay(run)
        assert status.speed == 60 and not status.paused and not status.finished
        await pause_and_settle(run)
        before = run.engine.snapshot()
        position = before.replay.position_ms
        await asyncio.sleep(3.0)  # longer than the stale period: a pause is not a lost feed
        after = run.engine.snapshot()
        assert after.market.trades[-1] == before.market.trades[-1]
        assert after.market.candles == before.market.candles
        assert after.replay.position_ms == position
        assert all(h.status is FeedStatus.CONNECTED for h in after.streams)

        run.engine.submit(ReplayControl("resume"))
        await until(lambda: not replay(run).paused, "resumed")
        await until(lambda: run.engine.snapshot().market.trades[-1] != after.market.trades[-1],
                    "new trades after resume")
        await until(lambda: replay(run).position_ms > position, "the clock moving again")


async def test_step_plays_exactly_one_bar_of_the_file(tmp_path: Path):
    path, df = write_replay(tmp_path, 3000)
    async with replay_engine(replay_settings(tmp_path, path, speed=60)) as run:
        await until_live(run)
        await pause_and_settle(run)
        position = replay(run).position_ms
        boundary = position + BAR_MS  # the first step finishes the bar the pause was in

        run.engine.submit(ReplayControl("step"))
        await until(lambda: replay(run).position_ms == boundary, "the first step")
        run.engine.submit(ReplayControl("step"))
        await until(lambda: replay(run).position_ms == boundary + BAR_MS, "the second step")
        # a step plays to the next bar, then pauses again (the clock shows the bar before the
        # pause lands): the replay ends the step paused
        await until(lambda: replay(run).paused, "paused again after the step")
        # The stepped bar closed with the file's OHLC (the next bar's open time has arrived).
        await until(lambda: candle_at(run, boundary + BAR_MS) is not None, "the next bar")
        await asyncio.sleep(1.0)
        bar, row = candle_at(run, boundary), file_row(df, boundary)
        assert (bar.open, bar.high, bar.low, bar.close) == pytest.approx(
            (row["open"], row["high"], row["low"], row["close"]), abs=0.011)
        # ... and nothing after it was played.
        snap = run.engine.snapshot()
        assert max(c.open_time for c in snap.market.candles) == boundary + BAR_MS
        assert all(t.timestamp < boundary + BAR_MS for t in snap.market.trades)
        assert candle_at(run, boundary + BAR_MS).volume == 0


async def test_speed_doubles_and_halves_within_bounds(tmp_path: Path):
    path, _ = write_replay(tmp_path, 3000)
    async with replay_engine(replay_settings(tmp_path, path, speed=60)) as run:
        await until_live(run)
        run.engine.submit(ReplayControl("speed", 2.0))
        await until(lambda: replay(run).speed == 120, "twice the speed")
        start = replay(run).position_ms
        await until(lambda: replay(run).position_ms >= start + 2 * BAR_MS, "playing at 120x")
        run.engine.submit(ReplayControl("speed", 0.5))
        run.engine.submit(ReplayControl("speed", 0.5))
        await until(lambda: replay(run).speed == 30, "a quarter of that")
        run.engine.submit(ReplayControl("speed", 1e6))
        await until(lambda: replay(run).speed == 1000, "the upper bound")
        run.engine.submit(ReplayControl("speed", -1))
        await until(lambda: run.of(CommandIgnored), "a bad factor refused")
        assert replay(run).speed == 1000


async def test_end_of_file_finishes_the_replay_once(tmp_path: Path):
    path, df = write_replay(tmp_path, 40)
    async with replay_engine(replay_settings(tmp_path, path, speed=600)) as run:
        await until(lambda: replay(run) is not None and replay(run).finished, "the end")
        status = replay(run)
        assert status.paused and status.position_ms == int(df["timestamp_ms"][-1])
        await until(lambda: run.of(ReplayFinished), "the finished event")
        run.engine.submit(ReplayControl("resume"))
        run.engine.submit(ReplayControl("step"))
        await asyncio.sleep(0.5)
        assert replay(run) == status  # nothing left to play
        assert [e.file for e in run.of(ReplayFinished)] == ["BTCUSDT_1m.parquet"]


async def test_replay_controls_without_a_replay_are_ignored_with_a_reason(sim: SimServer):
    async with running_engine(sim.base_url) as run:
        await until(lambda: run.engine.snapshot().phase is EnginePhase.RUNNING, "running")
        assert run.engine.snapshot().replay is None
        run.engine.submit(ReplayControl("pause"))
        ignored = await until(lambda: run.of(CommandIgnored), "the refusal")
        assert "no bar replay" in ignored[0].reason
        assert not sim.paused


def status_line(app: TradetermApp) -> str:
    return screen_text(app).splitlines()[0]


async def test_workstation_keys_pause_step_and_speed_up_the_replay(tmp_path: Path):
    path, _ = write_replay(tmp_path, 3000)
    app = TradetermApp(replay_settings(tmp_path, path, speed=60))

    def status():
        return app.engine.snapshot().replay if app.engine is not None else None

    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: status() is not None
                       and app.engine.snapshot().phase is EnginePhase.RUNNING, timeout=30)
        await pilot.press("p")
        await wait_for(pilot, lambda: status().paused)
        position = status().position_ms
        await pilot.press("n")
        await wait_for(pilot, lambda: status().position_ms == position + BAR_MS)
        await pilot.press("n")
        await wait_for(pilot, lambda: status().position_ms == position + 2 * BAR_MS)
        await wait_for(pilot, lambda: status().paused)  # each step ends paused again
        await pilot.press("greater_than_sign")
        await wait_for(pilot, lambda: status().speed == 120)
        await wait_for(pilot, lambda: re.search(r"REPLAY\s+120x", status_line(app)))
        await pilot.press("less_than_sign")
        await pilot.press("less_than_sign")
        await wait_for(pilot, lambda: status().speed == 30)
        await pilot.press("p")
        await wait_for(pilot, lambda: not status().paused)
        await wait_for(pilot, lambda: status().position_ms > position + 2 * BAR_MS)
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=10)


def test_replay_flag_implies_the_demo_market(tmp_path: Path):
    from tradeterm.cli import _parser, settings_from_args

    path, _ = write_replay(tmp_path, 10)
    config = tmp_path / "config.toml"
    config.write_text("")  # not the repository's config.toml
    args = _parser().parse_args(["--config", str(config), "--replay", str(path), "--speed", "30"])
    settings = settings_from_args(args)
    assert settings.demo and settings.sim.replay == path and settings.sim.speed == 30
