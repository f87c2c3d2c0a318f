"""The per-user bytecode cache: used only where bytecode could not be written otherwise."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from tradeterm.pycache import use_user_pycache, user_pycache_dir


@pytest.fixture
def no_bytecode(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as PYTHONDONTWRITEBYTECODE starts it (restored after the test)."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    monkeypatch.setattr(sys, "pycache_prefix", None)


def test_the_folder_follows_xdg_cache_home_and_ignores_a_relative_one(tmp_path: Path) -> None:
    assert user_pycache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "tradeterm/pycache"
    home = Path.home() / ".cache/tradeterm/pycache"
    assert user_pycache_dir({"XDG_CACHE_HOME": "relative/cache"}) == home
    assert user_pycache_dir({"XDG_CACHE_HOME": ""}) == home
    assert user_pycache_dir({}) == home


def test_without_bytecode_writing_python_writes_into_the_private_cache(
    tmp_path: Path, no_bytecode: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("PYTHONPYCACHEPREFIX", raising=False)
    folder = use_user_pycache()
    assert folder == tmp_path / "tradeterm" / "pycache"
    assert sys.pycache_prefix == str(folder) and sys.dont_write_bytecode is False
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert os.environ["PYTHONPYCACHEPREFIX"] == str(folder)  # children read the same cache


def test_nothing_changes_where_bytecode_is_written_anyway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    monkeypatch.setattr(sys, "pycache_prefix", None)
    assert use_user_pycache({"XDG_CACHE_HOME": str(tmp_path)}) is None
    assert sys.pycache_prefix is None and not (tmp_path / "tradeterm").exists()


def test_a_prefix_the_user_chose_is_kept(
    tmp_path: Path, no_bytecode: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "pycache_prefix", "/somewhere/else")
    assert use_user_pycache({"XDG_CACHE_HOME": str(tmp_path)}) is None
    assert sys.pycache_prefix == "/somewhere/else" and sys.dont_write_bytecode is True


def test_a_cache_folder_that_cannot_be_made_leaves_everything_as_it_was(
    tmp_path: Path, no_bytecode: None
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert use_user_pycache({"XDG_CACHE_HOME": str(blocker)}) is None
    assert sys.pycache_prefix is None and sys.dont_write_bytecode is True


def test_no_home_folder_leaves_everything_as_it_was(
    no_bytecode: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    assert use_user_pycache({}) is None
    assert sys.pycache_prefix is None and sys.dont_write_bytecode is True


def test_a_child_that_inherited_our_prefix_writes_to_it_too(
    tmp_path: Path, no_bytecode: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "tradeterm" / "pycache"
    monkeypatch.setattr(sys, "pycache_prefix", str(folder))  # PYTHONPYCACHEPREFIX from a parent
    assert use_user_pycache({"XDG_CACHE_HOME": str(tmp_path)}) == folder
    assert sys.pycache_prefix == str(folder) and sys.dont_write_bytecode is False
