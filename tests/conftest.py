"""Make the shared test helpers in ``tests/`` (e.g. ``causality``) importable from any test dir."""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
