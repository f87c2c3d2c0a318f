"""Settings precedence and the promised error messages for bad configuration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tradeterm.config import ConfigError, load_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No TRADETERM_* variables or ./config.toml from the developer's machine leak in."""
    import os

    for name in list(os.environ):
        if name.startswith("TRADETERM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.chdir(tmp_path)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_when_no_file_anywhere(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.exchange == "binance"
    assert settings.symbols == ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    assert settings.mode == "paper"
    assert settings.timeframe == "1m"
    assert settings.data_dir == tmp_path / "xdg-data" / "tradeterm"
    assert settings.journal_file == settings.data_dir / "journal.sqlite"


def test_shipped_config_toml_loads_and_matches_the_defaults() -> None:
    settings = load_settings(REPO / "config.toml")
    defaults = load_settings()
    assert settings.model_dump() == defaults.model_dump()


def test_precedence_file_then_env_then_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, 'timeframe = "5m"\ntheme = "file-theme"\n[feed]\nstale_after_s = 3\n')
    assert load_settings(path).timeframe == "5m"
    monkeypatch.setenv("TRADETERM_TIMEFRAME", "15m")
    monkeypatch.setenv("TRADETERM_FEED__STALE_AFTER_S", "4.5")
    settings = load_settings(path)
    assert settings.timeframe == "15m"
    assert settings.feed.stale_after_s == 4.5
    assert settings.theme == "file-theme"
    assert load_settings(path, timeframe="1h", theme=None).timeframe == "1h"


def test_config_in_current_directory_is_found(tmp_path: Path) -> None:
    write(tmp_path, 'exchange = "okx"\n')
    assert load_settings().exchange == "okx"


def test_bad_value_names_file_key_value_and_expectation(tmp_path: Path) -> None:
    path = write(tmp_path, 'timeframe = "7m"\n[feed]\nstale_after_s = -1\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    text = str(err.value)
    assert f"{path}: key 'timeframe' has value '7m': expected one of 1m" in text
    assert "key 'feed.stale_after_s' has value -1" in text
    assert "greater than 0" in text


def test_unknown_key_is_an_error_naming_it(tmp_path: Path) -> None:
    path = write(tmp_path, 'exchnage = "binance"\n')
    with pytest.raises(ConfigError, match=r"unknown key 'exchnage'"):
        load_settings(path)


def test_mode_accepts_only_paper_or_live(tmp_path: Path) -> None:
    path = write(tmp_path, 'mode = "yolo"\n')
    with pytest.raises(ConfigError, match=r"key 'mode' has value 'yolo': .*'paper' or 'live'"):
        load_settings(path)


def test_toml_syntax_error_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "symbols = [\n")
    with pytest.raises(ConfigError, match=r"config.toml: not valid TOML"):
        load_settings(path)


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.toml")


def test_env_error_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADETERM_FEED__HISTORY_BARS", "lots")
    with pytest.raises(ConfigError, match="environment variable TRADETERM_FEED__HISTORY_BARS"):
        load_settings()


def test_bad_symbol_form_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, 'symbols = ["BTCUSDT"]\n')
    with pytest.raises(ConfigError, match="expected symbols like 'BTC/USDT', got 'BTCUSDT'"):
        load_settings(path)


def test_cli_bad_config_exits_2_with_one_clear_message_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, 'timeframe = "7m"\n')
    proc = subprocess.run(
        [sys.executable, "-m", "tradeterm", "--config", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{path}: key 'timeframe' has value '7m'" in proc.stderr
    assert proc.stdout == ""


def test_cli_flag_error_names_the_flag() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tradeterm", "--timeframe", "9m"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert "command line (--timeframe): key 'timeframe' has value '9m'" in proc.stderr


def test_cli_symbol_flag_puts_symbol_first() -> None:
    from tradeterm.cli import _parser, settings_from_args

    args = _parser().parse_args(["--symbol", "SOL/USDT", "--demo", "--seed", "9"])
    settings = settings_from_args(args)
    assert settings.symbols == ["SOL/USDT", "BTC/USDT", "ETH/USDT"]
    assert settings.demo is True
    assert settings.sim.seed == 9
