"""The indicator pane: RSI and MACD values, rendering, and column alignment with the chart."""

from __future__ import annotations

import numpy as np
from chart_fixtures import MINUTE, T0, ChartApp, walk
from test_ui_chart import COLORS
from ui_helpers import wait_for

from tradeterm.core.models import Candle
from tradeterm.indicators import ta
from tradeterm.indicators.frame import candles_frame
from tradeterm.ui.chart.glyphs import quarter_row
from tradeterm.ui.chart.overlays import CandleArrays
from tradeterm.ui.widgets.chart import CandleChart
from tradeterm.ui.widgets.indicator_pane import IndicatorPane, compute, macd_lines, rsi_lines


def closes(*values: float) -> tuple[Candle, ...]:
    return tuple(Candle(T0 + i * MINUTE, v, v + 0.5, v - 0.5, v, 1) for i, v in enumerate(values))


def test_rsi_when_only_gains_then_100_and_when_mixed_then_talib_values():
    rising = closes(*range(100, 130))
    assert compute("rsi", rising, CandleArrays())["rsi"][-1] == 100.0
    candles = walk(100)
    got = compute("rsi", candles, CandleArrays())["rsi"]
    expected = ta.rsi(candles_frame(candles), 14)["rsi_14"].fill_null(np.nan).to_numpy()
    np.testing.assert_array_equal(got, expected)
    assert np.isnan(got[13]) and not np.isnan(got[14])  # warm-up of 14 bars


def test_rsi_lines_when_values_then_header_guides_and_dot_rows():
    values = [float("nan"), 50.0, 80.0, 20.0, 56.25]
    lines = rsi_lines(values, axis_w=6, height=9, colors=COLORS)
    assert lines[0].text.split() == ["RSI", "14", "56.2"]
    rows = 8
    guide70 = quarter_row(70, 0, 100, rows) // 4
    assert lines[1 + guide70].text.endswith("┤70   ")
    assert lines[1 + guide70].text[0] == "┈"  # the guide where no line is
    assert all(line.cell_length == len(values) + 6 for line in lines[1:])
    q80 = quarter_row(80, 0, 100, rows) // 4
    assert 0x2800 < ord(lines[1 + q80].text[2]) <= 0x28FF


def test_macd_lines_when_histogram_positive_then_bars_above_zero_and_negative_below():
    hist = [1.0, -1.0]
    lines = macd_lines([0.5, -0.5], [0.2, -0.2], hist, axis_w=6, height=11, colors=COLORS)
    assert lines[0].text.startswith(" MACD 12 26 9")
    zero_row = next(r for r, line in enumerate(lines[1:]) if "┤0" in line.text)
    above = [line.text[0] for line in lines[1 : 1 + zero_row]]
    below = [line.text[1] for line in lines[2 + zero_row :]]
    assert "█" in above and "█" in below
    assert all(line.text[1] in " ▀▄█" or ord(line.text[1]) >= 0x2800
               for line in lines[1 : 1 + zero_row])


async def test_pane_when_under_chart_then_columns_and_axis_align_also_after_zoom_and_scroll():
    app = ChartApp()
    candles = walk(400)
    rsi = compute("rsi", candles, CandleArrays())["rsi"]
    async with app.run_test(size=(100, 30)) as pilot:
        chart = app.query_one(CandleChart)
        pane = app.query_one(IndicatorPane)
        app.show(candles)
        await wait_for(pilot, lambda: chart.view is not None)
        for action in (lambda: None, lambda: chart.zoom(-1), lambda: chart.scroll_bars(-30)):
            action()
            await pilot.pause()
            view = chart.view
            got_candles, columns, axis_w = pane.column_layout(pane.size.width)
            assert got_candles is candles and axis_w == view.axis_width
            assert len(columns) == view.plot_width
            assert columns[view.pad :] == [last for _, last in view.groups]
            header = pane.render_line(0).text
            assert header.split()[:3] == ["RSI", "14", f"{rsi[view.groups[-1][1]]:.1f}"]
            axis_x = view.plot_width
            guide = next(y for y in range(1, pane.size.height)
                         if "┤70" in pane.render_line(y).text)
            assert pane.render_line(guide).text[axis_x] == "┤"
            assert chart.render_line(1).text[axis_x] in "│┤◀"


