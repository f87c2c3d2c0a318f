"""The help screen: every key binding, generated from the bindings themselves.

The rows come from the bindings of the screen underneath (app and screen bindings, after any
keymap remapping), so the help can never drift from what the keys really do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


# Textual's own bindings without a description, in words a trader reads ("Help quit", the
# action's name, says nothing: ctrl+c only tells how to quit).
_TEXTUAL_ACTIONS = {"help_quit": "Says how to quit (does not quit)"}


def binding_rows(
    bindings: Iterable[Binding], key_display: Callable[[Binding], str]
) -> list[tuple[str, str, str]]:
    """``(key, description, action)`` per action, keys of one action joined (``1 / F1``)."""
    by_action: dict[str, tuple[list[str], str]] = {}
    for binding in bindings:
        # Textual's own bindings may have no description: show the action in words instead.
        fallback = _TEXTUAL_ACTIONS.get(binding.action) or binding.action.replace("_", " ").capitalize()
        keys, _ = by_action.setdefault(binding.action, ([], binding.description or fallback))
        shown = key_display(binding)
        if shown not in keys:
            keys.append(shown)
    return [(" / ".join(keys), desc, action) for action, (keys, desc) in by_action.items()]


def screen_bindings(screen: Screen) -> list[Binding]:
    """Every binding reachable from ``screen`` (focused widget, screen, app), including those
    disabled right now (``d`` is only active when the exchange is unreachable).

    ``Screen.active_bindings`` drops disabled ones, so this walks the same chain it uses
    (``_modal_binding_chain``; Textual is pinned, see pyproject).
    """
    seen: set[str] = set()
    found: list[Binding] = []
    for _node, bindings_map in reversed(screen._modal_binding_chain):  # app keys first
        for key, binding in bindings_map:
            if key not in seen:
                seen.add(key)
                found.append(binding)
    return found


class HelpScreen(ModalScreen[None]):
    """Lists ``rows`` (from :func:`binding_rows`); any of escape, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; color: $accent; }
    HelpScreen #help-hint { color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape,q,question_mark", "dismiss_help", "Close help", show=False),
    ]

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll():  # up/down/page keys scroll a list taller than the screen
            yield Static("Keys", id="help-title")
            yield Static("↑↓ scroll · escape closes · ctrl+p: the command palette", id="help-hint")
            yield Static(help_table(self.rows), id="help-table")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


def help_table(rows: list[tuple[str, str, str]]) -> Table:
    """Key and description columns, one row per binding."""
    table = Table(box=None, show_header=False, expand=True, pad_edge=False)
    table.add_column("Key", style="bold", no_wrap=True, min_width=12)
    table.add_column("Does")
    for key, description, _action in rows:
        table.add_row(key, description)
    return table
