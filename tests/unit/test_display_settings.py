"""``[display] quote_decimals``: read from config.toml, validated, and one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeterm.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("TRADETERM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.chdir(tmp_path)


def test_quote_decimals_table_overrides_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "display.toml"
    path.write_text("[display]\nquote_decimals = { usdt = 4, BTC = 6 }\n")
    assert load_settings(path).display.quote_decimals == {"USDT": 4, "BTC": 6}
    assert load_settings().display.quote_decimals == {}


def test_quote_decimals_out_of_range_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[display]\nquote_decimals = { USDT = 40 }\n")
    with pytest.raises(ConfigError, match=r"display.quote_decimals.*0..18 decimals for USDT"):
        load_settings(path)
