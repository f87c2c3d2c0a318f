"""Make the shared test helpers in ``tests/`` (e.g. ``causality``) importable from any test dir."""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No test touches the user's journal, log or candles: XDG_DATA_HOME is a fresh folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))


@pytest.fixture(autouse=True)
def _private_runtime_dir(monkeypatch: pytest.MonkeyPatch):
    """Engine sockets (service/paths.py) go to a fresh, short 0700 folder per test, never the
    user's: a Unix socket's path must stay under 108 bytes, which pytest's tmp paths may not."""
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="tt-run-")
    monkeypatch.setenv("XDG_RUNTIME_DIR", folder)
    yield
    shutil.rmtree(folder, ignore_errors=True)
