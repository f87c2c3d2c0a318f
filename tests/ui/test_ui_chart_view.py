"""History window and zoom: aggregation, bucket alignment, scroll bounds and anchoring."""

from __future__ import annotations

from chart_fixtures import MINUTE, T0, ChartApp, walk
from test_ui_chart import COLORS
from ui_helpers import wait_for

from tradeterm.core.models import Candle
from tradeterm.ui.chart.render import ChartRenderer
from tradeterm.ui.chart.view import aggregate, window_end, window_groups
from tradeterm.ui.widgets.chart import CandleChart


def test_aggregate_when_candles_then_first_open_extremes_last_close_summed_volume():
    candles = [Candle(0, 10, 12, 9, 11, 1), Candle(60_000, 11, 15, 10, 14, 2),
               Candle(120_000, 14, 14, 7, 8, 3)]
    assert aggregate(candles) == Candle(0, 10, 15, 7, 8, 6)


def test_window_groups_when_zoomed_then_columns_are_epoch_aligned_buckets():
    candles = walk(23)[3:]  # starts 3 minutes into a 5-minute bucket
    groups = window_groups(candles, len(candles), 5, 5 * MINUTE, 10)
    assert groups[0] == (0, 1)  # the partial first bucket: minutes 3 and 4
    assert groups[1:] == [(2, 6), (7, 11), (12, 16), (17, 19)]  # the live bucket is partial


def test_window_end_when_anchored_then_end_of_the_anchor_bucket():
    candles = walk(30)
    assert window_end(candles, None, MINUTE) == 30
    assert window_end(candles, candles[12].open_time, MINUTE) == 13
    assert window_end(candles, candles[12].open_time, 5 * MINUTE) == 15


def test_render_when_zoom_five_then_bars_are_aggregates_and_header_says_so():
    candles = walk(200)
    renderer = ChartRenderer()
    lines = renderer.render(candles, width=80, height=20, colors=COLORS, symbol="X/Y",
                            timeframe="1m", per_column=5)
    view = renderer.view
    assert view.bars[-1] == aggregate(candles[195:200])
    assert view.bars[0] == aggregate(candles[view.groups[0][0] : view.groups[0][1] + 1])
    assert "×5" in lines[0].text


async def test_scroll_when_back_forward_and_beyond_then_bounded_by_the_data():
    app = ChartApp()
    candles = walk(300)
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(CandleChart)
        app.show(candles)
        await wait_for(pilot, lambda: chart.view is not None)
        width = chart.view.plot_width
        chart.scroll_bars(-10)
        assert chart.view.groups[-1][1] == 289 and chart.view.history
        assert "history (0 = live)" in chart.render_line(0).text
        chart.scroll_bars(-10_000)
        assert chart.view.groups[0][0] == 0 and len(chart.view.groups) == width
        chart.scroll_bars(5)
        assert chart.view.groups[0][0] == 5
        chart.scroll_bars(10_000)
        assert chart.history_anchor is None and chart.view.groups[-1][1] == 299
        assert "history" not in chart.render_line(0).text


async def test_scroll_when_new_candles_arrive_then_view_stays_on_the_same_candles():
    app = ChartApp()
    candles = walk(300)
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(CandleChart)
        app.show(candles)
        await wait_for(pilot, lambda: chart.view is not None)
        chart.scroll_bars(-20)
        before = chart.view.bars
        more = candles[5:] + tuple(
            Candle(T0 + (300 + i) * MINUTE, 100, 101, 99, 100, 1) for i in range(5)
        )  # five new bars, five old ones dropped off the front
        app.show(more)
        assert chart.view.bars == before
        chart.go_live()
        assert chart.view.bars[-1] == more[-1]


async def test_zoom_when_stepped_past_the_ends_then_stays_within_levels():
    app = ChartApp()
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(CandleChart)
        app.show(walk(600))
        await wait_for(pilot, lambda: chart.view is not None)
        seen = []
        for _ in range(6):
            chart.zoom(-1)
            seen.append(chart.per_column)
        assert seen == [2, 3, 5, 10, 10, 10]
        assert chart.view.per_column == 10 and chart.view.bars[-1].open_time % (10 * MINUTE) == 0
        chart.zoom(1)
        assert chart.per_column == 5
        chart.go_live()
        assert chart.per_column == 1
        chart.zoom(1)
        assert chart.per_column == 1
