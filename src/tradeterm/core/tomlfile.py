"""Reading a TOML file a person wrote (config, themes): every problem is one line naming the file.

Non-UTF-8 and binary content, invalid TOML, a directory or an unreadable file all raise
:class:`TomlFileError` with ``<path>: <what is wrong>``, never a traceback (issue 11's bad-input
corpus holds the cases). Callers re-raise it as their own error type.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


class TomlFileError(ValueError):
    """A TOML file cannot be used; the message names the file and the problem."""


def read_toml(path: Path, expected: str) -> dict[str, Any]:
    """The table ``path`` holds; ``expected`` names what it should be ("a TOML theme")."""
    if path.is_dir():
        raise TomlFileError(f"{path}: is a directory; expected {expected}")
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise TomlFileError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise TomlFileError(
            f"{path}: not a text file in UTF-8 (byte {exc.start}); expected {expected}"
        ) from None
    except OSError as exc:
        raise TomlFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
