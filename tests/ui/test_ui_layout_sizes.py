"""What the trading panels show at each screen size (issue 15): at 120x40 positions and orders
with every column a trader asks for, the account, the signals and a book of 8 levels a side
beside them; at 240x70 positions and orders side by side, a bigger book and chart; at 80x24 the
same columns in the positions and orders tabs. Also the render-budget mechanics: the chart
repaints only the changed cells of a row, the start-up heap is frozen out of the GC."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from fake_engine import T0, FakeEngine
from textual.geometry import Region
from textual.widget import Widget
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.widgets.book import ladder_depth

FROZEN_S = T0 / 1000 + 150 * 60 + 42.0

# The FakeEngine's panel data (tests/ui/fake_engine.py panel_data): a long BTC position, entry
# 98.96, mark 99.96, under a bracket (stop 97.96, target 103.96), opened 2 h ago; a short ETH
# without a stop; a working limit buy, 10 minutes old.
POSITION_TITLES = ("Size", "Entry", "Mark", "uPnL", "uPnL%", "R", "Age")
POSITION_CELLS = ("BTC", "0.5", "98.96", "99.96", "+0.50", "+1.01%", "+0.50R", "2.00%", "4.00%",
                  "2h")
ORDER_TITLES = ("Type", "Price", "Filled/Qty", "Age", "For")
ORDER_ROWS = (  # type, side, price, filled/total, status, age, which position and leg
    ("STOP", "S", "@97.96", "0/0.5", "open", "2h", "SL P1-3"),
    ("LMT", "S", "103.96", "0/0.5", "open", "2h", "TP P1-3"),
    ("LMT", "B", "94.96", "0/0.25", "open", "10m", "entry"),
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(symbols=["BTC/USDT", "ETH/USDT", "SOL/USDT"], data_dir=tmp_path)


def make_app(settings: Settings) -> TradetermApp:
    return TradetermApp(settings, FakeEngine(settings, seed=7, panels=True),
                        clock=lambda: FROZEN_S)


def region_lines(app: TradetermApp, region: Region) -> list[str]:
    """The characters on screen inside ``region``, one string per row."""
    rows = screen_text(app).splitlines()[region.y : region.bottom]
    return [row[region.x : region.right] for row in rows]


def words(line: str) -> list[str]:
    return line.replace("⚠", " ").split()


async def settled(pilot, app: TradetermApp) -> None:
    await wait_for(pilot, lambda: "spread" in screen_text(app) and "TP P1-3" in screen_text(app))
    await pilot.pause()


def assert_positions_complete(app: TradetermApp) -> None:
    lines = region_lines(app, app._positions.content_region)
    header = words(lines[0])
    for title in POSITION_TITLES:
        assert title in header, (title, lines[0])
    assert "ToStop" in header and "ToTgt" in header, lines[0]  # distances to stop and target
    btc = next(line for line in lines if line.startswith("BTC"))
    cells = words(btc)
    for cell in POSITION_CELLS:
        assert cell in cells, (cell, btc)


def assert_orders_complete(app: TradetermApp) -> None:
    lines = region_lines(app, app._orders.content_region)
    header = words(lines[0])
    for title in ORDER_TITLES:
        assert title in header, (title, lines[0])
    assert any(t in header for t in ("Status", "St")), lines[0]
    for expected in ORDER_ROWS:
        row = next((line for line in lines if expected[-1] in line and expected[2] in line), None)
        assert row is not None, (expected, lines)
        cells = " ".join(words(row))
        for cell in expected:
            assert cell in words(row) or cell in cells, (cell, row)


def inside(inner: Widget, outer: Widget) -> bool:
    return outer.region.contains_region(inner.region)


async def test_120x40_when_a_bracketed_position_and_orders_then_every_column_shown(settings):
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot, app)
        assert_positions_complete(app)
        assert_orders_complete(app)
        # stacked across the main column, under the chart
        chart, positions, orders = app._chart, app._positions, app._orders
        assert positions.region.width == orders.region.width == chart.region.width
        assert orders.region.y > positions.region.y > chart.region.y
        # the account and the signals kept, in the side column under the book and tape
        side = app.query_one("#side")
        for widget in (app._account, app._signals):
            assert widget.region.area and inside(widget, side)
        assert app._account.region.y > app._tape.region.y > app._book.region.y
        text = screen_text(app)
        assert "equity" in text and "-300.39 limit" in text and "ACTIVE" in text
        assert "strategies: 2 on" in text and "ema_cross" in text
        # a book of 8 levels a side; the chart still the biggest panel
        assert ladder_depth(app._book.region.height) >= 8
        assert text.count("spread") == 1
        assert chart.region.area > max(w.region.area for w in (
            app._book, positions, orders, app._tape, app._account, app._signals))
        assert "-big" not in app.main_screen.classes


async def test_240x70_when_big_then_positions_and_orders_side_by_side_and_more_levels(settings):
    app = make_app(settings)
    async with app.run_test(size=(240, 70)) as pilot:
        await settled(pilot, app)
        assert "-big" in app.main_screen.classes
        positions, orders = app._positions.region, app._orders.region
        assert positions.y == orders.y and orders.x >= positions.right  # side by side
        assert positions.width >= 80 and orders.width >= 79
        assert_positions_complete(app)
        assert_orders_complete(app)
        assert "Stop/Target" in region_lines(app, app._positions.content_region)[0]  # room for the prices too
        assert ladder_depth(app._book.region.height) >= 14
        assert app._chart.region.width >= 190 and app._chart.region.height >= 40
        for widget in (app._account, app._signals, app._tape, app._watchlist):
            assert widget.region.area
        await pilot.resize_terminal(120, 40)  # and back: stacked again
        await wait_for(pilot, lambda: app._orders.region.y > app._positions.region.y)
        assert "-big" not in app.main_screen.classes


@pytest.mark.parametrize("panel", ["positions", "orders"])
async def test_80x24_when_tab_chosen_then_the_same_columns_as_at_120x40(settings, panel):
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        app.show_panel(panel)
        await wait_for(pilot, lambda: getattr(app, f"_{panel}").region.area > 0)
        await wait_for(pilot, lambda: "TP P1-3" in screen_text(app) or "2.00%" in screen_text(app))
        (assert_positions_complete if panel == "positions" else assert_orders_complete)(app)


async def panel_titles(settings: Settings, size: tuple[int, int]) -> dict[str, list[str]]:
    """The header words of the positions and orders panels at ``size`` (their tab at 80x24)."""
    app = make_app(settings)
    titles = {}
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        for panel, shown in (("positions", "2.00%"), ("orders", "TP P1-3")):
            if app.compact:
                app.show_panel(panel)
            await wait_for(pilot, lambda: shown in screen_text(app))  # noqa: B023 (awaited)
            await pilot.pause()
            widget = getattr(app, f"_{panel}")
            titles[panel] = words(region_lines(app, widget.content_region)[0])
    return titles


async def test_panel_headers_when_the_screen_grows_then_columns_added_never_renamed(settings):
    """A narrower panel drops columns but never gives one another name: at 120x40 the
    distances read "Stop"/"Tgt" (the prices' names) where 240x70 said "ToStop"/"ToTgt"."""
    sizes = ((80, 24), (120, 40), (240, 70))
    titles = {size: await panel_titles(settings, size) for size in sizes}
    for panel in ("positions", "orders"):
        big = titles[(240, 70)][panel]
        for size in sizes[:2]:
            assert set(titles[size][panel]) <= set(big), (panel, size, titles[size][panel], big)
    for size in sizes:
        positions = titles[size]["positions"]
        assert "ToStop" in positions and "ToTgt" in positions and "Stop" not in positions
    assert "Stop/Target" in titles[(240, 70)]["positions"]  # the prices, named as prices


async def test_80x24_when_account_tab_then_under_the_chart_full_width(settings):
    app = make_app(settings)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        app.show_panel("account")
        await wait_for(pilot, lambda: app._account.region.area > 0)
        assert app._account.region.width == 80
        assert app._account.region.y > app._chart.region.y
        assert app._chart.region.width == 80


async def test_live_tick_when_chart_repaints_then_only_the_changed_cells(settings):
    """A live tick changes a few cells of some rows (the newest bar, its price label, the
    header's figures): the chart asks to repaint those spans, never its whole width."""
    engine = FakeEngine(settings, seed=7)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(240, 70)) as pilot:
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        await pilot.pause()
        chart = app._chart
        asked: list[Region] = []
        original = chart.refresh

        def record(*regions: Region, **kwargs):
            asked.extend(regions)
            return original(*regions, **kwargs)

        chart.refresh = record  # type: ignore[method-assign]
        for _ in range(5):
            engine.step()
            app._redraw()
        assert asked, "the tick changed nothing on the chart"
        width = chart.size.width
        assert all(r.height == 1 for r in asked)
        assert sum(r.width for r in asked) < len(asked) * width / 2, asked


