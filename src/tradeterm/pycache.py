"""Compiled bytecode for a process that may not write it: our own cache, compiled lazily.

Where ``PYTHONDONTWRITEBYTECODE`` is set (containers, CI, this project's machines) Python never
writes ``.pyc`` files, so every launch would compile ccxt, polars, textual and pydantic from
source again (``import ccxt.pro`` 4.0 s instead of 0.75 s). uv's ``compile-bytecode`` avoided
that by compiling all of site-packages at install: 27 s on a fresh clone's first run (4,259
files, most never imported) and a "Bytecode compiled ..." step on every later ``uv run``.

Instead, when bytecode writing is off and no prefix was chosen, :func:`use_user_pycache` points
``sys.pycache_prefix`` at a per-user cache folder (``$XDG_CACHE_HOME/tradeterm/pycache``, else
``~/.cache/tradeterm/pycache``) and lets Python write there: the modules the app actually imports
are compiled once, on first import, and never into site-packages or the source tree, which is
what ``PYTHONDONTWRITEBYTECODE`` protects. ``PYTHONPYCACHEPREFIX`` is exported too, so child
processes (worker processes, ``tradeterm sim``) use the same cache, even those that never import
tradeterm (they read it; those that do also write to it).

It must run before the heavy imports, so ``tradeterm/__init__.py`` calls it: whatever imports
tradeterm first (the console script, ``python -m tradeterm``, a benchmark, the tests through
``-p tradeterm._pytest_pycache``) gets it before pydantic, textual, polars or ccxt. An explicit
``PYTHONPYCACHEPREFIX`` (or ``-X pycache_prefix``) is left alone; an unwritable cache folder
leaves everything as it was.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path


def user_pycache_dir(environ: Mapping[str, str]) -> Path:
    """``$XDG_CACHE_HOME/tradeterm/pycache`` (relative or empty XDG values are ignored, as the
    XDG spec says), else ``~/.cache/tradeterm/pycache``."""
    base = environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "tradeterm" / "pycache"


def use_user_pycache(environ: Mapping[str, str] | None = None) -> Path | None:
    """Let this process write bytecode into the per-user cache when it otherwise could not.

    Returns the folder used, or None when nothing was changed (bytecode writing is on, another
    prefix was chosen, or the folder cannot be created). A prefix that already is this folder
    (``PYTHONPYCACHEPREFIX`` inherited from a tradeterm parent process) is used, and written to.
    """
    env = os.environ if environ is None else environ
    if not sys.dont_write_bytecode:
        return None
    try:
        folder = user_pycache_dir(env)  # Path.home() raises without HOME and a passwd entry
        if sys.pycache_prefix and os.path.abspath(sys.pycache_prefix) != str(folder):
            return None
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except (OSError, RuntimeError, KeyError):
        return None
    if not os.access(folder, os.W_OK | os.X_OK):
        return None
    sys.pycache_prefix = str(folder)
    sys.dont_write_bytecode = False
    if environ is None:
        os.environ["PYTHONPYCACHEPREFIX"] = str(folder)
    return folder
