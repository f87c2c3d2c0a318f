"""Layout: everything on screen at 120x40; at 80x24 the panels fold into tabs and every one of
them is still reachable (tab / shift+tab, a click on the tab bar), as the same widget."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import FakeEngine
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.palette import PANELS

SIDE = {"book", "tape", "watchlist"}
LOWER = {"positions", "orders", "account", "signals"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


def shown(app: TradetermApp) -> set[str]:
    """Ids of the panels that really occupy cells on the screen now."""
    visible = set()
    for name in (*PANELS, "indicator"):
        widget = app.main_screen.query_one(f"#{name}")
        if widget.display and all(a.display for a in widget.ancestors_with_self
                                   if hasattr(a, "display")) and widget.region.area:
            visible.add(name)
    return visible


async def test_full_size_when_120x40_then_every_panel_shown_and_no_tab_bar(settings):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        assert not app.compact
        assert shown(app) == {*PANELS, "indicator"}
        assert not app.query_one("#tabs").display
        assert "Positions  Orders" not in screen_text(app)


async def test_small_when_80x24_then_chart_book_and_a_one_line_tab_bar(settings):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        assert app.compact
        assert shown(app) == {"chart", "book"}
        tabs = app.query_one("#tabs")
        assert tabs.region.height == 1 and tabs.region.y == 1  # right under the status bar
        line = screen_text(app).splitlines()[1]
        for name in PANELS:
            assert name.capitalize() in line


async def test_small_when_tab_pressed_then_each_panel_in_turn_and_all_reachable(settings):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        widgets = {name: app.query_one(f"#{name}") for name in PANELS}
        start = PANELS.index(app.panel)
        seen = []
        for step in range(1, len(PANELS) + 1):
            await pilot.press("tab")
            expected = PANELS[(start + step) % len(PANELS)]
            await wait_for(pilot, lambda expected=expected: app.panel == expected
                           and expected in shown(app))
            visible = shown(app)
            seen.append(expected)
            assert "chart" in visible  # the chart never goes away
            if expected == "chart":
                assert visible == {"chart", "indicator"}
            else:
                assert visible == {"chart", expected}
            if expected in LOWER:  # below the chart, full width
                region = widgets[expected].region
                assert region.width == 80 and region.y > widgets["chart"].region.y
            if expected in SIDE:
                assert widgets[expected].region.x > widgets["chart"].region.x
        assert sorted(seen) == sorted(PANELS)
        # the same instances throughout, never copies
        assert all(app.query_one(f"#{name}") is widgets[name] for name in PANELS)
        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: app.panel == PANELS[(start - 1) % len(PANELS)])


async def test_small_when_orders_tab_chosen_then_orders_table_has_the_focus(settings):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.show_panel("orders")
        await wait_for(pilot, lambda: app.focused is app.query_one("#orders"))
        assert "orders" in shown(app)


async def test_small_when_tab_bar_clicked_then_that_panel_is_shown(settings):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.click("#tab-signals")
        await wait_for(pilot, lambda: app.panel == "signals" and "signals" in shown(app))


async def test_full_size_when_tab_pressed_then_focus_moves_and_no_panel_hidden(settings):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        before = app.focused
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is not before  # Textual's own focus cycling still works
        assert shown(app) == {*PANELS, "indicator"}


async def test_resize_when_terminal_shrinks_and_grows_then_layout_follows(settings):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: app.compact and shown(app) == {"chart", "book"})
        await pilot.resize_terminal(120, 40)
        await wait_for(pilot, lambda: not app.compact and len(shown(app)) == len(PANELS) + 1)


async def test_small_when_tab_pressed_fast_then_the_last_panel_stays_without_flipping(settings):
    """Three quick tabs: the tab bar's activation messages of the first two arrive after the
    third panel is shown. They used to be taken for clicks and bring their panels back, each
    bringing back the next: the panels (and the focus, and the footer) flipped forever."""
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        start = PANELS.index(app.panel)
        app.action_next_panel(1)
        app.action_next_panel(1)
        app.action_next_panel(1)
        expected = PANELS[(start + 3) % len(PANELS)]
        shows: list[str] = []
        show_panel = app.show_panel

        def counting(name: str) -> None:
            shows.append(name)
            show_panel(name)

        app.show_panel = counting  # type: ignore[method-assign]
        seen = set()
        for _ in range(20):
            await pilot.pause(0.02)
            seen.add(app.panel)
        app.show_panel = show_panel  # type: ignore[method-assign]
        assert shows == [] and seen == {expected}, (shows[:6], seen)
        assert app.focused is None or app.focused.id in (expected, "chart"), app.focused
