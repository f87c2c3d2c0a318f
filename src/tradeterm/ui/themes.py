"""Theme files: ``themes/*.toml`` -> :class:`textual.theme.Theme` plus trading colours.

Themes are user data (posting does the same): a file holds Textual's colour slots at top level and
a ``[trading]`` table with the market colours (up/down candles, bid/ask, profit/loss). Trading
colours travel inside ``Theme.variables`` as ``trading-<name>`` so CSS can use ``$trading-up``
and widgets can read them back with :func:`trading_colors`.

A broken file never stops the app: :func:`load_themes` returns it as an error string, the app
shows it as a notification and starts with the built-in default. The default is also defined here
in Python so an installed package (without the repository's ``themes/`` folder) still starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from tradeterm.core.tomlfile import TomlFileError, read_toml

DEFAULT_THEME = "tradeterm-dark"

# Textual's colour slots a theme file may set (``primary`` is required by Textual).
THEME_SLOTS = (
    "primary",
    "secondary",
    "accent",
    "background",
    "surface",
    "panel",
    "foreground",
    "success",
    "warning",
    "error",
)


@dataclass(frozen=True, slots=True)
class TradingColors:
    """Market colours, as hex strings, passed down to the widgets that draw prices."""

    up: str = "#26a69a"
    down: str = "#ef5350"
    bid: str = "#26a69a"
    ask: str = "#ef5350"
    profit: str = "#4caf50"
    loss: str = "#ff5252"
    foreground: str = "#d5dae3"
    background: str = "#0f1218"
    muted: str = "#7e8ba3"
    accent: str = "#f0b90b"
    warning: str = "#f0b90b"
    error: str = "#ef5350"


TRADING_KEYS = ("up", "down", "bid", "ask", "profit", "loss")

_BUILTIN_DATA: dict[str, Any] = {
    "name": DEFAULT_THEME,
    "dark": True,
    "primary": "#4f9dde",
    "secondary": "#7e8ba3",
    "accent": "#f0b90b",
    "background": "#0f1218",
    "surface": "#161b24",
    "panel": "#1e2430",
    "foreground": "#d5dae3",
    "success": "#26a69a",
    "warning": "#f0b90b",
    "error": "#ef5350",
    "trading": {key: getattr(TradingColors(), key) for key in TRADING_KEYS},
}


class ThemeFileError(ValueError):
    """A theme file is unusable; the message names the file and the problem."""


def themes_dir() -> Path:
    """The repository's ``themes/`` folder (``src/tradeterm/ui/themes.py`` -> repo root)."""
    return Path(__file__).resolve().parents[3] / "themes"


def _color(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f"{where}: expected a colour string, got {value!r}")
    try:
        return Color.parse(value).hex
    except ColorParseError:
        raise ThemeFileError(f"{where}: {value!r} is not a colour") from None


def theme_from_data(data: dict[str, Any], origin: str) -> Theme:
    """Build a Theme from parsed TOML; raise :class:`ThemeFileError` naming ``origin``."""
    known = {"name", "dark", "trading", *THEME_SLOTS}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ThemeFileError(f"{origin}: unknown key(s) {', '.join(unknown)}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ThemeFileError(f"{origin}: 'name' must be a non-empty string")
    if "primary" not in data:
        raise ThemeFileError(f"{origin}: 'primary' colour is required")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeFileError(f"{origin}: 'dark' must be true or false, got {dark!r}")
    slots: dict[str, Any] = {
        slot: _color(data[slot], f"{origin}: key '{slot}'") for slot in THEME_SLOTS if slot in data
    }
    trading = data.get("trading", {})
    if not isinstance(trading, dict):
        raise ThemeFileError(f"{origin}: [trading] must be a table")
    bad = sorted(set(trading) - set(TRADING_KEYS))
    if bad:
        raise ThemeFileError(f"{origin}: unknown [trading] key(s) {', '.join(bad)}")
    defaults = TradingColors()
    variables = {
        f"trading-{key}": _color(trading.get(key, getattr(defaults, key)),
                                 f"{origin}: key 'trading.{key}'")
        for key in TRADING_KEYS
    }
    return Theme(name=name, dark=dark, variables=variables, **slots)


def load_theme_file(path: Path) -> Theme:
    """Parse one theme file; any problem is a :class:`ThemeFileError` naming the file."""
    try:
        data = read_toml(path, "a TOML theme")
    except TomlFileError as exc:
        raise ThemeFileError(str(exc)) from None
    return theme_from_data(data, str(path))


def builtin_theme() -> Theme:
    """The default theme, defined in code so the app starts without any theme file."""
    return theme_from_data(_BUILTIN_DATA, "built-in")


def load_themes(folder: Path | None = None) -> tuple[dict[str, Theme], list[str]]:
    """Every theme of ``folder`` (default :func:`themes_dir`) plus the built-in default.

    Returns ``(themes by name, error messages)``; a file that fails is skipped and reported.
    A file named like the built-in theme replaces it.
    """
    themes = {DEFAULT_THEME: builtin_theme()}
    errors: list[str] = []
    folder = themes_dir() if folder is None else folder
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeFileError as exc:
                errors.append(str(exc))
                continue
            themes[theme.name] = theme
    return themes, errors


def trading_colors(theme: Theme) -> TradingColors:
    """The colours widgets draw with, read from a theme (defaults for what it lacks)."""
    defaults = TradingColors()
    values = {
        key: theme.variables.get(f"trading-{key}", getattr(defaults, key)) for key in TRADING_KEYS
    }
    values["foreground"] = theme.foreground or defaults.foreground
    values["background"] = theme.background or defaults.background
    values["muted"] = theme.secondary or defaults.muted
    values["accent"] = theme.accent or defaults.accent
    values["warning"] = theme.warning or defaults.warning
    values["error"] = theme.error or defaults.error
    return TradingColors(**values)


def blend(color: str, background: str, factor: float) -> str:
    """``color`` mixed into ``background`` (factor 0 = background, 1 = color), as hex."""
    return Color.parse(background).blend(Color.parse(color), factor).hex
