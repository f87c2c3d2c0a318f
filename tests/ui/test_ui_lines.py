"""The line-cache widget base: what changed is repainted, and only that."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip
from ui_helpers import screen_text, wait_for

from tradeterm.core.models import BookSnapshot
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.book import OrderBookLadder
from tradeterm.ui.widgets.lines import LineCacheWidget, changed_regions, changed_span
from tradeterm.ui.widgets.tape import TradesTape

RED = Style(color="#ff0000")


def row(*parts: str | tuple[str, Style]) -> Strip:
    """A strip of plain or (text, style) parts."""
    return Strip([Segment(p) if isinstance(p, str) else Segment(*p) for p in parts])


def test_changed_span_when_same_then_none():
    assert changed_span(row("abc  1.5"), row("abc  1.5"), 8) is None


def test_changed_span_when_digits_differ_then_only_those_cells():
    assert changed_span(row("abc  1.5 2.0"), row("abc  1.7 2.1"), 12) == (7, 12)


def test_changed_span_when_only_style_differs_then_those_cells():
    assert changed_span(row("ab", "cd"), row("ab", ("cd", RED)), 4) == (2, 4)


def test_changed_span_when_wide_characters_then_whole_row():
    assert changed_span(row("ab世"), row("ac世"), 4) == (0, 4)


def test_changed_span_when_wide_characters_in_unchanged_segments_then_cells_after_them():
    """Identical segments around the change are skipped by their cell width (a wide chart row
    is compared segment by segment first), so a wide character there does not widen the span."""
    before = row(("▲", RED), "世界", " 1.5 ", ("abc", RED), "│9")
    after = row(("▲", RED), "世界", " 1.7 ", ("abc", RED), "│9")
    assert changed_span(before, after, 13) == (8, 9)
    assert changed_span(row("x", "世", "ab"), row("x", "世", "ab", ("c", RED)), 6) == (5, 6)


def test_changed_regions_when_one_row_differs_then_one_region_on_that_row():
    old = [row("head"), row("1.00"), row("2.00")]
    new = [row("head"), row("1.00"), row("2.50")]
    assert changed_regions(old, new, 4) == [Region(2, 2, 1, 1)]


class Rows(LineCacheWidget):
    """A minimal panel whose lines are set by the test; records what it asks to repaint."""

    def __init__(self) -> None:
        super().__init__()
        self.rows = ["header", "1.00 x", "2.00 y", "3.00 z"]
        self.refreshes: list[tuple[Region, ...]] = []

    def build_lines(self, width: int, height: int) -> list[Text]:
        return [Text(text) for text in self.rows]

    def refresh(self, *regions: Region, **kwargs) -> LineCacheWidget:  # type: ignore[override]
        self.refreshes.append(regions)
        return super().refresh(*regions, **kwargs)


class Host(App):
    CSS = "Rows, OrderBookLadder, TradesTape { width: 20; height: 6; }"

    def __init__(self, widget) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget


async def test_line_cache_when_one_row_changes_then_only_its_changed_cells_repainted():
    panel = Rows()
    app = Host(panel)
    async with app.run_test(size=(40, 10)) as pilot:
        await wait_for(pilot, lambda: "3.00 z" in screen_text(app))
        panel.refreshes.clear()

        panel.rows[2] = "2.00 w"
        panel.lines_changed()

        assert panel.refreshes == [(Region(5, 2, 1, 1),)]
        await wait_for(pilot, lambda: "2.00 w" in screen_text(app))
        assert "1.00 x" in screen_text(app) and "3.00 z" in screen_text(app)


async def test_line_cache_when_nothing_changes_then_nothing_repainted():
    panel = Rows()
    app = Host(panel)
    async with app.run_test(size=(40, 10)) as pilot:
        await wait_for(pilot, lambda: "3.00 z" in screen_text(app))
        panel.refreshes.clear()
        panel.lines_changed()
        assert panel.refreshes == []


async def test_line_cache_when_a_row_disappears_then_it_is_blanked():
    panel = Rows()
    app = Host(panel)
    async with app.run_test(size=(40, 10)) as pilot:
        await wait_for(pilot, lambda: "3.00 z" in screen_text(app))
        panel.rows.pop()
        panel.lines_changed()
        await wait_for(pilot, lambda: "3.00 z" not in screen_text(app))
        assert "2.00 y" in screen_text(app)


async def test_line_cache_when_resized_then_whole_panel_repainted():
    panel = Rows()
    app = Host(panel)
    async with app.run_test(size=(40, 10)) as pilot:
        await wait_for(pilot, lambda: "3.00 z" in screen_text(app))
        panel.refreshes.clear()
        panel.styles.width = 30
        await wait_for(pilot, lambda: panel.size.width == 30)
        await pilot.pause()
        assert () in panel.refreshes  # refresh() without regions: everything
        assert "3.00 z" in screen_text(app)


def book(ask_top_size: float) -> BookSnapshot:
    return BookSnapshot(
        symbol="X/Y",
        bids=((99.0, 5.0), (98.0, 5.0)),
        asks=((101.0, 1.0), (102.0, ask_top_size)),
    )


class RecordingLadder(OrderBookLadder):
    def __init__(self) -> None:
        super().__init__()
        self.refreshes: list[tuple[Region, ...]] = []

    def refresh(self, *regions: Region, **kwargs) -> OrderBookLadder:  # type: ignore[override]
        self.refreshes.append(regions)
        return super().refresh(*regions, **kwargs)


async def test_ladder_when_one_level_changes_then_only_its_row_repainted():
    ladder = RecordingLadder()
    app = Host(ladder)
    async with app.run_test(size=(40, 10)) as pilot:
        ladder.update_data(book(2.0))
        await wait_for(pilot, lambda: "102.00" in screen_text(app))
        ladder.refreshes.clear()

        ladder.update_data(book(2.25))  # the outermost ask: no other row's numbers move

        assert len(ladder.refreshes) == 1
        regions = ladder.refreshes[0]
        assert regions and {region.y for region in regions} == {1}  # row 0 is the header
        assert all(region.height == 1 for region in regions)
        await wait_for(pilot, lambda: "3.25" in screen_text(app))


async def test_ladder_when_colours_change_then_whole_panel_repainted():
    ladder = RecordingLadder()
    app = Host(ladder)
    async with app.run_test(size=(40, 10)) as pilot:
        ladder.update_data(book(2.0))
        await wait_for(pilot, lambda: "102.00" in screen_text(app))
        ladder.refreshes.clear()
        ladder.update_data(book(2.0), TradingColors(ask="#ff00ff"))
        assert ladder.refreshes == [()]


async def test_tape_when_no_trades_then_header_only():
    tape = TradesTape()
    app = Host(tape)
    async with app.run_test(size=(40, 10)) as pilot:
        await wait_for(pilot, lambda: "Time" in screen_text(app))
        assert "." not in screen_text(app)


class StyledRows(Rows):
    """Rows whose style the test sets too (the same characters, another colour)."""

    def __init__(self) -> None:
        super().__init__()
        self.row_styles: dict[int, Style] = {}

    def build_lines(self, width: int, height: int) -> list[Text]:
        return [Text(text, self.row_styles.get(i, "")) for i, text in enumerate(self.rows)]


def cell_style(panel: LineCacheWidget, y: int) -> Style | None:
    return next(iter(panel.render_line(y))).style


async def test_line_cache_when_rows_move_then_their_strips_are_reused_not_rebuilt():
    """The tape's rows move down a line per trade: a row already converted is not converted
    again (the same strip object), and the repaint still covers every row that changed."""
    panel = Rows()
    app = Host(panel)
    async with app.run_test(size=(40, 10)) as pilot:
        await wait_for(pilot, lambda: "3.00 z" in screen_text(app))
        before = list(panel._lines)
        panel.refreshes.clear()

        panel.rows = ["header", "0.50 n", "1.00 x", "2.00 y"]
        panel.lines_changed()

        assert panel._lines[0] is before[0]
        assert panel._lines[2] is before[1] and panel._lines[3] is before[2]
        assert {r.y for r in panel.refreshes[0]} == {1, 2, 3}
        await wait_for(pilot, lambda: "0.50 n" in screen_text(app))
        assert "3.00 z" not in screen_text(app)


async def test_line_cache_when_only_a_rows_style_changes_then_it_is_redrawn_in_the_new_style():
    """Same characters, another style: not the last update's strip (a stale reuse would keep the
    old colour on screen)."""
    panel = StyledRows()
    app = Host(panel)
    async with app.run_test(size=(40, 10)) as pilot:
        await wait_for(pilot, lambda: "3.00 z" in screen_text(app))
        panel.refreshes.clear()

        panel.row_styles[1] = RED
        panel.lines_changed()

        assert cell_style(panel, 1).color == RED.color
        assert cell_style(panel, 2).color != RED.color
        assert [r.y for r in panel.refreshes[0]] == [1]  # that row only


async def test_line_cache_when_resized_then_no_strip_of_the_old_width_is_reused():
    panel = Rows()
    app = Host(panel)
    async with app.run_test(size=(40, 10)) as pilot:
        await wait_for(pilot, lambda: "3.00 z" in screen_text(app))
        panel.styles.width = 30
        await wait_for(pilot, lambda: panel.size.width == 30)
        await pilot.pause()
        panel.lines_changed()
        assert [strip.cell_length for strip in panel._lines] == [30] * panel.size.height


def reference_to_strip(line: Text | Strip, width: int, console, base: Style | None) -> Strip:
    """What to_strip did through Textual's Strip methods (four strips a row)."""
    if isinstance(line, Text):
        base = (base or Style.null()) + console.get_style(line.style)
        line = Strip(line.render(console, end=""))
    line = line.crop_extend(0, width, None)
    return (line.apply_style(base) if base else line).simplify()


