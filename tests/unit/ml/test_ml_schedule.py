"""The engine's retrain scheduler (``ml/schedule.py``) without an engine: without the ml extra a
configured retrain is one clear line and nothing runs; a model is due a period after it was
trained; a fetch that fails is reported with the model kept."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time
from pathlib import Path

import polars as pl

from tradeterm.config import MlSettings
from tradeterm.core.events import Event, ModelRetrained
from tradeterm.ml.schedule import Retrainer

SETTINGS = MlSettings(retrain_every_hours=24, retrain_models=["btc5", "eth5"])


def manifest(root: Path, name: str, trained_s: float) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "manifest.json").write_text(json.dumps(
        {"trained_at_ms": int(trained_s * 1000), "symbol": "BTC/USDT", "timeframe": "5m",
         "sha256": "ab" * 32}))


async def no_fetch(symbol: str, timeframe: str, bars: int) -> pl.DataFrame:
    raise AssertionError("nothing may be fetched")


async def test_without_the_ml_extra_a_configured_retrain_is_one_line_and_nothing_runs(
        tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "lightgbm" else real(name, *a))
    events: list[Event] = []
    retrainer = Retrainer(SETTINGS, tmp_path, no_fetch, events.append, lambda: 5)
    await asyncio.wait_for(retrainer.run(), 5)  # returns: nothing is scheduled
    assert [e.model for e in events if isinstance(e, ModelRetrained)] == ["btc5", "eth5"]
    [detail] = {e.detail for e in events if isinstance(e, ModelRetrained)}
    assert detail == ("retraining needs the ml extra (lightgbm missing): install it with "
                      "`uv sync --extra ml` (or pip install 'tradeterm[ml]'); no model is "
                      "retrained")
    assert not any(e.ok for e in events if isinstance(e, ModelRetrained))


def test_a_model_is_due_a_period_after_it_was_trained(tmp_path):
    now = time.time()
    manifest(tmp_path, "btc5", now - 3600)
    retrainer = Retrainer(SETTINGS, tmp_path, no_fetch, lambda e: None, lambda: 5)
    assert abs(retrainer._first_due("btc5") - (now - 3600 + 24 * 3600)) < 1
    assert retrainer._first_due("missing") <= time.time()  # unreadable: at once, it says why


async def test_a_failed_fetch_is_reported_and_the_model_kept(tmp_path):
    manifest(tmp_path, "btc5", time.time())
    events: list[Event] = []

    async def offline(symbol: str, timeframe: str, bars: int) -> pl.DataFrame:
        raise RuntimeError("not connected to binance")

    retrainer = Retrainer(SETTINGS, tmp_path, offline, events.append, lambda: 5)
    assert await retrainer.retrain("btc5") is False
    [done] = events
    assert isinstance(done, ModelRetrained) and not done.ok
    assert done.detail == ("cannot fetch BTC/USDT 5m candles: not connected to binance; "
                           "version abababab stays in use")


def test_retrain_config_errors_are_one_line_naming_the_key(tmp_path):
    import pytest

    from tradeterm.config import ConfigError, load_settings

    path = tmp_path / "config.toml"
    cases = {
        "[ml]\nretrain_every_hours = 24\n": "key 'ml.retrain_models' has value []: "
        "retrain_every_hours is set but no model is named; e.g. retrain_models = [\"btc5\"] "
        "(see tradeterm ml list)",
        '[ml]\nretrain_every_hours = 24\nretrain_models = ["../x"]\n':
        "key 'ml.retrain_models' has value ['../x']: expected model names as tradeterm ml "
        "list shows them, got '../x'",
        "[ml]\nretrain_every_hours = -1\n": "key 'ml.retrain_every_hours' has value -1: Input "
        "should be greater than or equal to 0",
        '[ml]\nretrain_floor = "best"\n': "key 'ml.retrain_floor' has value 'best': Input "
        "should be 'majority' or 'none'",
        "[ml]\nretrain_evry_hours = 24\n": "unknown key 'ml.retrain_evry_hours'",
    }
    for text, expected in cases.items():
        path.write_text(text)
        with pytest.raises(ConfigError) as err:
            load_settings(path)
        assert str(err.value).startswith(f"invalid configuration: {path}: {expected}"), text
        assert "\n" not in str(err.value)
    path.write_text('[ml]\nretrain_every_hours = 24\nretrain_models = ["btc5"]\n'
                    "retrain_window_bars = 20000\n")
    ml = load_settings(path).ml
    assert (ml.retrain_every_hours, ml.retrain_models, ml.retrain_window_bars) == (24, ["btc5"],
                                                                                   20000)


def test_retrain_events_and_a_strategy_status_reach_attached_screens_through_the_codec():
    import msgspec

    from tradeterm.core.events import ModelRetrainStarted
    from tradeterm.core.models import StrategyHealth, StrategyState
    from tradeterm.wire.codec import convert, event_frame, event_of, to_plain

    for event in (ModelRetrainStarted(5, model="btc5", bars=20000, version="5c15e05a"),
                  ModelRetrained(6, model="btc5", ok=True, version="3f2a9c1b",
                                 previous="5c15e05a", detail="20000 bars")):
        wire = msgspec.msgpack.decode(msgspec.msgpack.encode(event_frame(event)))
        frame = msgspec.convert(wire, type(event_frame(event)))
        assert event_of(frame) == event
    health = StrategyHealth("ml_btc", StrategyState.ENABLED,
                            note="↓21% →55% ↑24% @3f2a9c1b BTC/USDT")
    plain = msgspec.msgpack.decode(msgspec.msgpack.encode(to_plain(health)))
    assert convert(plain, StrategyHealth, "health") == health
