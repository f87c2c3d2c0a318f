"""A partial screen update draws exactly what a full redraw would, in every cell it writes,
now that it renders only the widgets and rows inside the update (``ui/compositor_crop.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import FakeEngine
from rich.segment import ControlType, Segment
from textual.geometry import Region

from tradeterm.config import Settings
from tradeterm.ui.app import TradetermApp

Cells = dict[tuple[int, int], tuple[str, object]]

# Updates as the app makes them at 240x70 (chart 0-199 x 1-46, pane below it, positions and
# orders side by side at the bottom, the side column from x 200: watchlist, book, tape, info;
# the status bar on row 0, the footer on row 69), and ones crossing the widgets' edges.
UPDATES = {
    "live bar and its price label": [Region(185, 10, 15, 6), Region(0, 1, 120, 1)],
    "chart and pane": [Region(190, 20, 8, 1), Region(190, 50, 8, 1)],
    "book and tape": [Region(201, 6, 39, 20), Region(201, 36, 39, 5)],
    "status bar": [Region(0, 0, 240, 1)],
    "across the chart and the book": [Region(195, 12, 20, 3)],
    "positions and orders": [Region(90, 58, 30, 4)],
    "footer and the bottom rows": [Region(0, 66, 240, 4)],
    "scattered": [Region(3, 2, 2, 1), Region(230, 68, 5, 1), Region(120, 40, 1, 1)],
}


def written_cells(update, console) -> Cells:
    """The cells a ChopsUpdate writes, as a terminal would after its cursor moves."""
    cells: Cells = {}
    x = y = 0
    for segment in update.__rich_console__(console, console.options):
        if segment.control:
            for control in segment.control:
                if control[0] is ControlType.CURSOR_MOVE_TO:
                    x, y = control[1], control[2]
            continue
        if segment.text == "\n":
            continue
        for char in segment.text:
            cells[(x, y)] = (char, segment.style)
            x += 1
    return cells


def line_cells(strips, y: int) -> list[tuple[str, object]]:
    return [(char, segment.style) for segment in strips[y] for char in segment.text
            if not isinstance(segment, Segment) or not segment.control]


@pytest.mark.parametrize("name", list(UPDATES))
async def test_partial_update_when_regions_change_then_every_written_cell_is_the_full_redraws(
    tmp_path: Path, name: str
):
    settings = Settings(symbols=["BTC/USDT", "ETH/USDT"], data_dir=tmp_path)
    engine = FakeEngine(settings, bars=300)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(240, 70)) as pilot:
        await pilot.pause(0.3)
        for _ in range(3):
            engine.step()
            await pilot.pause(0.15)
        compositor = app.screen._compositor
        full = compositor.render_strips()
        compositor._dirty_regions.clear()
        compositor._dirty_regions.update(UPDATES[name])
        update = compositor.render_partial_update()
        cells = written_cells(update, app.console)
        expected: Cells = {}
        for region in UPDATES[name]:
            for y in region.line_range:
                row = line_cells(full, y)
                for x in region.column_range:
                    expected[(x, y)] = row[x]
        assert set(expected) <= set(cells)  # every cell of the update is written
        wrong = [(xy, cells[xy], expected[xy]) for xy in expected if cells[xy] != expected[xy]]
        assert not wrong, wrong[:5]
        for (x, y), cell in cells.items():  # and what is written beyond it is on screen too
            assert cell == line_cells(full, y)[x], (x, y)


async def test_partial_update_when_only_the_chart_changes_then_footer_and_side_are_not_drawn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from textual.widget import Widget

    settings = Settings(symbols=["BTC/USDT", "ETH/USDT"], data_dir=tmp_path)
    app = TradetermApp(settings, FakeEngine(settings, bars=300))
    async with app.run_test(size=(240, 70)) as pilot:
        await pilot.pause(0.3)
        drawn: list[tuple[str, int]] = []
        render_lines = Widget.render_lines

        def counting(self: Widget, crop: Region) -> list:
            drawn.append((self.id or type(self).__name__, crop.height))
            return render_lines(self, crop)

        monkeypatch.setattr(Widget, "render_lines", counting)
        compositor = app.screen._compositor
        compositor._dirty_regions.clear()
        compositor._dirty_regions.update([Region(185, 10, 15, 6)])
        compositor.render_partial_update()
        names = {name for name, _ in drawn}
        assert "chart" in names
        assert not names & {"Footer", "side", "book", "tape", "status"}
        assert all(height <= 6 for _, height in drawn)  # only the update's rows


@pytest.mark.parametrize("over", ["toasts", "ticket"])
async def test_partial_update_when_toasts_or_the_ticket_are_over_the_screen_then_as_full_redraw(
    tmp_path: Path, over: str
):
    """Layers over the panels (toasts) and a modal screen over the workstation (the ticket):
    every written cell still the full redraw's."""
    settings = Settings(symbols=["BTC/USDT", "ETH/USDT"], data_dir=tmp_path)
    engine = FakeEngine(settings, bars=300)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(240, 70)) as pilot:
        await pilot.pause(0.3)
        if over == "toasts":
            for i in range(3):
                app.notify(f"notice {i} " * 4, timeout=30)
        else:
            await pilot.press("b")
        await pilot.pause(0.5)
        engine.step()
        await pilot.pause(0.15)
        compositor = app.screen._compositor
        full = compositor.render_strips()
        for regions in ([Region(0, 1, 120, 8)], [Region(150, 20, 60, 12)], [Region(0, 0, 240, 70)]):
            compositor._dirty_regions.clear()
            compositor._dirty_regions.update(regions)
            update = compositor.render_partial_update()
            cells = written_cells(update, app.console)
            for region in regions:
                for y in region.line_range:
                    row = line_cells(full, y)
                    for x in region.column_range:
                        assert cells.get((x, y)) == row[x], (over, x, y)
