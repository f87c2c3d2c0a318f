"""Scheduled retraining inside a real Engine on the simulator (replaying generated 1m candles at
600x over real sockets and unmodified ccxt): the engine fetches the newest candles, trains in a
child process while it keeps processing bars, a new model version appears and the running
ml_signal strategy (named and configured from ``[strategies.params]``) switches to it; a child
that crashes or runs over its time limit is reported and the old version stays in use."""

from __future__ import annotations

import logging
import os
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("lightgbm")

from tradeterm.config import MlSettings, StrategySettings  # noqa: E402
from tradeterm.core.events import ModelRetrained, ModelRetrainStarted, SignalEmitted  # noqa: E402
from tradeterm.core.models import StrategyState  # noqa: E402
from tradeterm.indicators.frame import DEFAULT_START_MS, synthetic_candles  # noqa: E402
from tradeterm.ml.store import read_manifest, version_of  # noqa: E402
from tradeterm.sim import SimServer  # noqa: E402

from test_engine_harness import Running, running_engine, settings, until  # noqa: E402

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
USER_FILE = '''
from ml_signal import MlSignal


class MlTiny(MlSignal):
    name = "ml_tiny"
    timeframe = "1m"
'''


@pytest.fixture
async def history_sim(tmp_path):
    """4,200 bars of history before the replay starts at 01:00 UTC, then 3,800 bars at 600x
    (0.1 s a bar). The first bar opens at 03:00, so a retrain window of 3,000 bars starts
    shortly before a midnight (the session VWAP features are known from there), and the
    engine's 1,000-bar window holds the replay day's session start until 16:40 (ml.md)."""
    candles = synthetic_candles(8000, seed=5, start_ms=DEFAULT_START_MS - 21 * 3_600_000)
    replay = tmp_path / "BTCUSDT_1m.parquet"
    candles.rename({"open_time": "timestamp_ms"}).write_parquet(replay)
    server = SimServer(seed=7, replay=replay, speed=600,
                       replay_from_ms=int(candles["open_time"][4200]))
    await server.start()
    try:
        yield server, candles
    finally:
        await server.stop()


def setup(tmp_path: Path, candles, **ml) -> tuple:
    import sys as _sys

    _sys.path.insert(0, str(ROOT / "tests" / "unit" / "ml"))
    from test_ml_retrain import save_tiny

    data = tmp_path / "data"
    first = save_tiny(data / "models", candles.slice(1200, 2500))  # from 23:00
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "ml_signal.py").write_text((ROOT / "strategies" / "ml_signal.py").read_text())
    (folder / "ml_tiny.py").write_text(USER_FILE)
    # the strategy's 1m candles are the chart's stream: ask REST for a day of them at once, so the
    # window holds the replay day's session start (the VWAP features need it, docs/ml.md)
    config = settings(history_bars=1000)
    config.data_dir = data
    config.strategies = StrategySettings(
        dir=folder, enabled=["ml_tiny"], lookahead_cuts=2,
        params={"ml_tiny": {"model": "tiny", "models_dir": str(data / "models"),
                            "min_confidence": 0.34, "explain": False}},
    )
    config.ml = MlSettings(**{"retrain_every_hours": 0.001, "retrain_models": ["tiny"],
                              "retrain_window_bars": 4100, "retrain_floor": "none", **ml})
    return config, first, data / "models"


def newest_bar(run: Running) -> int:
    candles = run.engine.state.snapshot("BTC/USDT", "1m").candles
    return candles[-1].open_time if candles else 0


def watch_bars(run: Running) -> dict[str, int]:
    """The newest 1m bar the engine had when each retrain event arrived."""
    at: dict[str, int] = {}

    def seen(event: object) -> None:
        if isinstance(event, ModelRetrainStarted):
            at["started"] = newest_bar(run)
        elif isinstance(event, ModelRetrained):
            at["finished"] = newest_bar(run)

    run.engine.add_listener(seen)
    return at


