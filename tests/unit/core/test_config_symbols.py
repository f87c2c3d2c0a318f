"""Adding a symbol to a config file's ``symbols``: only that list changes, every other byte
(comments, spacing, other tables) stays; what the edit cannot do safely, it refuses."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from tradeterm.core.config_symbols import ConfigEditError, add_symbol, with_symbol

DEFAULT = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]


@pytest.mark.parametrize(("before", "after"), [
    ('# top\nsymbols = ["BTC/USDT", "ETH/USDT"]  # mine\ntimeframe = "1m"\n[ui]\nfps = 10\n',
     '# top\nsymbols = ["BTC/USDT", "ETH/USDT", "ADA/USDT"]  # mine\ntimeframe = "1m"\n'
     '[ui]\nfps = 10\n'),
    ('symbols = [\n  "BTC/USDT",  # first\n  "ETH/USDT", # x ] "y"\n]  # end\n[sim]\nseed = 1\n',
     'symbols = [\n  "BTC/USDT",  # first\n  "ETH/USDT", # x ] "y"\n  "ADA/USDT",\n]  # end\n'
     '[sim]\nseed = 1\n'),
    ('symbols = [\n  "BTC/USDT",\n  "ETH/USDT"\n]\n',
     'symbols = [\n  "BTC/USDT",\n  "ETH/USDT", "ADA/USDT"\n]\n'),
    ("symbols = ['BTC/USDT', ]\n", "symbols = ['BTC/USDT', \"ADA/USDT\", ]\n"),
    ("symbols = []\n", 'symbols = ["ADA/USDT"]\n'),
    ('"symbols" = ["X/Y"]\n', '"symbols" = ["X/Y", "ADA/USDT"]\n'),
    ('symbols = ["A/B"]\n[table]\nsymbols = ["not/this"]\n',
     'symbols = ["A/B", "ADA/USDT"]\n[table]\nsymbols = ["not/this"]\n'),
])
def test_the_symbols_list_gains_the_symbol_and_nothing_else_moves(before: str, after: str):
    text, symbols = with_symbol(before, "ADA/USDT", DEFAULT)
    assert text == after
    assert tomllib.loads(text)["symbols"] == symbols and symbols[-1] == "ADA/USDT"


def test_a_file_without_symbols_gets_the_list_in_effect_before_its_first_table():
    before = "# mine\ntimeframe = '5m'\n\n[ui]\nfps = 5\n"
    text, symbols = with_symbol(before, "ADA/USDT", DEFAULT)
    assert symbols == [*DEFAULT, "ADA/USDT"]
    assert text == ("# mine\ntimeframe = '5m'\n\n"
                    'symbols = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "ADA/USDT"]\n\n[ui]\nfps = 5\n')


@pytest.mark.parametrize("before", ['symbols = "BTC/USDT"\n', "symbols = [1, 2]\n"])
def test_a_symbols_value_that_is_not_a_list_of_strings_is_refused(before: str):
    with pytest.raises(ValueError):
        with_symbol(before, "ADA/USDT", DEFAULT)


def test_add_symbol_writes_atomically_keeps_the_mode_and_follows_a_symlink(tmp_path: Path):
    real = tmp_path / "real.toml"
    real.write_text('symbols = ["BTC/USDT"]  # keep\n')
    real.chmod(0o640)
    link = tmp_path / "config.toml"
    link.symlink_to(real)
    assert add_symbol(link, "ADA/USDT", DEFAULT) == ["BTC/USDT", "ADA/USDT"]
    assert link.is_symlink() and real.read_text() == 'symbols = ["BTC/USDT", "ADA/USDT"]  # keep\n'
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "real.toml"]  # no temp
    assert add_symbol(link, "ADA/USDT", DEFAULT) == ["BTC/USDT", "ADA/USDT"]  # already: as is


def test_a_read_only_or_broken_file_is_one_line_and_left_alone(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('symbols = ["BTC/USDT"]\n')
    path.chmod(0o444)
    with pytest.raises(ConfigEditError, match=r"config.toml: not writable$"):
        add_symbol(path, "ADA/USDT", DEFAULT)
    assert path.read_text() == 'symbols = ["BTC/USDT"]\n'
    os.chmod(path, 0o644)
    path.write_text("symbols = [\n")
    with pytest.raises(ConfigEditError, match="not valid TOML") as caught:
        add_symbol(path, "ADA/USDT", DEFAULT)
    assert "\n" not in str(caught.value)
