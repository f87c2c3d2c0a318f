"""The chart's readout (time, O, H, L, C, V) at every width, the folding legend, the header's
layout rules: pure functions first, then the real app (FakeEngine) through Pilot."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from fake_engine import FakeEngine
from test_ui_chart import COLORS
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.core.models import Candle
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.chart.header import (
    HeaderInput,
    HeaderPlan,
    bar_time,
    compact_volume,
    header_lines,
    legend_parts,
    plan_for,
    plan_header,
    short_tick,
)
from tradeterm.ui.chart.paint import Palette

D = Decimal
DAY = 86_400_000
BTC = Candle(1_765_117_800_000, 64990.1, 65010.0, 64980.2, 65002.9, 26_149.5)  # 2025-12-07 14:30
ALL_SERIES = ["ema_9", "ema_21", "ema_50", "vwap", "bb_upper", "bb_lower", "bb_middle"]

_FIELD = {
    "O": r"O ?(\d+(?:\.\d+)?)", "H": r"H ?(\d+(?:\.\d+)?)", "L": r"L ?(\d+(?:\.\d+)?)",
    "C": r"C ?(\d+(?:\.\d+)?)", "V": r"V ?(\d+(?:\.\d+)?[KMGT]?)",
}


def readout(text: str) -> dict[str, str]:
    """The readout's fields found in a header's text (time as HH:MM)."""
    found = {name: m.group(1) for name, pattern in _FIELD.items()
             if (m := re.search(r"(?<![A-Za-z])" + pattern, text))}
    if m := re.search(r"\b(\d\d:\d\d)\b", text):
        found["time"] = m.group(1)
    return found


def shows(text: str, value: float) -> bool:
    """``text`` is ``value`` at the precision it is printed with (``26.1K`` included)."""
    scale = {"K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}.get(text[-1], 1.0)
    digits = text.rstrip("KMGT")
    decimals = len(digits.partition(".")[2])
    return abs(float(digits) * scale - value) <= 0.5 * 10.0 ** -decimals * scale * (1 + 1e-9)


def assert_reads(text: str, bar: Candle) -> None:
    got = readout(text)
    assert set(got) == {"time", "O", "H", "L", "C", "V"}, text
    assert got["time"] == bar_time(bar.open_time, 60_000, short=True)
    for name, value in (("O", bar.open), ("H", bar.high), ("L", bar.low), ("C", bar.close),
                        ("V", bar.volume)):
        assert shows(got[name], value), (name, got[name], value, text)


# -- pure parts -----------------------------------------------------------------------------


def test_compact_volume_when_large_or_small_then_at_most_six_characters():
    assert compact_volume(9.08817) == "9.088"
    assert compact_volume(261.5) == "261.5"
    assert compact_volume(26_149.5) == "26.1K"
    assert compact_volume(999_600) == "1M"  # not "1e+03K"
    assert compact_volume(1_234_567) == "1.23M"
    assert compact_volume(0.012345) == "0.0123"


def test_short_tick_when_abbreviating_then_fewer_decimals_never_the_integer_part():
    assert short_tick(65002.9, D("0.01")) == D("1")
    assert short_tick(100.19, D("0.01")) == D("0.1")
    assert short_tick(99.99, D("0.01")) == D("0.01")  # four digits already
    assert short_tick(0.1234567, D("0.0001")) == D("0.0001")  # never finer than the tick
    assert short_tick(650_020.0, D("10")) == D("10")  # a coarser tick stays the grid


def test_bar_time_when_intraday_or_daily_then_time_or_date():
    assert bar_time(BTC.open_time, 60_000, short=False) == "12-07 14:30"
    assert bar_time(BTC.open_time, 60_000, short=True) == "14:30"
    assert bar_time(BTC.open_time, DAY, short=False) == "2025-12-07"
    assert bar_time(BTC.open_time, DAY, short=True) == "12-07"


def test_plan_when_narrower_then_readout_abbreviated_legend_folded_title_moved_then_wrapped():
    titles = [" BTC/USDT 1m", " BTC 1m", ""]
    readouts = [60, 50, 40, 35]
    assert plan_header(200, titles, readouts, 30, two_lines=True) == HeaderPlan(0, 0, 1)
    # the legend stays on the line by abbreviating the readout first
    assert plan_header(12 + 50 + 30, titles, readouts, 30, two_lines=True) == HeaderPlan(0, 1, 1)
    # no room for it: a second line, the readout as verbose as fits beside the title
    assert plan_header(70, titles, readouts, 30, two_lines=True) == HeaderPlan(0, 1, 2)
    # the title moves down to the legend's line before the readout loses anything more
    assert plan_header(45, titles, readouts, 30, two_lines=True) == \
        HeaderPlan(0, 2, 2, title_below=True)
    # a short chart: one line, the title shrinks, then goes
    assert plan_header(45, titles, readouts, 30, two_lines=False) == HeaderPlan(1, 3, 1)
    assert plan_header(36, titles, readouts, 30, two_lines=False) == HeaderPlan(2, 3, 1)
    # narrower than the readout: it wraps, the legend gets a third line
    assert plan_header(30, titles, readouts, 30, two_lines=True) == \
        HeaderPlan(0, 3, 3, wrap=True)
    assert plan_header(30, titles, readouts, 0, two_lines=True) == \
        HeaderPlan(0, 3, 2, wrap=True)
    assert plan_header(80, titles, readouts, 0, two_lines=True) == HeaderPlan(0, 0, 1)


def _head(candle: Candle, legend: bool = True) -> HeaderInput:
    palette = Palette.of(COLORS)
    return HeaderInput(
        "BTC/USDT", "1m", candle, 60_000, D("0.01"), D("0.00001"), 64_900.0, 65_100.0,
        30_000.0, legend=tuple(legend_parts(ALL_SERIES, True, palette)) if legend else (),
        short_legend=tuple(legend_parts(ALL_SERIES, True, palette, short=True)) if legend
        else (),
    )


@pytest.mark.parametrize("width", [30, 36, 41, 49, 55, 62, 72, 80, 100, 120, 160, 200])
def test_header_when_any_width_then_every_readout_field_and_the_legend_are_there(width):
    h = _head(BTC)
    lines = header_lines(h, width, plan_for(h, width, two_lines=True))
    text = " ".join("".join(t for t, _ in line)[:width] for line in lines)  # as cropped
    assert_reads(text, BTC)
    # the folded legend, full or abbreviated
    assert ("EMA 9 21 50" in text or "E 9 21 50" in text) and "SMC" in text
    assert "VWAP" in text or "VW" in text


def test_header_when_wide_then_full_precision_change_and_date():
    h = _head(BTC)
    text = "".join(t for t, _ in header_lines(h, 200, plan_for(h, 200, two_lines=True))[0])
    assert "12-07 14:30 O 64990.10 H 65010.00 L 64980.20 C 65002.90 +0.02% V 26149.5000" \
        in text
    assert "EMA 9 21 50 BB 20 2 VWAP SMC" in text


def test_header_when_crosshair_reads_other_bars_then_layout_unchanged():
    """The layout comes from the prices in view, so moving the crosshair never changes the
    number of header lines (the candle area would jump under the mouse)."""
    bars = [Candle(BTC.open_time + i * 60_000, 64_900 + i, 65_000 + i, 64_900 + i, 64_950 + i,
                   v) for i, v in enumerate((0.5, 12.0, 26_149.5, 3.0))]
    for width in (41, 49, 80, 120):
        plans = {plan_for(_head(bar), width, two_lines=True) for bar in bars}
        assert len(plans) == 1
        widths = {len("".join(t for t, _ in header_lines(_head(bar), width, plan)[0]))
                  for bar in bars for plan in plans}
        assert len(widths) == 1  # padded: the legend after it stays put


# -- the app --------------------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(symbols=["BTC/USDT", "ETH/USDT", "SOL/USDT"], data_dir=tmp_path)


def _header_text(chart) -> str:
    return " ".join(chart.render_line(y).text for y in range(chart.renderer.header_rows))


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (240, 70)])
async def test_readout_when_crosshair_on_a_past_bar_then_all_its_fields_at_every_size(
    settings, size
):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=size) as pilot:
        engine.step()
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        await pilot.press("o", "v", "z")  # all four overlays on: the longest header
        chart = app._chart
        await wait_for(pilot, lambda: "SMC" in _header_text(chart))
        live = chart.view.bars[-1]
        assert_reads(_header_text(chart), live)  # no crosshair: the live bar
        chart.focus()
        await pilot.press("right", *["left"] * 7)
        bar = chart.view.bar_at(chart.crosshair.column)
        assert bar == chart.view.bars[-8] and bar != live
        text = _header_text(chart)
        assert_reads(text, bar)
        assert readout(text)["time"] != bar_time(live.open_time, 60_000, short=True)
        assert "EMA" in text or "E 9" in text  # the legend is still there
        await pilot.press("escape")
        assert_reads(_header_text(chart), chart.view.bars[-1])


async def test_legend_when_all_overlays_on_at_120x40_then_it_folds_and_names_them(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        engine.step()
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        chart = app._chart
        assert chart.renderer.header_rows == 1  # EMA alone fits beside the readout
        await pilot.press("o", "v", "z")
        await wait_for(pilot, lambda: chart.renderer.header_rows == 2)
        text = _header_text(chart)
        for name in ("EMA 9 21 50", "BB 20 2", "VWAP", "SMC"):
            assert name in text
        assert_reads(chart.render_line(0).text, chart.view.bars[-1])  # line 1: the readout
        scale = chart.renderer.scale
        row = next(y for y in range(chart.size.height) if "◀" in chart.render_line(y).text)
        assert row == 2 + scale.row(chart.view.bars[-1].close)  # the candle area moved down


async def test_mouse_when_the_header_folds_then_crosshair_row_counts_from_the_candle_area():
    from chart_fixtures import ChartApp, walk

    from tradeterm.ui.chart.render import Crosshair
    from tradeterm.ui.widgets.chart import CandleChart

    app = ChartApp()
    async with app.run_test(size=(60, 30)) as pilot:
        chart = app.query_one(CandleChart)
        for name in ("bollinger", "vwap", "smc"):
            chart.toggle_overlay(name)
        app.show(walk(200))
        await wait_for(pilot, lambda: chart.view is not None)
        assert chart.renderer.header_rows == 2
        await pilot.hover(chart, offset=(10, 6))
        assert chart.crosshair == Crosshair(10, 4)
        await pilot.hover(chart, offset=(10, 1))  # on the header's second line: no crosshair move
        assert chart.crosshair == Crosshair(10, 4)
        row = chart.render_line(2 + 4).text
        assert "─" in row[: chart.view.plot_width]  # drawn where the mouse is
