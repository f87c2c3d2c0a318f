"""Chart overlays: values from the project's indicators, toggles, legend, SMC zone bands."""

from __future__ import annotations

import numpy as np
import pytest
from chart_fixtures import MINUTE, ob_candles, walk
from test_ui_chart import COLORS, cell

from tradeterm.core.models import Candle
from tradeterm.indicators import ta
from tradeterm.indicators.frame import candles_frame
from tradeterm.indicators.vwap import vwap as session_vwap
from tradeterm.ui.chart import overlays as overlays_module
from tradeterm.ui.chart.glyphs import quarter_row
from tradeterm.ui.chart.overlays import BULL_OB, Overlays, Series
from tradeterm.ui.chart.paint import Palette
from tradeterm.ui.chart.render import ChartRenderer
from tradeterm.ui.themes import blend


def by_name(overlays: Overlays) -> dict[str, np.ndarray]:
    return {s.name: s.values for s in overlays.series}


def column(frame, name: str) -> np.ndarray:
    return frame.get_column(name).fill_null(np.nan).to_numpy()


def test_overlays_when_all_lines_on_then_values_equal_the_indicator_functions():
    candles = walk(300)
    overlays = Overlays(("ema", "bollinger", "vwap"))
    overlays.update(candles)
    got = by_name(overlays)
    frame = candles_frame(candles)
    expected = ta.bollinger(ta.ema(ta.ema(ta.ema(frame, 9), 21), 50), 20, 2.0)
    expected = session_vwap(expected)
    for name in ("ema_9", "ema_21", "ema_50", "vwap"):
        np.testing.assert_array_equal(got[name], column(expected, name))
    for band in ("upper", "middle", "lower"):
        np.testing.assert_array_equal(got[f"bb_{band}"], column(expected, f"bb_{band}_20_2"))
    assert got["ema_9"][100] == pytest.approx(float(expected["ema_9"][100]))


def test_overlays_when_live_candle_ticks_then_lines_follow_and_smc_is_not_recomputed(
    monkeypatch,
):
    calls = []
    real = overlays_module.compute_zones
    monkeypatch.setattr(overlays_module, "compute_zones",
                        lambda candles: calls.append(len(candles)) or real(candles))
    candles = list(walk(120))
    overlays = Overlays(("ema", "smc"))
    overlays.update(tuple(candles))
    for step in range(3):
        last = candles[-1]
        candles[-1] = Candle(last.open_time, last.open, last.high + 1, last.low,
                             last.close + step + 1, last.volume + 1)
        overlays.update(tuple(candles))
        expected = ta.ema(candles_frame(candles), 9)
        np.testing.assert_array_equal(by_name(overlays)["ema_9"], column(expected, "ema_9"))
    assert calls == [119]  # closed bars only, once
    candles.append(Candle(candles[-1].open_time + MINUTE, 100, 101, 99, 100, 1))
    overlays.update(tuple(candles))
    assert calls == [119, 120]  # a bar closed


def test_toggle_when_pressed_twice_then_off_again_and_unknown_name_refused():
    overlays = Overlays(("ema",))
    assert overlays.toggle("bollinger") is True
    assert overlays.toggle("ema") is False
    assert overlays.shown == {"bollinger"}
    assert overlays.toggle("bollinger") is False
    with pytest.raises(ValueError, match="unknown overlay"):
        overlays.toggle("ichimoku")


def test_render_when_overlays_on_then_legend_lists_them():
    candles = walk(100)
    overlays = Overlays(("ema", "vwap", "smc"))
    overlays.update(candles)
    header = ChartRenderer().render(candles, width=120, height=20, colors=COLORS,
                                    series=overlays.series, zones=overlays.zones)[0].text
    assert "EMA 9 21 50" in header and "VWAP" in header and "SMC" in header
    assert "BB" not in header


def test_render_when_line_series_then_dot_at_its_row_in_its_colour_and_scale_includes_it():
    candles = tuple(Candle(i * MINUTE, 100, 101, 99.5, 100.5, 1) for i in range(30))
    flat = Series("ema_9", np.full(30, 104.0))
    renderer = ChartRenderer()
    lines = renderer.render(candles, width=60, height=20, colors=COLORS, series=[flat])
    scale = renderer.scale
    assert scale.lo <= 99.5 and scale.hi >= 104.0  # the line is inside the scale
    q = quarter_row(104.0, scale.lo, scale.hi, scale.rows)
    x = renderer.view.plot_width - 1
    char, style = cell(lines[1 + q // 4], x)
    assert 0x2800 <= ord(char) <= 0x28FF  # a Braille dot
    assert style.color.name == Palette.of(COLORS).series["ema_9"]


def test_render_when_bullish_order_block_then_band_behind_its_rows_from_its_bar():
    candles = ob_candles()
    overlays = Overlays(("smc",))
    overlays.update(candles)
    assert [(z.kind, z.start, z.top, z.bottom) for z in overlays.zones[-1]] == [
        (BULL_OB, 11, 8.5, 6.5)
    ]
    renderer = ChartRenderer()
    lines = renderer.render(candles, width=50, height=30, colors=COLORS, zones=overlays.zones)
    scale, view = renderer.scale, renderer.view
    band = blend(COLORS.up, COLORS.background, 0.30).lower()
    top, bottom = scale.row(8.5), scale.row(6.5)

    def bg(x: int, row: int) -> str | None:
        style = cell(lines[1 + row], x)[1]
        return style.bgcolor.name if style is not None and style.bgcolor else None

    for index in range(11, len(candles)):
        x = view.column_of_index(index)
        assert [bg(x, r) for r in range(top, bottom + 1)] == [band] * (bottom - top + 1)
        assert bg(x, top - 1) is None and bg(x, bottom + 1) is None
    before = view.column_of_index(10)
    assert all(bg(before, r) is None for r in range(scale.rows))
