"""A widget base that repaints only the cells that changed since the last update.

Panels such as the order book and the trades tape update up to ten times a second, and often
only some rows, or some cells of a row, change. A ``render() -> Text`` widget makes Textual
re-render and re-send the whole panel on every change; on a slow ssh link and a small VPS that
is most of the app's output and CPU. :class:`LineCacheWidget` keeps the lines as cached
:class:`Strip`\\ s served by ``render_line``, compares each new set with the one on screen and
refreshes just the changed span of each changed row. A resize or a colour change repaints the
whole panel, since then every cell may differ. (Textual sends whole segments, so a span saves
the segments entirely outside it.) The widget's own CSS style (colour, background) is
applied under each line, as Textual does for ``render()``, and a change of it (a new theme)
rebuilds the cache.

A row whose content is the same as a row of the previous update (the tape's rows move down one
line per trade; the book's header, spread and empty rows; the indicator pane's rows the live
bar's column does not cross) reuses that row's strip instead of converting it again: converting
a row makes four Textual strips, and the strips made per frame were most of the garbage
collector's work (see :func:`row_key`).

Subclasses implement :meth:`LineCacheWidget.build_lines` (usually a thin call to a pure
``data -> list[Text]`` function) and call :meth:`LineCacheWidget.lines_changed` when their data
changed. A panel that rewrites most rows every update (the book: every level moves) can skip
the conversion: it builds each row as a :class:`ReadyStrip`, already the panel's width over
:attr:`LineCacheWidget.line_style`, which is taken as it is.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

Cell = tuple[str, Style | None]


class ReadyStrip(Strip):
    """A row already as :func:`to_strip` would make it: exactly the panel's width, every
    segment's style summed over the widget's :attr:`~LineCacheWidget.line_style`, neighbouring
    cells of one style joined. Served as it is (a row of another width is still converted)."""

    __slots__ = ()


def to_strip(line: Text | Strip, width: int, console: Console, base: Style | None) -> Strip:
    """``line`` as a Strip of exactly ``width`` cells over ``base`` (cropped or padded).

    Neighbouring cells of one style are joined into one segment: each segment costs an escape
    sequence on the wire.
    """
    if isinstance(line, ReadyStrip) and line.cell_length == width:
        return line
    # What Strip(...).crop_extend(0, width, None).apply_style(base).simplify() gives, on the
    # segments, making one Strip instead of four (each Strip brings seven caches: per row and
    # frame they were the bulk of what the garbage collector had to scan).
    if isinstance(line, Text):  # Text.render leaves out the text's own base style: add it
        base = (base or Style.null()) + console.get_style(line.style)
        segments = list(line.render(console, end=""))
    else:
        segments = list(line)
    length = Segment.get_line_length(segments)
    if length > width:
        segments = list(Strip(segments, length).crop(0, width))
    elif length < width:
        segments.append(Segment(" " * (width - length)))
    if base:
        segments = list(Segment.apply_style(segments, base))
    return Strip(Segment.simplify(segments), width)


def row_key(line: Text | Strip) -> Hashable:
    """What :func:`to_strip` makes of ``line`` depends on (besides the width and base style):
    a Text's characters, spans and style; a Strip's segments."""
    if isinstance(line, Text):
        return (line.plain, tuple(line.spans), line.style)
    return tuple(line)


def _cells(segments: Sequence[Segment]) -> list[Cell] | None:
    """One (character, style) pair per cell, or None if a character is not one cell wide."""
    cells: list[Cell] = []
    for segment in segments:
        text, style = segment.text, segment.style
        if segment.control or cell_len(text) != len(text):
            return None
        cells.extend((char, style) for char in text)
    return cells


def changed_span(old: Strip, new: Strip, width: int) -> tuple[int, int] | None:
    """The cells ``[start, end)`` that differ between two rows, or None if they look the same.

    Identical segments at either end are skipped by their cell width; where the rest holds wide
    characters (or control codes) the row is repainted whole: with them a cell index is no
    longer a character index, and such rows are rare in these panels.
    """
    if old is new or old == new:
        return None
    # Identical leading and trailing segments first (cheap: a wide chart row has a few dozen
    # segments and two hundred cells), then cell by cell in what is left between them.
    sa, sb = list(old), list(new)
    head = lead = 0
    while head < min(len(sa), len(sb)) and sa[head] == sb[head]:
        lead += cell_len(sa[head].text)
        head += 1
    tail = trail = 0
    while tail < min(len(sa), len(sb)) - head and sa[-1 - tail] == sb[-1 - tail]:
        trail += cell_len(sa[-1 - tail].text)
        tail += 1
    a = _cells(sa[head : len(sa) - tail])
    b = _cells(sb[head : len(sb) - tail])
    if a is None or b is None:
        return (0, width)
    if len(a) != len(b):
        return (lead, width - trail)
    start = next((i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y), None)
    if start is None:
        return None
    end = len(a)
    while end > start and a[end - 1] == b[end - 1]:
        end -= 1
    return (lead + start, lead + end)


def changed_regions(old: Sequence[Strip], new: Sequence[Strip], width: int) -> list[Region]:
    """Regions (one per changed row, only its changed span) to go from ``old`` to ``new``.

    Both hold one strip per row of the same panel size.
    """
    regions = []
    for y, (before, after) in enumerate(zip(old, new, strict=True)):
        span = changed_span(before, after, width)
        if span is not None:
            regions.append(Region(span[0], y, span[1] - span[0], 1))
    return regions


class LineCacheWidget(Widget):
    """Serves cached lines through ``render_line`` and refreshes only what changed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._lines: list[Strip] = []
        self._lines_key: tuple[int, int, Style] | None = None  # what the lines were built for
        self._strips: dict[Hashable, Strip] = {}  # the last update's strips by row_key

    def build_lines(self, width: int, height: int) -> Sequence[Text | Strip]:
        """The panel's lines for the current data, top first (subclasses implement)."""
        raise NotImplementedError

    def lines_changed(self, *, full: bool = False) -> None:
        """The data changed: rebuild the lines and repaint the changed cells (all if ``full``)."""
        old, old_key = self._lines, self._lines_key
        self._compute()
        if full or old_key != self._lines_key:
            self.refresh()
            return
        regions = changed_regions(old, self._lines, self.size.width)
        if regions:
            self.refresh(*regions)

    @property
    def line_style(self) -> Style:
        """The style lines are drawn over (the widget's CSS colour and background), as of the
        lines being built: what a :class:`ReadyStrip` row's styles must be summed over."""
        return self._lines_key[2] if self._lines_key is not None else Style.null()

    def _key(self) -> tuple[int, int, Style]:
        return (self.size.width, self.size.height, self.visual_style.rich_style)

    def _drawn_key(self) -> tuple[int, int, Style]:
        """:meth:`_key` while the widget is being drawn, from its outer size (which Textual
        updates in the layout, before it draws) rather than its region (a look-up through the
        screen per call, paid for every line drawn)."""
        outer, gutter = self.outer_size, self.styles.gutter
        return (max(0, outer.width - gutter.width), max(0, outer.height - gutter.height),
                self.visual_style.rich_style)

    def _compute(self) -> None:
        key = self._key()
        # The last update's strips are for its width and base style only.
        known = self._strips if key == self._lines_key else {}
        self._lines_key = width, height, base = key
        console = self.app.console
        strips: dict[Hashable, Strip] = {}
        lines: list[Strip] = []
        for line in self.build_lines(width, height)[:height]:
            if isinstance(line, ReadyStrip) and line.cell_length == width:
                lines.append(line)  # nothing to convert, so nothing to look up
                continue
            row = row_key(line)
            strip = known.get(row)
            if strip is None:
                strip = to_strip(line, width, console, base)
            lines.append(strips.setdefault(row, strip))
        self._strips = strips
        blank = Strip.blank(width, base)
        self._lines = lines + [blank] * (height - len(lines))

    def on_resize(self) -> None:
        self.lines_changed(full=True)

    def render_line(self, y: int) -> Strip:
        if self._lines_key != self._drawn_key() and self._lines_key != self._key():
            self._compute()
        if 0 <= y < len(self._lines):
            return self._lines[y]
        return Strip.blank(self.size.width)
