"""The candle chart renderer: cells, colours, axes and the per-column cache."""

from __future__ import annotations

from dataclasses import replace

from rich.style import Style

from tradeterm.core.models import Candle
from tradeterm.ui.chart.axes import (
    PriceScale,
    axis_labels,
    candle_column,
    make_scale,
    time_axis,
    volume_column,
)
from tradeterm.ui.chart.render import ChartRenderer
from tradeterm.ui.themes import TradingColors

COLORS = TradingColors(up="#00ff00", down="#ff0000")
T0 = 1_700_006_400_000  # 2023-11-15 00:00 UTC


def cell(strip, x: int) -> tuple[str, Style | None]:
    """Character and style of column ``x`` of a rendered Strip."""
    seen = 0
    for segment in strip:
        if seen + len(segment.text) > x:
            return segment.text[x - seen], segment.style
        seen += len(segment.text)
    raise IndexError(x)


def test_candle_column_when_up_candle_then_body_between_open_and_close_and_wicks_outside():
    scale = PriceScale(lo=0.0, hi=10.0, rows=5)  # 10 half-rows of 1.0 each
    candle = Candle(T0, open=4.0, high=8.9, low=0.5, close=6.0, volume=1)
    column = candle_column(candle, scale)
    # half rows (1.0 each) top->bottom: wick 1-3, body 4-6 (6.0 down to 4.0), wick 7-9
    assert column == ("╻", "│", "█", "▀", "│")


def test_candle_column_when_doji_then_still_one_half_block_of_body():
    scale = PriceScale(lo=0.0, hi=10.0, rows=5)
    column = candle_column(Candle(T0, 5.0, 5.0, 5.0, 5.0, 0), scale)
    assert column.count(" ") == 4
    assert [c for c in column if c != " "] in (["▀"], ["▄"])


def test_render_when_known_candles_then_bodies_wicks_and_colours_in_expected_cells():
    candles = [
        Candle(T0, open=10.0, high=20.0, low=10.0, close=20.0, volume=5),  # up, full range
        Candle(T0 + 60_000, open=20.0, high=20.0, low=10.0, close=10.0, volume=10),  # down
    ]
    renderer = ChartRenderer()
    lines = renderer.render(candles, width=30, height=14, colors=COLORS, symbol="X/Y",
                            timeframe="1m")
    assert len(lines) == 14 and all(line.cell_length == 30 for line in lines)
    h = renderer.header_rows  # 30 columns: the readout wraps onto a second header line
    assert h == 2
    scale = renderer.scale
    assert scale == make_scale(candles, 14 - 1 - h - 2)
    axis_w = 30 - next(i for i in range(30) if cell(lines[h], i)[0] in "│┤◀")
    up_x, down_x = 30 - axis_w - 2, 30 - axis_w - 1
    top, bottom = h + scale.row(20.0), h + scale.row(10.0)
    for y in range(top + 1, bottom):
        assert cell(lines[y], up_x) == ("█", Style(color="#00ff00"))
        assert cell(lines[y], down_x) == ("█", Style(color="#ff0000"))
    for y in [*range(h, top), *range(bottom + 1, h + scale.rows)]:
        assert cell(lines[y], up_x)[0] == " " and cell(lines[y], down_x)[0] == " "
    assert "X/Y 1m" in lines[0].text
    header = lines[0].text + lines[1].text
    for field in ("00:01", "O20", "H20", "L10", "C10", "V10"):
        assert field in header


def test_render_when_last_price_then_axis_label_highlighted_on_its_row():
    candles = [Candle(T0 + i * 60_000, 100 + i, 101 + i, 99 + i, 100.5 + i, 1) for i in range(20)]
    lines = ChartRenderer().render(candles, width=60, height=20, colors=COLORS)
    marked = [line for line in lines if "◀119.50" in line.text]
    assert len(marked) == 1
    x = marked[0].text.index("◀")
    char, style = cell(marked[0], x)
    assert style.bgcolor is not None and style.bgcolor.name == "#00ff00"


def test_axis_labels_when_range_then_round_prices_about_every_three_rows():
    labels = axis_labels(PriceScale(lo=64_000.0, hi=65_000.0, rows=30))
    values = [float(v) for v in labels.values()]
    assert all(v % 100 == 0 for v in values)
    assert 64_000 in values and 65_000 in values
    assert 6 <= len(labels) <= 12
    by_row = [float(labels[row]) for row in sorted(labels)]
    assert by_row == sorted(by_row, reverse=True)  # higher prices on upper rows


def test_axis_labels_when_fractional_step_then_decimals_shown():
    labels = axis_labels(PriceScale(lo=0.5, hi=0.6, rows=15))
    assert {"0.50", "0.56", "0.60"} <= set(labels.values())


def test_make_scale_when_last_price_wiggles_inside_range_then_scale_unchanged():
    candles = [Candle(T0 + i * 60_000, 100, 102, 98, 101, 1) for i in range(10)]
    wiggled = candles[:-1] + [replace(candles[-1], close=101.3)]
    assert make_scale(candles, 20) == make_scale(wiggled, 20)
    broken = candles[:-1] + [replace(candles[-1], high=110, close=110)]
    assert make_scale(broken, 20) != make_scale(candles, 20)