def test_to_strip_when_padded_cropped_styled_or_wide_then_as_textual_strip_methods_give():
    from rich.console import Console

    from tradeterm.ui.widgets.lines import to_strip

    console = Console(width=80, color_system="truecolor")
    styled = Text("64000.10  1.500", Style(color="#00ff00"))
    styled.stylize(RED, 0, 8)
    styled.stylize(Style(bgcolor="#202020"), 5, 15)
    lines: list[Text | Strip] = [
        Text(""), Text("1.00 x"), Text("price size total", "bold"), styled,
        Text("世界 wide 世界"), Text("x" * 30),
        row("ab", ("cd", RED), "ef"), row(("世界", RED), "abc"), Strip([]),
    ]
    for base in (None, Style(color="#aaaaaa", bgcolor="#101010"), Style.null()):
        for width in (0, 1, 4, 9, 12, 20, 40):
            for line in lines:
                got = to_strip(line, width, console, base)
                want = reference_to_strip(line, width, console, base)
                assert list(got) == list(want), (line, width, base)
                assert got.cell_length == width


def reference_span(old: Strip, new: Strip, width: int) -> tuple[int, int] | None:
    """changed_span by its definition, one (character, style) cell at a time."""
    a = [(char, seg.style) for seg in old for char in seg.text]
    b = [(char, seg.style) for seg in new for char in seg.text]
    if len(a) != len(b):
        return (0, width)
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return (diff[0], diff[-1] + 1) if diff else None


