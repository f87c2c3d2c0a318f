"""A partial screen update draws only the widgets, and the rows, it updates.

When some cells change, Textual's compositor (8.2.8, the pinned version) redraws the box around
every changed region: it asks each widget whose *clip* (its container's area) overlaps that box
for all of its lines, then keeps the lines of the box. A docked footer, the screen and every
container clip to the whole screen, so each update drew the footer, the screen and the side
column's containers top to bottom, whatever changed. At 240x70 a live tick changes the chart and
its pane (rows 1-54, columns 0-199) and a book tick the side column, yet every update rendered
all 70 rows of five containers and the footer: 0.9 ms of a 5 ms frame.

:func:`install` replaces ``Compositor._get_renders`` with the same walk that skips a widget whose
*visible* area (its region inside its clip) misses the box and asks the others only for the
rows inside the box, full width. Rows are the only cut: a line is split at every widget's edges
(the "cuts") and each piece is taken from the front-most widget drawing there, so a widget cut
at a column that is not one of those edges would hand a piece to the wrong cut; rows have no such
coupling. Every cell the update writes (its spans lie inside the box) is drawn as before: a piece
inside the box comes from the front-most widget covering it, and that widget overlaps the box.
``tests/ui/test_ui_compositor_crop.py`` checks updates against full redraws cell by cell.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip

_INSTALLED = "_tradeterm_crop_to_update"


def install() -> None:
    """Make partial updates render only the widgets and rows inside the update (idempotent)."""
    if getattr(Compositor, _INSTALLED, False):
        return

    def get_renders(
        self: Compositor, crop: Region | None = None
    ) -> Iterable[tuple[Region, Region, list[Strip]]]:
        intersection = Region.intersection
        for widget, (region, clip) in self.visible_widgets.items():
            shown = intersection(region, clip)
            if crop is not None:
                if not crop.overlaps(shown):
                    continue
                top, bottom = max(shown.y, crop.y), min(shown.bottom, crop.bottom)
                rows = Region(clip.x, top, clip.width, bottom - top)
                clip = intersection(clip, rows)  # _render_chops draws region & clip's lines
                shown = intersection(shown, rows)
            x, y, width, height = shown
            if width and height:
                yield region, clip, widget.render_lines(
                    Region(x - region.x, y - region.y, width, height)
                )

    Compositor._get_renders = get_renders  # type: ignore[method-assign]
    setattr(Compositor, _INSTALLED, True)