def test_render_when_only_live_candle_changes_then_only_its_column_is_recomputed():
    candles = [Candle(T0 + i * 60_000, 100, 102, 98, 101, 1) for i in range(50)]
    renderer = ChartRenderer()
    renderer.render(candles, width=80, height=30, colors=COLORS)
    first = renderer.columns_computed
    assert first == 50
    for step in range(5):
        candles[-1] = replace(candles[-1], close=101 + (step + 1) * 0.1)
        renderer.render(candles, width=80, height=30, colors=COLORS)
    assert renderer.columns_computed == first + 5


def test_volume_column_when_half_of_max_then_half_the_rows_filled():
    assert volume_column(5, 10, 4) == (" ", " ", "█", "█")
    assert volume_column(0.01, 10, 4)[-1] == "▁"  # a trade is never invisible
    assert volume_column(0, 10, 4) == (" ",) * 4


def test_time_axis_when_one_minute_candles_then_labels_on_round_quarter_hours():
    candles = [Candle(T0 + i * 60_000, 1, 1, 1, 1, 1) for i in range(40)]
    line = time_axis(candles, 60_000)
    assert line[15:20] == "00:15" and line[30:35] == "00:30"
    assert line.split() == ["00:15", "00:30"]


def test_render_when_no_candles_then_message_shown():
    lines = ChartRenderer().render([], width=40, height=10, colors=COLORS, message="connecting")
    assert any("connecting" in line.text for line in lines)


def test_make_scale_when_price_wobbles_across_a_grid_line_then_the_wider_scale_is_kept():
    candles = [Candle(T0 + i * 60_000, 100, 102, 98, 101, 1) for i in range(10)]
    tight = make_scale(candles, 20)
    wider = make_scale(candles, 20, [tight.hi + 0.01], previous=tight)
    assert wider.hi > tight.hi  # the price left the scale: it grows
    back = make_scale(candles, 20, [tight.hi - 0.01], previous=wider)
    assert back == wider  # and stays while the price wobbles back under the old line
    assert make_scale(candles, 20, [tight.hi - 0.01]) == tight  # a fresh one would shrink


def test_make_scale_when_previous_is_far_too_wide_or_misses_a_price_then_a_fresh_one():
    candles = [Candle(T0 + i * 60_000, 100, 102, 98, 101, 1) for i in range(10)]
    fresh = make_scale(candles, 20)
    assert make_scale(candles, 20, previous=PriceScale(90.0, 110.0, 20)) == fresh
    assert make_scale(candles, 20, previous=PriceScale(99.0, 110.0, 20)) == fresh  # low out
    assert make_scale(candles, 20, previous=replace(fresh, rows=21)) == fresh
    assert make_scale(candles, 20, previous=replace(fresh, log=True)) == fresh


def test_render_when_ticks_and_bar_closes_then_every_frame_equals_a_fresh_render(monkeypatch):
    """The renderer keeps the last frame's columns and composes only the newest bar's on a
    tick: each frame must still be what a renderer with no memory draws (given the same
    starting scale), through ticks, new bars, overlays and a crosshair."""
    import random

    from tradeterm.ui.chart import render as render_module
    from tradeterm.ui.chart.overlays import Overlays
    from tradeterm.ui.chart.render import Crosshair

    dot_columns: list[int] = []
    real_dots = render_module._column_dots

    def counting(values, scale, columns):
        dot_columns.append(len(columns))
        return real_dots(values, scale, columns)

    monkeypatch.setattr(render_module, "_column_dots", counting)
    rng = random.Random(7)
    candles = [Candle(T0 + i * 60_000, 100.0, 100.5, 99.5, 100.0, 1.0) for i in range(120)]
    overlays = Overlays(("ema", "bollinger", "vwap", "smc"))
    renderer = ChartRenderer()
    for frame in range(300):
        last = candles[-1]
        if frame % 40 == 39:  # a bar closes
            candles.append(Candle(last.open_time + 60_000, last.close, last.close, last.close,
                                  last.close, 0.0))
        else:
            close = last.close + rng.gauss(0, 0.15)
            candles[-1] = replace(last, close=close, high=max(last.high, close),
                                  low=min(last.low, close), volume=last.volume + 0.5)
        overlays.update(tuple(candles))
        crosshair = Crosshair(30, 5) if 100 <= frame < 120 else None
        kwargs = dict(width=90, height=30, colors=COLORS, series=overlays.series,
                      zones=overlays.zones, crosshair=crosshair)
        fresh = ChartRenderer()
        fresh.scale = renderer.scale  # the scale it starts from, as the kept one does
        assert renderer.render(candles, **kwargs) == fresh.render(candles, **kwargs), frame
    incremental = sum(1 for n in dot_columns[::2] if n == 1)  # the kept renderer's calls
    assert incremental > 200  # most frames composed only the newest bar


def test_render_when_an_overlay_changes_on_closed_bars_then_their_dots_are_redrawn():
    import numpy as np

    from tradeterm.ui.chart.overlays import Series

    candles = [Candle(T0 + i * 60_000, 100.0, 101.0, 99.0, 100.0, 1.0) for i in range(40)]
    renderer = ChartRenderer()
    kwargs = dict(width=60, height=20, colors=COLORS)
    low = Series("vwap", np.full(40, 99.2))
    high = Series("vwap", np.full(40, 100.8))
    renderer.render(candles, series=(low,), **kwargs)
    fresh = ChartRenderer()
    fresh.scale = renderer.scale
    assert renderer.render(candles, series=(high,), **kwargs) == fresh.render(
        candles, series=(high,), **kwargs)
