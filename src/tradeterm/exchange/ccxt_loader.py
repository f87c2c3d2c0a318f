"""Import ``ccxt.pro`` with only the one exchange the workstation needs.

``ccxt/__init__.py``, ``ccxt/async_support/__init__.py`` and ``ccxt/pro/__init__.py`` each import
all ~100 exchange modules, so ``import ccxt.pro`` takes ~4 s though the app uses one class.
This module imports those three packages through the normal import system (its locks, parent
attributes and ``sys.modules`` bookkeeping included) but compiles each ``__init__.py`` without its
``from <package>.<x> import <x>`` lines. Everything else the real file defines (errors,
``Exchange``, ``Precise``, rounding constants, ``exchanges``, ``__version__``, ``__all__``) is
defined by the real code itself, and each exchange class is loaded on first attribute access.

The filter is checked against the file's content before anything is imported: the removed lines
must be exactly the names listed in the file's ``exchanges``. Any other layout, or any failure,
falls back to the plain full import, so a ccxt upgrade can only make the import slow, not wrong.
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import sys
import threading
import types
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_PACKAGES = ("ccxt", "ccxt.async_support", "ccxt.pro")
_lock = threading.Lock()


class _LazyExchangePackage(types.ModuleType):
    """Module class for the slim packages: exchange names resolve to classes on first use."""

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails, i.e. for exchanges not loaded yet.
        if name in vars(self).get("exchanges", ()):
            importlib.import_module(f"{self.__name__}.{name}")
            return vars(self)[name]  # bound to the class by __setattr__ below
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing submodule ``pkg.binance`` makes the import system bind the *module* as
        # ``pkg.binance``; the real __init__ then rebinds that name to the class
        # (``from pkg.binance import binance``). Do that rebind here, whoever triggered the import.
        if (
            isinstance(value, types.ModuleType)
            and value.__name__ == f"{self.__name__}.{name}"
            and name in vars(self).get("exchanges", ())
        ):
            value = getattr(value, name, value)
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(vars(self).get("exchanges", ())))


def slim_code(source: str, package: str, filename: str) -> types.CodeType:
    """Compile a package ``__init__`` without its per-exchange imports.

    Raises ``ValueError`` unless the removed imports are exactly the file's ``exchanges`` list,
    i.e. unless the file still has the layout this loader was written for.
    """
    tree = ast.parse(source, filename)
    kept: list[ast.stmt] = []
    removed: list[str] = []
    listed: list[str] | None = None
    for node in tree.body:
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and len(node.names) == 1
            and node.names[0].asname is None
            and node.module == f"{package}.{node.names[0].name}"
        ):
            removed.append(node.names[0].name)
            continue
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["exchanges"]
        ):
            listed = ast.literal_eval(node.value)
        kept.append(node)
    if not removed or listed is None or sorted(removed) != sorted(listed):
        raise ValueError(f"unexpected layout of {filename}")
    tree.body = kept
    return compile(tree, filename, "exec", dont_inherit=True)


class _SlimLoader(importlib.machinery.SourceFileLoader):
    """Source loader that runs a precompiled slim ``__init__`` in a lazy package module."""

    def __init__(self, fullname: str, path: str, code: types.CodeType) -> None:
        super().__init__(fullname, path)
        self._code = code

    def get_code(self, fullname: str) -> types.CodeType:
        return self._code

    def exec_module(self, module: types.ModuleType) -> None:
        module.__class__ = _LazyExchangePackage
        super().exec_module(module)


class _SlimFinder(importlib.abc.MetaPathFinder):
    """Meta path finder, installed only during the import, serving the three slim packages."""

    def __init__(self, codes: dict[str, types.CodeType]) -> None:
        self._codes = codes

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        code = self._codes.get(fullname)
        if code is None:
            return None
        return importlib.util.spec_from_file_location(
            fullname, code.co_filename, loader=_SlimLoader(fullname, code.co_filename, code)
        )


def _slim_codes() -> dict[str, types.CodeType]:
    """The three slim ``__init__`` code objects, built from the installed files (no import)."""
    spec = importlib.util.find_spec("ccxt")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("ccxt is not installed as a regular package")
    root = Path(next(iter(spec.submodule_search_locations)))
    codes = {}
    for package in _PACKAGES:
        path = root.joinpath(*package.split(".")[1:], "__init__.py")
        codes[package] = slim_code(path.read_text(encoding="utf-8"), package, str(path))
    return codes


def load_ccxt_pro(exchange_id: str = "binance") -> Any:
    """Return the ``ccxt.pro`` module with ``exchange_id`` loaded, importing as little as possible.

    Falls back to the plain ``import ccxt.pro`` if ccxt is already imported (nothing to save) or
    if anything about the fast path fails.
    """
    with _lock:  # the engine may prefetch in one thread while another builds a client
        if "ccxt" not in sys.modules:
            try:
                finder = _SlimFinder(_slim_codes())
                sys.meta_path.insert(0, finder)
                try:
                    importlib.import_module("ccxt.pro")
                finally:
                    sys.meta_path.remove(finder)
            except Exception:
                log.debug("fast ccxt import failed; importing all of ccxt", exc_info=True)
        pro = importlib.import_module("ccxt.pro")
    getattr(pro, exchange_id, None)  # load the class now (in the caller's thread), not later
    return pro
