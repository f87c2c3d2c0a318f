"""Adding a symbol to the ``symbols`` list of a config file a person wrote, and nothing else.

Why a text edit and not a TOML writer: the file is the user's (comments, order, spacing,
quoting), and a parse-and-dump loses all of that. So the edit finds the top-level ``symbols``
array in the text (strings, escapes and comments inside it understood), inserts one element
after its last one in the array's own style, and leaves every other byte as it was; without a
``symbols`` key, one line ``symbols = [...]`` goes before the first table. The result is parsed
again and must equal the old file with only that list changed, else nothing is written. The
write is atomic (a temporary file beside it, fsync, rename over it, the file's mode kept; a
symlink's target is what changes).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path


class ConfigEditError(ValueError):
    """The file cannot take the edit; the message is one line naming the file and why."""


_KEY = re.compile(r'[ \t]*(?:symbols|"symbols"|\'symbols\')[ \t]*=[ \t]*')
_TABLE = re.compile(r"[ \t]*\[")


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _skip_string(text: str, i: int) -> int:
    """Index after the string starting at ``text[i]`` (basic or literal, one line or three)."""
    quote = text[i]
    triple = text.startswith(quote * 3, i)
    if triple:
        end = text.find(quote * 3, i + 3)
        while end != -1 and quote == '"' and _escaped(text, end):
            end = text.find(quote * 3, end + 1)
        if end == -1:
            raise ValueError("unterminated string")
        end += 3
        while end < len(text) and text[end] == quote:  # """a"""" : quotes just before the end
            end += 1
        return end
    j = i + 1
    while j < len(text) and text[j] != quote and text[j] != "\n":
        j += 2 if quote == '"' and text[j] == "\\" else 1
    if j >= len(text) or text[j] != quote:
        raise ValueError("unterminated string")
    return j + 1


def _escaped(text: str, i: int) -> bool:
    backslashes = 0
    while i - 1 - backslashes >= 0 and text[i - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _array_span(text: str, start: int) -> tuple[int, int | None, bool]:
    """For the array opening at ``text[start] == '['``: (index of its ``]``, end of its last
    element (None if empty), whether a comma follows that element)."""
    depth, i = 0, start
    last_end: int | None = None
    comma_after = False
    while i < len(text):
        ch = text[i]
        if ch == "#":
            i = text.find("\n", i)
            if i == -1:
                break
            continue
        if ch in "\"'":
            i = _skip_string(text, i)
            if depth == 1:
                last_end, comma_after = i, False
            continue
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return i, last_end, comma_after
            if depth == 1:
                last_end, comma_after = i + 1, False
        elif ch == "," and depth == 1:
            comma_after = True
        elif depth == 1 and not ch.isspace():  # a bare value (a number): not a symbol list
            raise ValueError("symbols holds something other than strings")
        i += 1
    raise ValueError("unterminated array")


def _top_level_key(text: str) -> tuple[int, int] | None:
    """(start of the line, index of the value) of the root table's ``symbols = ``."""
    pos = 0
    in_multiline = False
    for line in text.splitlines(keepends=True):
        if not in_multiline:
            if _TABLE.match(line):
                return None  # past the root table
            m = _KEY.match(line)
            if m:
                return pos, pos + m.end()
        # a multi-line string or array spanning lines could hold a '[' or 'symbols =' line:
        # count triple quotes to stay out of strings (arrays are found from their key)
        if line.count('"""') % 2 or line.count("'''") % 2:
            in_multiline = not in_multiline
        pos += len(line)
    return None


def _first_table(text: str) -> int:
    pos = 0
    for line in text.splitlines(keepends=True):
        if _TABLE.match(line) and not line.lstrip().startswith("#"):
            return pos
        pos += len(line)
    return len(text)


def with_symbol(text: str, symbol: str, current: Sequence[str]) -> tuple[str, list[str]]:
    """``text`` with ``symbol`` appended to its top-level ``symbols`` (``current`` when the
    file has none: the list in effect), and the file's new list. ValueError: the file's
    ``symbols`` is not a list of strings this edit understands."""
    before = tomllib.loads(text)
    found = _top_level_key(text)
    if found is None:
        symbols = [*current, symbol]
        line = f"symbols = [{', '.join(map(_toml_string, symbols))}]\n"
        at = _first_table(text)
        prefix = text[:at]
        if prefix and not prefix.endswith("\n"):
            line = "\n" + line
        new = prefix + line + ("\n" if at < len(text) else "") + text[at:]
    else:
        _line_start, value = found
        if value >= len(text) or text[value] != "[":
            raise ValueError("symbols is not an array")
        close, last_end, comma_after = _array_span(text, value)
        item = _toml_string(symbol)
        if last_end is None:
            new = text[: value + 1] + item + text[value + 1 :]
        elif comma_after:
            comma = text.index(",", last_end)
            newline = text.find("\n", comma, close)
            if newline != -1:  # one per line with a trailing comma: a line like the last one
                line_of_last = text.rfind("\n", 0, last_end) + 1
                indent = re.match(r"[ \t]*", text[line_of_last:])
                lead = indent.group(0) if indent is not None else ""
                new = text[: newline + 1] + lead + item + ",\n" + text[newline + 1 :]
            else:
                new = text[: comma + 1] + " " + item + "," + text[comma + 1 :]
        else:
            new = text[:last_end] + ", " + item + text[last_end:]
        symbols = [*before.get("symbols", []), symbol]
    after = tomllib.loads(new)
    expected = dict(before, symbols=symbols)
    if after != expected:
        raise ValueError("the edit would change more than the symbols list")
    return new, symbols


def add_symbol(path: Path, symbol: str, current: Sequence[str]) -> list[str]:
    """Append ``symbol`` to ``path``'s ``symbols`` (see :func:`with_symbol`) and write the file
    atomically; the file's new list. :class:`ConfigEditError` (one line) when it cannot."""
    target = path.resolve()
    try:
        raw = target.read_bytes()
    except OSError as exc:
        raise ConfigEditError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
        tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigEditError(f"{path}: not valid TOML any more ({exc}); not changed") from None
    listed = tomllib.loads(text).get("symbols", current)
    if isinstance(listed, list) and symbol in listed:
        return list(listed)  # already there: nothing to write
    try:
        new, symbols = with_symbol(text, symbol, current)
    except ValueError as exc:
        raise ConfigEditError(f"{path}: symbols left as they are: {exc}") from None
    mode = stat.S_IMODE(target.stat().st_mode)
    if not os.access(target, os.W_OK) or not mode & 0o222:  # a read-only file, even to root
        raise ConfigEditError(f"{path}: not writable")
    fd, tmp = -1, ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        with os.fdopen(fd, "wb") as fh:
            fd = -1
            fh.write(new.encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        tmp = ""
    except OSError as exc:
        raise ConfigEditError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        if fd != -1:
            os.close(fd)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return symbols
