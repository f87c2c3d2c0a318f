"""Small text tables with a cursor, for the positions, orders and watchlist panels.

Why not ``DataTable``: these panels are sampled ten times a second and a DataTable re-lays out
and repaints every row on each change (Textual #6457). :class:`CursorTable` is a
:class:`LineCacheWidget`: each panel builds plain ``Text`` rows, the base adds the cursor and
scrolling, and only the cells that changed go to the terminal.

Columns are fitted to the panel's width by priority (:func:`fit_columns`): a 44-column panel
keeps symbol, side and PnL and drops entry or strategy; a wide one shows everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from dataclasses import dataclass, replace
from typing import Literal

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding

from tradeterm.ui.themes import TradingColors, blend
from tradeterm.ui.widgets.lines import LineCacheWidget

Cell = tuple[str, Style | None] | tuple[str, Style | None, str]
"""One cell's text and style (None: the panel's foreground), and optionally its abbreviated
text, shown when the column is abbreviated (see :attr:`Column.short`)."""


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    width: int
    align: Literal["<", ">"] = ">"
    priority: int = 0  # 0 is never dropped; higher numbers go first when the panel is narrow
    grow: bool = False  # gets the width left over (the first growing column that is shown)
    short: tuple[str, int] | None = None  # (title, width) abbreviated (see fit_columns)
    short_rank: int | None = None  # when to abbreviate, like priority (None: at its priority)
    abbreviated: bool = False  # set by fit_columns: the cells show their short text


def fit_columns(columns: Sequence[Column], width: int) -> list[tuple[int, Column]]:
    """``(index, column)`` of the columns that fit ``width`` (one space between two), in their
    order; the spare width goes to a growing column. A narrow panel gives up width in rank
    order, the least important first: dropping a column at its ``priority``, abbreviating one
    at its ``short_rank`` (its priority unless set; at equal rank it is abbreviated before any
    is dropped), so a column is abbreviated rather than lost where possible."""
    kept: dict[int, Column] = dict(enumerate(columns))

    def used() -> int:
        return sum(c.width for c in kept.values()) + max(0, len(kept) - 1)

    steps = [(c.priority, 0, i) for i, c in enumerate(columns) if c.priority > 0]
    steps += [(c.priority if c.short_rank is None else c.short_rank, 1, i)
              for i, c in enumerate(columns) if c.short is not None]
    for _, abbreviate, i in sorted(steps, key=lambda s: (-s[0], -s[1], -s[2])):
        if used() <= width:
            break
        column = kept.get(i)
        if column is None:
            continue
        if abbreviate and column.short is not None:
            title, short_width = column.short
            kept[i] = replace(column, title=title, width=short_width, abbreviated=True)
        elif not abbreviate:
            del kept[i]
    fitted = sorted(kept.items())
    spare = width - used()
    grow = next((n for n, (_, c) in enumerate(fitted) if c.grow), None)
    if spare > 0 and grow is not None:
        index, column = fitted[grow]
        fitted[grow] = (index, replace(column, width=column.width + spare))
    return fitted


def table_row(fitted: Sequence[tuple[int, Column]], cells: Sequence[Cell], width: int) -> Text:
    """One row: ``cells`` (indexed like the unfitted columns) padded and cropped to the fit;
    a cell too long for its column ends in "…" rather than silently losing digits."""
    row = Text(no_wrap=True, overflow="crop")
    for n, (index, column) in enumerate(fitted):
        cell = cells[index]
        text, style = cell[0], cell[1]
        if column.abbreviated and len(cell) == 3:
            text = cell[2]
        if n:
            row.append(" ")
        if len(text) > column.width:
            text = text[: max(0, column.width - 1)] + "…"
        row.append(f"{text:{column.align}{column.width}}", style)
    row.truncate(width, pad=True)
    return row


def header_row(
    columns: Sequence[Column], fitted: Sequence[tuple[int, Column]], width: int, style: Style
) -> Text:
    titles = {index: column.title for index, column in fitted}  # abbreviated ones too
    return table_row(fitted, [(titles.get(i, c.title), style) for i, c in enumerate(columns)],
                     width)


class CursorTable(LineCacheWidget):
    """Rows with a cursor: up/down move it while focused, a click puts it on a row.

    Subclasses keep their data, call :meth:`set_keys` with one key per row (symbol, order id)
    when it changes, and implement :meth:`build_table`. The cursor follows its key when rows are
    added or removed. The cursor row is tinted always (so ``c`` or ``x`` visibly act on it), more
    strongly while the panel has focus.
    """

    can_focus = True
    BINDINGS = [
        Binding("up", "cursor(-1)", "Cursor up", show=False),
        Binding("down", "cursor(1)", "Cursor down", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.market_colors = TradingColors()
        self._keys: tuple[str, ...] = ()
        self._cursor_key: str | None = None
        self._top = 0  # first row shown (scrolls to keep the cursor visible)

    # -- rows and cursor ------------------------------------------------------------------------

    def set_keys(self, keys: Sequence[str]) -> None:
        """The rows' keys, top first. The cursor stays on its key, or moves to the row now at
        its old index when that row went away."""
        old_index = self.cursor_index
        self._keys = tuple(keys)
        if self._cursor_key not in self._keys:
            self._cursor_key = (
                self._keys[min(old_index, len(self._keys) - 1)]
                if self._keys and old_index is not None
                else None
            )

    @property
    def cursor_index(self) -> int | None:
        if self._cursor_key in self._keys:
            return self._keys.index(self._cursor_key)
        return 0 if self._keys else None

    def selected_key(self) -> str | None:
        """The key of the cursor row (the first row when the cursor was never moved)."""
        index = self.cursor_index
        return self._keys[index] if index is not None else None

    def action_cursor(self, step: int) -> None:
        index = self.cursor_index
        if index is None:
            return
        self._cursor_key = self._keys[max(0, min(len(self._keys) - 1, index + step))]
        self.lines_changed()

    def on_click(self, event: events.Click) -> None:
        row = event.y - self.header_rows() + self._top
        if 0 <= row < len(self._keys) and event.y >= self.header_rows():
            self._cursor_key = self._keys[row]
            self.lines_changed()

    def on_focus(self) -> None:
        self.lines_changed()

    def on_blur(self) -> None:
        self.lines_changed()

    # -- drawing --------------------------------------------------------------------------------

    def header_rows(self) -> int:
        """Lines above the rows (a column header); the cursor never lands on them."""
        return 1

    def build_table(self, width: int) -> tuple[list[Text], list[Text]]:
        """``(lines above the rows, one line per key)`` for the current data."""
        raise NotImplementedError

    def build_lines(self, width: int, height: int) -> list[Text]:
        head, rows = self.build_table(width)
        visible = max(1, height - len(head))
        index = self.cursor_index
        if index is not None:
            self._top = min(max(0, self._top, index - visible + 1), index)
            self._top = min(self._top, max(0, len(rows) - visible))
            row = rows[index].copy()
            row.stylize(self._cursor_style())
            rows = rows[:index] + [row] + rows[index + 1 :]
        else:
            self._top = 0
        return head + rows[self._top : self._top + visible]

    def _cursor_style(self) -> Style:
        colors = self.market_colors
        strength = 0.35 if self.has_focus else 0.15
        return Style(bgcolor=blend(colors.accent, colors.background, strength))


def muted(colors: TradingColors) -> Style:
    return Style(color=colors.muted)


def signed_style(value: float | Decimal, up: str, down: str) -> Style | None:
    """``up`` colour for > 0, ``down`` for < 0, None (foreground) for zero."""
    if value > 0:
        return Style(color=up)
    if value < 0:
        return Style(color=down)
    return None
