"""What the screen remembers across runs: the indicator panes chosen for each symbol.

One small JSON file, ``<data_dir>/ui-state.json``. It is written atomically (a temporary file
beside it, flushed, then ``os.replace``), so a crash or a second screen writing at the same
moment leaves either the old file or the new one, never half of one. A file that cannot be read
(corrupt, or not the shape written here) is no reason to refuse to start: the screen says so
once and starts with fresh choices, and the next change rewrites the file. It holds no secrets
and nothing the engine needs (each screen keeps its own).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

STATE_FILE = "ui-state.json"

PaneChoice = tuple[str, str | None]
"""(pane 1's indicator, pane 2's or None when the second pane is off)."""


@dataclass(frozen=True, slots=True)
class Loaded:
    panes: dict[str, PaneChoice]
    problem: str | None = None  # why the file was not used (one notice)


def state_path(data_dir: Path) -> Path:
    return data_dir / STATE_FILE


def _choice(value: object) -> PaneChoice | None:
    if not isinstance(value, list) or not 1 <= len(value) <= 2:
        return None
    first = value[0]
    second = value[1] if len(value) == 2 else None
    if not isinstance(first, str) or not (second is None or isinstance(second, str)):
        return None
    return first, second


def load(path: Path) -> Loaded:
    """The panes per symbol stored in ``path``; none (and no problem) if there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Loaded({})
    except OSError as exc:
        return Loaded({}, f"{path} could not be read ({exc.strerror or exc}): panes start fresh")
    try:
        data = json.loads(text)
        raw = data["panes"]
        if not isinstance(raw, dict):
            raise TypeError("panes is not a table")
        panes: dict[str, PaneChoice] = {}
        for symbol, value in raw.items():
            choice = _choice(value)
            if choice is None:
                raise TypeError(f"bad panes entry for {symbol!r}")
            panes[str(symbol)] = choice
    except (ValueError, TypeError, KeyError) as exc:
        what = "not JSON" if isinstance(exc, json.JSONDecodeError) else str(exc)
        return Loaded({}, f"{path} is unreadable ({what}): panes start fresh, it will be "
                          "rewritten")
    return Loaded(panes)


def save(path: Path, panes: dict[str, PaneChoice]) -> str | None:
    """Write ``panes`` to ``path`` atomically; the reason if it could not be written."""
    body = json.dumps({"panes": {s: list(c) for s, c in sorted(panes.items())}}, indent=1)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(body + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        return f"{path} could not be written: {exc.strerror or exc}"
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return None
