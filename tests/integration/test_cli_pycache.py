"""``python -m tradeterm`` under PYTHONDONTWRITEBYTECODE: what it imports is compiled once,
into the per-user cache, never next to the sources or into site-packages (real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pydantic

import tradeterm.config


def run_version(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tradeterm", "--version"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def in_cache(prefix: Path, source: str) -> Path:
    """Where Python keeps the bytecode of ``source`` under ``sys.pycache_prefix = prefix``."""
    path = Path(source)
    return prefix / path.parent.relative_to("/") / f"{path.stem}.{sys.implementation.cache_tag}.pyc"


def beside(source: str) -> Path:
    """Where Python would write it without a prefix: ``__pycache__`` next to the source."""
    path = Path(source)
    return path.parent / "__pycache__" / f"{path.stem}.{sys.implementation.cache_tag}.pyc"


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return env


def test_modules_are_compiled_once_into_the_user_cache(tmp_path: Path) -> None:
    env = {**base_env(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    first = run_version(env)
    assert first.returncode == 0 and first.stdout.strip() == "tradeterm 0.1.0", first.stderr
    prefix = tmp_path / "cache" / "tradeterm" / "pycache"
    sources = (tradeterm.config.__file__, pydantic.__file__)  # the app's and a dependency's
    compiled = [in_cache(prefix, source) for source in sources]
    assert all(p.is_file() for p in compiled), compiled
    stamps = [p.stat().st_mtime_ns for p in compiled]
    assert run_version(env).returncode == 0
    assert [p.stat().st_mtime_ns for p in compiled] == stamps  # read, not compiled again
    # nothing written next to the sources (an older __pycache__ from elsewhere may exist)
    for source in sources:
        assert not beside(source).exists() or beside(source).stat().st_mtime_ns < stamps[0]


def test_without_the_variable_no_cache_folder_is_made(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    assert run_version(env).returncode == 0
    assert not (tmp_path / "cache" / "tradeterm").exists()