async def test_a_scheduled_retrain_swaps_the_model_while_the_engine_trades_on(
        history_sim, tmp_path, caplog):
    sim, candles = history_sim
    caplog.set_level(logging.INFO)
    config, first, models = setup(tmp_path, candles)
    async with running_engine(sim.base_url, config) as run:
        at = watch_bars(run)
        await until(lambda: any(h.name == "ml_tiny" and h.state is StrategyState.ENABLED
                                for h in run.engine.snapshot().strategies),
                    "ml_tiny passes the guard with the configured model", timeout=120)
        [done] = await until(lambda: run.of(ModelRetrained), "the retrain ends", timeout=180)
        assert done.ok, done.detail
        [started] = run.of(ModelRetrainStarted)
        assert started.model == "tiny" and started.version == version_of(first)
        assert started.bars == 4100  # the newest closed bars, fetched through the engine
        current = read_manifest(models, "tiny").manifest
        assert done.version == version_of(current) != version_of(first) == done.previous
        assert current["data"]["bars"] == 4100
        # the engine went on processing bars while the child trained
        assert at["finished"] > at["started"] > 0
        # the running strategy switches to the new version at its next evaluation
        switched = f"model tiny: now using version {done.version} (was {version_of(first)})"
        await until(lambda: switched in caplog.text, "the strategy picks up the new version",
                    timeout=60)
        # and the signals panel's line for it (every close, signal or not) says so
        def note() -> str:
            health = {h.name: h for h in run.engine.snapshot().strategies}["ml_tiny"]
            assert health.state is StrategyState.ENABLED, health.last_error
            return health.note or ""

        await until(lambda: f"@{done.version} " in note(), "the new version's status")
        assert re.fullmatch(rf"↓\d+% →\d+% ↑\d+% @{done.version} BTC/USDT", note())
        # signals after the switch name the version they came from
        after = [e.signal for e in run.of(SignalEmitted) if e.timestamp > done.timestamp]
        assert all(f"@{done.version}" in (s.reasons[0] if s.reasons else "") for s in after[1:])


CRASH = [sys.executable, "-c", "import os; print('about to crash', flush=True); os.abort()"]
HANG = [sys.executable, "-c", "import time; time.sleep(600)"]


@pytest.mark.parametrize(("argv", "ml", "expected"), [
    (CRASH, {}, "the training process died: signal 6 (about to crash)"),
    (HANG, {"retrain_timeout_s": 1.0}, "timed out after 1 s (killed)"),
], ids=["crash", "hang"])
async def test_a_retrain_that_crashes_or_hangs_is_reported_and_the_old_model_stays(
        history_sim, tmp_path, argv, ml, expected):
    sim, candles = history_sim
    config, first, models = setup(tmp_path, candles, **ml)
    async with running_engine(sim.base_url, config) as run:
        assert run.engine.retrainer is not None
        run.engine.retrainer.argv = argv
        at = watch_bars(run)
        await until(lambda: run.engine.retrainer.pid is not None or run.of(ModelRetrained),
                    "the retrain child starts", timeout=120)
        child = run.engine.retrainer.pid
        [done] = await until(lambda: run.of(ModelRetrained), "the retrain ends", timeout=120)
        assert not done.ok
        assert done.detail == f"{expected}; version {version_of(first)} stays in use"
        assert read_manifest(models, "tiny").manifest["sha256"] == first["sha256"]
        if child is not None:
            with pytest.raises(ProcessLookupError):  # killed and reaped: nothing left behind
                os.kill(child, 0)
        seen = newest_bar(run)
        await until(lambda: newest_bar(run) > seen, "the engine keeps processing bars")
        assert at["finished"] >= at["started"] > 0
        await until(lambda: any(h.name == "ml_tiny" and h.state is StrategyState.ENABLED
                                for h in run.engine.snapshot().strategies),
                    "the strategy runs on with the old version", timeout=120)


async def test_an_engine_that_stops_mid_retrain_leaves_no_training_process(history_sim, tmp_path):
    sim, candles = history_sim
    config, first, models = setup(tmp_path, candles, retrain_timeout_s=600.0)
    async with running_engine(sim.base_url, config) as run:
        assert run.engine.retrainer is not None
        run.engine.retrainer.argv = HANG
        child = await until(lambda: run.engine.retrainer.pid, "the retrain child starts",
                            timeout=120)
        os.kill(child, 0)  # running
    with pytest.raises(ProcessLookupError):  # the engine stopped: killed and reaped with it
        os.kill(child, 0)
    assert read_manifest(models, "tiny").manifest["sha256"] == first["sha256"]