def test_changed_span_when_random_ascii_rows_then_exactly_the_cells_that_differ():
    """Rows of one width cut into segments anywhere, styles and characters changed anywhere
    (the book and tape rows): the span is from the first to the last cell that differs."""
    import random

    rng = random.Random(5)
    styles = [None, RED, Style(color="blue"), Style(bgcolor="red", bold=True)]

    def cut(cells: list[tuple[str, Style | None]]) -> Strip:
        segments, i = [], 0
        while i < len(cells):  # runs of one style, of up to 6 cells (so also split runs)
            end, style = i + 1, cells[i][1]
            while end < min(len(cells), i + rng.randint(1, 6)) and cells[end][1] == style:
                end += 1
            segments.append(Segment("".join(c for c, _ in cells[i:end]), style))
            i = end
        return Strip(segments)

    for _ in range(3000):
        width = rng.randint(1, 40)
        before = [(rng.choice("0123456789. "), rng.choice(styles)) for _ in range(width)]
        after = list(before)
        for _ in range(rng.choice((0, 1, 1, 2, 5))):
            i = rng.randrange(width)
            after[i] = (rng.choice("0123456789. "), rng.choice(styles))
        old, new = cut(before), cut(after)
        assert changed_span(old, new, width) == reference_span(old, new, width), (old, new)