async def test_first_snapshot_when_drawn_then_heap_frozen_and_unfrozen_at_exit(settings):
    gc.unfreeze()
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


async def test_first_snapshot_when_drawn_then_young_collections_rarer_until_exit(settings):
    from tradeterm.ui.app import YOUNG_GC_THRESHOLD

    before = gc.get_threshold()
    assert before[0] != YOUNG_GC_THRESHOLD
    app = make_app(settings)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before


async def test_200x50_when_just_big_then_side_by_side_with_every_column(settings):
    """At the smallest big screen each panel gets half of 160 columns (the orders 79 inside its
    border): every column stays, the orders' id abbreviated to its last 6 characters."""
    app = make_app(settings)
    async with app.run_test(size=(200, 50)) as pilot:
        await settled(pilot, app)
        positions, orders = app._positions.region, app._orders.region
        assert positions.y == orders.y and orders.x >= positions.right
        assert_positions_complete(app)
        assert_orders_complete(app)
        assert words(region_lines(app, app._orders.content_region)[0])[0] == "Id"


def test_volume_rows_when_a_tick_then_rebuilt_only_where_the_volume_moved():
    """The chart caches its volume rows like its candle rows (a 200-column frame rebuilt them
    all on every tick): an unchanged row is the same Strip, the newest bar's new volume shows."""
    from dataclasses import replace

    from chart_fixtures import walk

    from tradeterm.ui.chart.render import ChartRenderer
    from tradeterm.ui.themes import TradingColors

    candles = list(walk(300))
    renderer, colors = ChartRenderer(), TradingColors()
    first = renderer.render(tuple(candles), width=200, height=49, colors=colors)
    again = renderer.render(tuple(candles), width=200, height=49, colors=colors)
    vol_rows = range(49 - 1 - round(47 * 0.2), 49 - 1)
    assert all(again[r] is first[r] for r in vol_rows)
    top = max(c.volume for c in candles)
    candles[-1] = replace(candles[-1], volume=top * 0.99)  # the newest bar's volume jumps
    moved = renderer.render(tuple(candles), width=200, height=49, colors=colors)
    changed = [r for r in vol_rows if moved[r].text != first[r].text]
    assert changed and all(moved[r].text[:150] == first[r].text[:150] for r in vol_rows)


async def test_depth_panels_when_snapshot_moves_then_drawn_on_their_own_tick(settings):
    """A screen update draws the chart and the other panels or the book and the tape, rarely
    both: the book and tape redraw on their own ticks, half a period after the others' (a
    240x70 frame with both cost 20+ ms). They still follow the market."""
    engine = FakeEngine(settings, seed=7)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(240, 70)) as pilot:
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        book, tape = app._book, app._tape
        drawn: list[str] = []
        for widget, name in ((book, "book"), (tape, "tape")):
            original = widget.update_data

            def record(*args, _original=original, _name=name, **kwargs):
                drawn.append(_name)
                return _original(*args, **kwargs)

            widget.update_data = record  # type: ignore[method-assign]
        app._depth_due = 0.0
        engine.step()
        app._redraw()
        assert drawn == [] and app._depth_pending  # the chart's frame: no depth work
        app._redraw_depth()
        assert drawn == ["book", "tape"] and not app._depth_pending
        before = book._lines[:]
        engine.step()  # and with the app's own timers: the book follows the new snapshot
        await wait_for(pilot, lambda: book._lines != before)
