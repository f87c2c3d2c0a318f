"""Load strategy files from ``strategies/``: one file at a time, so one broken file never stops
the others, and every problem comes back as a :class:`StrategyLoadError` with the file and line.

Files starting with ``_`` are helpers (imported by strategies, never loaded themselves). Each
file is executed as its own module (``tradeterm_strategy_<stem>``) with the folder on
``sys.path`` for its sibling imports; reloading a changed file executes it afresh.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import tokenize
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tradeterm.strategy.api import Strategy, StrategyError

MODULE_PREFIX = "tradeterm_strategy_"


class StrategyLoadError(Exception):
    """A strategy file that could not be loaded: ``file``, ``line`` (if known), ``message``."""

    def __init__(self, file: Path, line: int | None, message: str) -> None:
        self.file = Path(file)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else str(self.file)
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class LoadedStrategy:
    """A validated strategy class and where it came from."""

    cls: type[Strategy]
    file: Path

    @property
    def name(self) -> str:
        return self.cls.name


@dataclass(slots=True)
class LoadResult:
    strategies: dict[str, LoadedStrategy] = field(default_factory=dict)
    errors: list[StrategyLoadError] = field(default_factory=list)


def strategy_files(directory: Path) -> list[Path]:
    """The strategy files of ``directory`` (``*.py``, not ``_*.py``), sorted by name."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.py") if not p.name.startswith("_"))


def _line_in(exc: BaseException, file: Path) -> int | None:
    """The line of ``file`` where ``exc`` was raised (its deepest frame in that file)."""
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename) == file:
        return exc.lineno
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == file:
            line = frame.lineno
    return line


def _check_text(path: Path, source: bytes) -> None:
    """Refuse a binary or wrongly encoded file with one line, before ``compile`` words it as a
    syntax error somewhere inside it."""
    if b"\x00" in source:
        raise StrategyLoadError(path, None, "a binary file, not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        source.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        why = f" (byte {exc.start})" if isinstance(exc, UnicodeDecodeError) else ""
        raise StrategyLoadError(
            path, None, f"not a text file in UTF-8 or its declared encoding{why}"
        ) from None


def load_file(path: Path) -> list[type[Strategy]]:
    """Execute ``path`` and return the Strategy subclasses it defines (validated).

    Raises :class:`StrategyLoadError` for a syntax error, an exception while importing, no
    strategy class, more than one, or a class that breaks the API.
    """
    path = path.resolve()
    module_name = f"{MODULE_PREFIX}{path.stem}"
    try:
        source = path.read_bytes()
        _check_text(path, source)
        code = compile(source, str(path), "exec")
    except SyntaxError as exc:
        raise StrategyLoadError(path, exc.lineno, f"syntax error: {exc.msg}") from None
    except OSError as exc:
        raise StrategyLoadError(path, None, f"cannot read: {exc.strerror or exc}") from None
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None:
        raise StrategyLoadError(path, None, "not importable as a Python module")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.parent)
    added = folder not in sys.path
    if added:
        sys.path.insert(0, folder)
    sys.modules[module_name] = module  # pydantic resolves annotations through sys.modules
    try:
        exec(code, module.__dict__)
    except Exception as exc:
        del sys.modules[module_name]
        raise StrategyLoadError(path, _line_in(exc, path), f"{type(exc).__name__}: {exc}") from None
    finally:
        if added:
            sys.path.remove(folder)
    found = [
        obj for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Strategy) and obj is not Strategy
        and obj.__module__ == module_name
    ]
    if not found:
        raise StrategyLoadError(path, None, "no Strategy subclass defined in this file")
    if len(found) > 1:
        names = ", ".join(c.__name__ for c in found)
        raise StrategyLoadError(path, None, f"one strategy class per file, found {names}")
    cls = found[0]
    try:
        cls.check_definition()
    except StrategyError as exc:
        raise StrategyLoadError(path, _class_line(cls), str(exc)) from None
    return found


def _class_line(cls: type) -> int | None:
    import inspect

    try:
        return inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return None


def load_directory(directory: Path, files: Iterable[Path] | None = None) -> LoadResult:
    """Load every strategy file of ``directory`` (or only ``files``); names must be unique.

    A duplicate name keeps the first file (by name order) and reports the second.
    """
    result = LoadResult()
    for path in strategy_files(directory) if files is None else files:
        try:
            classes = load_file(path)
        except StrategyLoadError as exc:
            result.errors.append(exc)
            continue
        for cls in classes:
            other = result.strategies.get(cls.name)
            if other is not None:
                result.errors.append(
                    StrategyLoadError(
                        path.resolve(), _class_line(cls),
                        f"duplicate strategy name {cls.name!r} (already defined in {other.file})",
                    )
                )
                continue
            result.strategies[cls.name] = LoadedStrategy(cls, path.resolve())
    return result


class FileWatcher:
    """Which strategy files appeared, changed or disappeared since the last poll (by mtime and
    size: an editor saving twice within the clock's resolution still changes the size)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._seen: dict[Path, tuple[int, int]] = {}

    def poll(self) -> tuple[set[Path], set[Path]]:
        """``(new_or_changed, removed)`` since the previous call; the first call reports all."""
        now: dict[Path, tuple[int, int]] = {}
        for path in strategy_files(self.directory):
            try:
                stat = path.stat()
                now[path.resolve()] = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                continue
        changed = {p for p, m in now.items() if self._seen.get(p) != m}
        removed = set(self._seen) - set(now)
        self._seen = now
        return changed, removed