async def test_cycle_mode_when_pressed_then_every_builtin_then_back_to_rsi():
    app = ChartApp()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(IndicatorPane)
        app.show(walk(200))
        await wait_for(pilot, lambda: app.query_one(CandleChart).view is not None)
        for mode, head in (("macd", " MACD 12 26 9"), ("atr", " ATR 14"),
                           ("volume", " Volume"), ("rvol", " RVol 20"), ("rsi", " RSI 14")):
            assert pane.cycle_mode() == mode
            await pilot.pause()
            assert pane.render_line(0).text.startswith(head)


def reference_line_dots(values, lo, hi, rows):
    """line_dots as it was before its columns were shared between frames."""
    qs = [quarter_row(v, lo, hi, rows) for v in values]
    out = []
    for x, q in enumerate(qs):
        cells: dict[int, int] = {}
        if q is not None:
            ends = [q]
            for nx in (x - 1, x + 1):
                if 0 <= nx < len(qs) and qs[nx] is not None:
                    ends.append((q + qs[nx]) // 2)
            for d in range(min(ends), max(ends) + 1):
                cells[d // 4] = cells.get(d // 4, 0) | (0x09, 0x12, 0x24, 0xC0)[d % 4]
        out.append(cells)
    return out


def test_line_dots_when_columns_shared_between_frames_then_same_cells_as_computed_afresh():
    """A column's cells come from a cache keyed by its dot row and its neighbours': a live tick
    that moves the last value must change the last two columns, and only as a fresh
    computation would (NaN gaps and the edges included)."""
    import random

    from tradeterm.ui.widgets.indicator_pane import line_dots

    rng = random.Random(7)
    nan = float("nan")
    values = [50 + rng.gauss(0, 15) for _ in range(120)]
    values[10:13] = [nan] * 3
    values[40] = 150.0  # outside the range: no dot
    for rows in (3, 6, 11):
        for _ in range(30):  # ticks of the live value, some steep
            values[-1] = rng.uniform(0, 100)
            got = line_dots(values, 0.0, 100.0, rows)
            assert [dict(c) for c in got] == reference_line_dots(values, 0.0, 100.0, rows)


def test_pane_rows_when_the_live_bar_ticks_then_equal_a_fresh_draw_and_untouched_rows_are_kept():
    """The pane keeps the last frame's row Strips where their cells did not change (the row
    memo): every frame must still equal a pane drawing from nothing, in every mode."""
    from dataclasses import replace

    from tradeterm.ui.widgets.indicator_pane import MODES

    for mode in MODES:
        candles = list(walk(160))
        pane = IndicatorPane(mode=mode)
        kept = 0
        previous: list = []
        for step in range(30):
            last = candles[-1]
            close = last.close + (0.7 if step % 3 else -1.1)
            candles[-1] = replace(last, close=close, high=max(last.high, close),
                                  low=min(last.low, close), volume=last.volume + 0.3)
            if step == 20:  # a bar closes
                candles.append(replace(candles[-1], open_time=last.open_time + MINUTE))
            pane._candles = tuple(candles)
            fresh = IndicatorPane(mode=mode)
            fresh._candles = tuple(candles)
            lines = list(pane.build_lines(90, 8))
            assert lines == list(fresh.build_lines(90, 8)), (mode, step)
            kept += sum(1 for a, b in zip(lines, previous, strict=False) if a is b)
            previous = lines
        assert kept > 30, mode  # rows away from the live bar are the last frame's Strips
