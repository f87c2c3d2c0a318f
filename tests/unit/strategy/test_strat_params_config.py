"""``[strategies.params.<name>]``: a strategy's parameters from config.toml, checked by the
strategy's own Params in its real worker process; a bad key or value fails that strategy with
one line naming the file and the key, and the others run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tradeterm.config import ConfigError, load_settings
from tradeterm.core.events import StrategyFailed
from tradeterm.core.models import StrategyState
from tradeterm.strategy.engine import StrategyEngine

SHIPPED = Path(__file__).resolve().parents[3] / "strategies"


def config(tmp_path: Path, params: str) -> Path:
    folder = tmp_path / "strategies"
    folder.mkdir(exist_ok=True)
    shutil.copy(SHIPPED / "ema_cross.py", folder / "ema_cross.py")
    path = tmp_path / "config.toml"
    path.write_text(f'[strategies]\ndir = "{folder}"\nenabled = ["ema_cross"]\n'
                    f"lookahead_cuts = 2\n{params}")
    return path


async def loaded(path: Path) -> tuple[StrategyEngine, list[StrategyFailed]]:
    failed: list[StrategyFailed] = []
    settings = load_settings(path)
    engine = StrategyEngine(settings.strategies,
                            lambda e: failed.append(e) if isinstance(e, StrategyFailed) else None,
                            lambda: 1_000, guard_bars=300)
    await engine.load()
    return engine, failed


async def test_configured_params_reach_the_strategy_in_its_worker(tmp_path):
    path = config(tmp_path, "[strategies.params.ema_cross]\nfast = 5\nstop_atr = 2.5\n")
    engine, failed = await loaded(path)
    try:
        [health] = engine.health()
        assert health.state is StrategyState.ENABLED and not failed
        meta = engine.strategy("ema_cross")
        assert meta is not None
        assert meta.params["fast"] == 5 and meta.params["stop_atr"] == 2.5
        assert meta.params["slow"] == 21  # unset: its default
    finally:
        await engine.close()


@pytest.mark.parametrize(("table", "expected"), [
    ("fast = 500", "key 'strategies.params.ema_cross.fast' has value 500: Input should be less "
                   "than or equal to 50"),
    ("fats = 5", "unknown key 'strategies.params.ema_cross.fats' (not a parameter of "
                 "ema_cross)"),
    ('fast = "nine"', "key 'strategies.params.ema_cross.fast' has value 'nine': Input should be "
                      "a valid integer, unable to parse string as an integer"),
])
async def test_a_bad_configured_param_fails_the_strategy_with_one_line_naming_the_key(
        tmp_path, table, expected):
    path = config(tmp_path, f"[strategies.params.ema_cross]\n{table}\n")
    engine, failed = await loaded(path)
    try:
        [health] = engine.health()
        assert health.state is StrategyState.FAILED
        assert health.last_error == f"{path}: {expected}"
        assert [f.reason for f in failed] == [f"{path}: {expected}"]
    finally:
        await engine.close()


def test_params_must_be_tables_of_a_strategy_name(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[strategies]\nparams = 3\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert str(err.value).startswith(f"invalid configuration: {path}: key 'strategies.params' "
                                     "has value 3:")
    assert "\n" not in str(err.value)


async def test_params_from_the_environment_name_the_variable(tmp_path, monkeypatch):
    path = config(tmp_path, "")
    monkeypatch.setenv("TRADETERM_STRATEGIES__PARAMS", '{"ema_cross": {"fast": 500}}')
    engine, failed = await loaded(path)
    try:
        [health] = engine.health()
        assert health.last_error == (
            "environment variable TRADETERM_STRATEGIES__PARAMS: key "
            "'strategies.params.ema_cross.fast' has value 500: Input should be less than or "
            "equal to 50")
    finally:
        await engine.close()
