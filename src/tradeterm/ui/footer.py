"""The main screen's footer: the key hints that fit, each one whole.

Textual's footer lays every hint in one row and crops the row at the screen's edge, so at 80
columns the main screen's hints ended in ``j Journa`` and ``? Help`` was never seen. Here the
hints that do not fit are hidden whole, the least useful first (:data:`KEEP_FIRST`, by
action, so a remapped key keeps its rank): at 80 columns help, quit, buy, sell, the kill switch
and the journal stay; the symbol and timeframe keys (also in the help screen and the palette)
go first. On another screen (the journal) its own keys stay before the main screen's, which
Textual lists there too. The palette's key, docked right, always stays.
"""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup

KEEP_FIRST = (
    "help", "quit", "ticket('buy')", "ticket('sell')", "kill", "use_demo", "replay('pause')",
    "journal", "replay('step')", "Symbol", "strategies", "Timeframe",
)
"""The hints by how long they stay as the footer narrows (an action, or a group's label);
one not named here goes before all of them."""


def _rank(name: str) -> int:
    return KEEP_FIRST.index(name) if name in KEEP_FIRST else len(KEEP_FIRST)


MAX_WAITS = 5
"""Refreshes to wait for a hint's width (it is laid out after the first): then it counts 0."""

OWN = -1
"""The rank of a screen's own keys (the journal's ``esc Back``, ``f Filter``): kept before
the main screen's keys, which a screen's footer also lists."""


def _leaving(widget: Widget) -> bool:
    """A hint of an earlier compose still being removed: not shown, though its style says it
    is (ours are hidden with ``display = False``, which sets the style). Recomposes overlap
    when the focus moves fast: such a hint never gets a width, and waiting for it would use up
    the waits of the new ones."""
    return not widget.display and widget.styles.display != "none"


class FittedFooter(Footer):
    """See the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self._widths: dict[Widget, int] = {}  # measured with every hint shown (after compose)
        self._waits = 0  # refreshes waited for a hint to be laid out (a few at most)

    async def recompose(self) -> None:
        await super().recompose()  # the bindings changed: new hints, all shown
        self._widths.clear()
        self._waits = 0
        self.call_after_refresh(self._fit)

    def on_resize(self) -> None:
        self._fit()

    def _hints(self) -> list[tuple[str, list[Widget]]]:
        """The hints in their order, each named (see :data:`KEEP_FIRST`) with its widgets: a
        group is its keys' box and the label after it. The palette's key is not among them."""
        hints: list[tuple[str, list[Widget]]] = []
        for child in self.children:
            if _leaving(child):
                continue
            if isinstance(child, FooterKey):
                if not child.has_class("-command-palette"):
                    hints.append((child.action, [child]))
            elif isinstance(child, KeyGroup):
                hints.append(("", [child]))
            elif isinstance(child, FooterLabel) and hints and hints[-1][0] == "":
                hints[-1] = (str(child.content), [*hints[-1][1], child])
        return hints

    def _own_actions(self) -> set[str]:
        """The actions bound by the screen (or a widget on it), not by the app."""
        return {binding.action for node, binding, _, _ in self.screen.active_bindings.values()
                if node is not self.app}

    def _width(self, widget: Widget) -> int | None:
        if widget not in self._widths:
            if not widget.display or not widget.outer_size.width:
                return None  # not laid out yet
            margin = widget.styles.margin
            self._widths[widget] = widget.outer_size.width + margin.left + margin.right
        return self._widths[widget]

    def _fit(self) -> None:
        """Show the most useful hints that fit beside the palette's key; hide the others."""
        if not self.is_attached or not self.size.width:
            return
        hints = self._hints()
        widths: dict[str, int] = {}  # a name is unique: one hint per action or group
        for name, widgets in hints:
            measured = [self._width(w) for w in widgets]
            if any(m is None for m in measured) and self._waits < MAX_WAITS:
                self._waits += 1  # shown again and measured after a refresh
                for widget in widgets:
                    widget.display = True
                self.call_after_refresh(self._fit)
                return
            widths[name] = sum(m or 0 for m in measured)
        palette = [c for c in self.children if c.has_class("-command-palette")]
        room = self.size.width - sum(p.outer_size.width for p in palette)
        shown = [True] * len(hints)
        used = sum(widths.values())
        # the least useful first; of equal rank, the rightmost
        own = self._own_actions()
        ranks = [OWN if name in own else _rank(name) for name, _ in hints]
        for i in sorted(range(len(hints)), key=lambda i: (ranks[i], i), reverse=True):
            if used <= room:
                break
            shown[i] = False
            used -= widths[hints[i][0]]
        for keep, (_, widgets) in zip(shown, hints, strict=True):
            for widget in widgets:
                widget.display = keep
