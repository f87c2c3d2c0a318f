"""The log price scale (one mapping for candles, overlays, marks, labels and the last price) and
axes that stay legible zoomed far out: pure functions, the renderer, then the real app."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from fake_engine import FakeEngine
from test_ui_chart import COLORS
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.core.models import Candle
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.chart.axes import PriceScale, axis_labels, make_scale, time_axis
from tradeterm.ui.chart.overlays import Series
from tradeterm.ui.chart.render import ChartRenderer

T0 = 1_764_979_200_000  # 2025-12-06 00:00 UTC
HOUR, DAY = 3_600_000, 86_400_000


def ramp(n: int = 60, lo: float = 10.0, hi: float = 1000.0, step_ms: int = 60_000):
    """Candles rising geometrically from ``lo`` to ``hi`` (each a 0.2% body)."""
    out = []
    for i in range(n):
        p = lo * (hi / lo) ** (i / (n - 1))
        out.append(Candle(T0 + i * step_ms, p, p * 1.001, p * 0.999, p * 1.001, 1.0))
    return tuple(out)


# -- the scale ------------------------------------------------------------------------------


def test_log_scale_when_price_halfway_in_log_space_then_middle_row():
    log, linear = PriceScale(10.0, 1000.0, 20, log=True), PriceScale(10.0, 1000.0, 20)
    assert log.row(100.0) == 10  # the geometric middle
    assert linear.row(100.0) == 18  # near the bottom on a linear scale
    assert linear.row(505.0) == 10
    for r in range(20):
        assert log.row(log.price_at_row(r)) == r and linear.row(linear.price_at_row(r)) == r
    assert math.isclose(log.price_at(0.5), 100.0)
    assert log.row(0.0) == 19 and log.row(-5.0) == 19  # below any positive price: the bottom


def test_make_scale_when_log_then_positive_range_else_linear():
    scale = make_scale(ramp(), 20, log=True)
    assert scale.log and 0 < scale.lo <= 10.0 * 0.999 and scale.hi >= 1000.0
    assert not make_scale(ramp(), 20).log
    negative = (Candle(T0, 1, 2, -1, 1, 1),)  # a spread, not a price: log is undefined
    assert not make_scale(negative, 20, log=True).log


def test_log_axis_labels_when_wide_range_then_each_on_its_row_apart_and_finer_below():
    scale = PriceScale(10.0, 1000.0, 30, log=True)
    labels = axis_labels(scale, 0.01)
    rows = sorted(labels)
    assert len(rows) >= 6
    assert all(b - a >= 2 for a, b in zip(rows, rows[1:], strict=False))  # never adjacent
    for row, text in labels.items():
        assert scale.row(float(text)) == row  # the label is the price of its row
    prices = [float(labels[r]) for r in rows]
    assert prices == [1000, 600, 400, 200, 150, 100, 60, 40, 20, 15]  # round, finer below
    assert prices[0] / prices[-1] > 20  # spans the decades, not bunched at the bottom
    for rows_, lo, hi in [(r, lo, hi) for r in range(4, 70)
                          for lo, hi in ((10, 1000), (1, 2), (0.5, 50_000), (64_000, 66_000))]:
        scale = PriceScale(lo, hi, rows_, log=True)
        labels = axis_labels(scale, 0.01)
        rows = sorted(labels)
        assert all(b - a >= 2 for a, b in zip(rows, rows[1:], strict=False))
        assert all(_round(float(text)) for text in labels.values()), labels


def _round(price: float) -> bool:
    """``price`` is a multiple of a 1/2/2.5/5 x 10^k step of at least a thousandth of it."""
    for k in range(-3, 7):
        for mult in (1, 2, 2.5, 5):
            step = mult * 10.0**k
            if step >= price / 1000 and abs(price / step - round(price / step)) < 1e-6:
                return True
    return False


def test_render_when_log_then_candles_overlays_and_last_price_share_the_mapping():
    candles = ramp()
    mid = Series("ema_9", np.full(len(candles), 100.0))  # a flat line at the geometric middle
    for log in (True, False):
        renderer = ChartRenderer()
        lines = renderer.render(candles, width=80, height=40, colors=COLORS, series=[mid],
                                log=log, symbol="X/Y", timeframe="1m")
        scale, view, top = renderer.scale, renderer.view, renderer.header_rows
        assert scale.log is log and (" log" in lines[0].text) is log
        row = top + scale.row(100.0)
        assert (abs(row - top - scale.rows / 2) <= 1) is log
        assert re.search("[\u2801-\u28ff]", lines[row].text[: view.plot_width])  # the line
        i = min(range(len(candles)), key=lambda k: abs(candles[k].close - 100.0))
        x = view.column_of_index(i)
        assert lines[top + scale.row(candles[i].close)].text[x] in "█▀▄│╹╻"
        marker = next(y for y, line in enumerate(lines) if "◀" in line.text)
        assert marker == top + scale.row(candles[-1].close)


# -- the time axis --------------------------------------------------------------------------


def _labels(line: str) -> list[str]:
    """The labels of a time axis line, checked never to touch (two spaces between at least)."""
    assert all(len(gap) >= 2 for gap in re.findall(r"(?<=\S) +(?=\S)", line)), line
    return line.split()


def test_time_axis_when_view_spans_days_then_dates_at_day_starts_never_overlapping():
    candles = [Candle(T0 + i * HOUR, 1, 1, 1, 1, 1) for i in range(96)]  # 4 days of 1h
    line = time_axis(candles, HOUR)
    labels = _labels(line)
    assert labels == ["12:00", "12-07", "12:00", "12-08", "12:00", "12-09", "12:00"]
    assert line[24:29] == "12-07"  # at the day's first candle


def test_time_axis_when_zoomed_out_then_dates_only_then_months():
    candles = [Candle(T0 + i * HOUR, 1, 1, 1, 1, 1) for i in range(0, 24 * 60, 3)]
    labels = _labels(time_axis(candles, 3 * HOUR))  # zoom 3 on 1h: one column is 3 hours
    assert len(labels) >= 5 and all(re.fullmatch(r"\d\d-\d\d", t) for t in labels)
    daily = [Candle(T0 + i * 10 * DAY, 1, 1, 1, 1, 1) for i in range(150)]  # 1d at zoom 10
    labels = _labels(time_axis(daily, 10 * DAY))
    assert len(labels) >= 3 and all(re.fullmatch(r"\d{4}-\d\d", t) for t in labels)


def test_render_when_zoomed_out_then_time_labels_follow_the_column_duration():
    candles = tuple(Candle(T0 + i * HOUR, 100, 101, 99, 100, 1) for i in range(24 * 30))
    renderer = ChartRenderer()
    lines = renderer.render(candles, width=100, height=30, colors=COLORS, timeframe_ms=HOUR,
                            per_column=5)
    labels = _labels(lines[-1].text)
    assert len(labels) >= 3 and all(re.fullmatch(r"\d\d-\d\d", t) for t in labels)
    xs = [m.start() for m in re.finditer(r"\S+", lines[-1].text)]
    assert all(b - a >= 10 for a, b in zip(xs, xs[1:], strict=False))


# -- the app --------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(symbols=["BTC/USDT", "ETH/USDT", "SOL/USDT"], data_dir=tmp_path)


async def test_log_key_when_pressed_then_mapping_is_logarithmic_and_back(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        engine.step()
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        candles = ramp(60)
        engine._publish(candles, ())  # a market that rose a hundredfold
        chart = app._chart
        await wait_for(pilot, lambda: chart.view is not None and chart.view.candles == candles)
        i = min(range(60), key=lambda k: abs(candles[k].close - 100.0))

        def drawn_row() -> int:
            """The row (from the candle area's top) the price-100 candle is drawn on."""
            x, top = chart.view.column_of_index(i), chart.renderer.header_rows
            rows = [y - top for y in range(top, top + chart.renderer.scale.rows)
                    if chart.render_line(y).text[x] in "█▀▄"]
            assert len(rows) == 1  # a thin body
            return rows[0]

        scale = chart.renderer.scale
        assert not scale.log and drawn_row() - scale.rows // 2 > 3  # linear: near the bottom
        await pilot.press("L")
        await wait_for(pilot, lambda: chart.renderer.scale.log)
        scale = chart.renderer.scale
        assert abs(drawn_row() - scale.rows // 2) <= 1  # halfway in log space: the middle
        assert " log" in chart.render_line(0).text
        marker = next(y for y in range(chart.size.height) if "◀" in chart.render_line(y).text)
        assert marker == chart.renderer.header_rows + scale.row(candles[-1].close)
        await pilot.press("3")  # another timeframe: the scale stays logarithmic
        await wait_for(pilot, lambda: " 15m" in chart.render_line(0).text)
        assert chart.renderer.scale.log
        await pilot.press("L")
        await wait_for(pilot, lambda: not chart.renderer.scale.log)
        assert " log" not in chart.render_line(0).text
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Log price scale" in titles  # in the command palette


async def test_time_axis_when_zoomed_out_in_the_app_then_dates(settings):
    engine = FakeEngine(settings, bars=400)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        engine.step()
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        chart = app._chart
        await pilot.press("4")  # 1h: 72 columns span three days
        await wait_for(pilot, lambda: " 1h" in chart.render_line(0).text)
        axis = chart.render_line(chart.size.height - 1).text
        labels = _labels(axis)
        assert any(re.fullmatch(r"\d\d-\d\d", t) for t in labels)  # each new day's date
        assert any(re.fullmatch(r"\d\d:\d\d", t) for t in labels)
        await pilot.press("minus", "minus")  # 3 candles a column
        await wait_for(pilot, lambda: chart.per_column == 3)
        axis = chart.render_line(chart.size.height - 1).text
        labels = _labels(axis)
        assert len(labels) >= 2 and all(re.fullmatch(r"\d\d-\d\d", t) for t in labels)
