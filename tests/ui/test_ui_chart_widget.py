"""The chart widget under Pilot: crosshair keys and mouse, repaint of changed rows only."""

from __future__ import annotations

from dataclasses import replace

from chart_fixtures import ChartApp, walk
from textual.events import MouseScrollDown, MouseScrollUp
from ui_helpers import wait_for

from tradeterm.ui.chart.render import Crosshair
from tradeterm.ui.fmt import fmt_price
from tradeterm.ui.screens.help import screen_bindings
from tradeterm.ui.widgets.chart import CandleChart


async def test_crosshair_when_chart_focused_and_keys_pressed_then_moves_and_header_reads_out():
    app = ChartApp()
    candles = walk(200)
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(CandleChart)
        app.show(candles)
        await wait_for(pilot, lambda: chart.view is not None)
        chart.focus()
        await pilot.press("right")  # the first key shows it, on the newest bar at its close
        width = chart.view.plot_width
        scale = chart.renderer.scale
        assert chart.crosshair == Crosshair(width - 1, scale.row(candles[-1].close))
        await pilot.press("left", "left", "shift+left", "up", "up", "down")
        assert chart.crosshair == Crosshair(width - 13, scale.row(candles[-1].close) - 1)
        bar = chart.view.bar_at(width - 13)
        assert bar == candles[-13]
        header = chart.render_line(0).text
        assert f"O {fmt_price(bar.open)}" in header and f"C {fmt_price(bar.close)}" in header
        assert f"@ {fmt_price(scale.price_at_row(chart.crosshair.row))}" in header
        row = chart.render_line(chart.renderer.header_rows + chart.crosshair.row).text
        assert "─" in row[:width]  # the price line
        await pilot.press(*["shift+left"] * 30)
        assert chart.crosshair.column == 0  # stops at the left edge
        await pilot.press("escape")
        assert chart.crosshair is None
        assert "@" not in chart.render_line(0).text


async def test_crosshair_bindings_when_chart_focused_then_listed_for_help():
    app = ChartApp()
    async with app.run_test(size=(100, 30)) as pilot:
        app.show(walk(50))
        app.query_one(CandleChart).focus()
        await pilot.pause()
        descriptions = {b.description for b in screen_bindings(app.screen)}
        assert {"Crosshair left", "Crosshair 10 right", "Hide the crosshair"} <= descriptions


async def test_mouse_when_moved_over_the_chart_then_crosshair_follows_and_wheel_scrolls():
    app = ChartApp()
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(CandleChart)
        app.show(walk(300))
        await wait_for(pilot, lambda: chart.view is not None)
        await pilot.hover(chart, offset=(10, 4))
        assert chart.crosshair == Crosshair(10, 3)
        await pilot.hover(chart, offset=(20, 6))
        assert chart.crosshair == Crosshair(20, 5)
        last = chart.view.groups[-1][1]
        chart.post_message(MouseScrollUp(chart, 20, 6, 0, -1, 0, False, False, False))
        await wait_for(pilot, lambda: chart.view.groups[-1][1] < last)
        assert chart.view.history
        chart.post_message(MouseScrollDown(chart, 20, 6, 0, 1, 0, False, False, False))
        await wait_for(pilot, lambda: chart.view.groups[-1][1] == last)


async def test_live_candle_when_it_ticks_then_only_changed_rows_are_repainted():
    app = ChartApp()
    candles = list(walk(200))
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(CandleChart)
        app.show(tuple(candles))
        await wait_for(pilot, lambda: chart.view is not None)
        repainted = []
        original = chart.refresh
        chart.refresh = lambda *regions, **kw: repainted.append(regions) or original(
            *regions, **kw)
        live = candles[-1]
        candles[-1] = replace(live, close=live.close + 0.01, volume=live.volume + 0.1)
        app.show(tuple(candles))
        assert len(repainted) == 1
        rows = [region.y for region in repainted[0]]
        assert 0 < len(rows) < chart.size.height // 2
        assert all(region.height == 1 for region in repainted[0])


async def test_attached_screen_when_indicators_not_yet_imported_then_first_data_frame_has_no_overlays_and_they_follow(  # noqa: E501
    tmp_path, monkeypatch
):
    """An attached screen has not imported TA-Lib and polars (the engine's process has): its
    first frame with data must not wait ~0.2-0.5 s for them. The chart draws the candles
    without overlays, the pane its title, then both load and draw them."""
    from fake_engine import FakeEngine

    from tradeterm.config import Settings
    from tradeterm.ui.app import TradetermApp
    from tradeterm.ui.chart.render import ChartRenderer
    from tradeterm.ui.widgets import chart as chart_module
    from tradeterm.ui.widgets import indicator_pane as pane_module

    loaded = {"now": False}
    loads: list[str] = []

    def load(who: str):
        def run() -> None:
            loads.append(who)
            loaded["now"] = True
        return run

    for module, who in ((chart_module, "chart"), (pane_module, "pane")):
        monkeypatch.setattr(module, "indicators_loaded", lambda: loaded["now"])
        monkeypatch.setattr(module, "load_indicators", load(who))
    frames: list[tuple[int, bool]] = []  # (overlay series drawn, indicators loaded) per frame
    render = ChartRenderer.render

    def spy(self, candles, **kwargs):
        if candles:
            frames.append((len(kwargs.get("series", ())), loaded["now"]))
        return render(self, candles, **kwargs)

    monkeypatch.setattr(ChartRenderer, "render", spy)
    settings = Settings(symbols=["BTC/USDT", "ETH/USDT"], data_dir=tmp_path)
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        pane = app.query_one("#indicator")
        await wait_for(pilot, lambda: frames and frames[-1][0] > 0)
        await wait_for(pilot, lambda: "RSI 14 " in "".join(
            s.text for s in pane._lines[0]) and len(pane._lines[0].text.split()) >= 3)
    assert frames[0] == (0, False)  # the first frame with candles: no overlays, no import yet
    assert all(series > 0 for series, now in frames if now)  # once loaded, always drawn
    assert 1 <= len(loads) <= 2  # the chart's and the pane's scheduled import, no more
