"""Two indicator panes in the real app (the tests' FakeEngine): keys, the palette, per-symbol
memory kept in ui-state.json, reference values of ATR and relative volume, a strategy's
declared column from the engine's ``strategy.plots`` request, the compact chart tab."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import talib
from fake_engine import FakeEngine
from test_ui_palette import run_palette
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.core.models import StrategyHealth, StrategyState
from tradeterm.indicators.frame import candles_frame
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.fmt import fmt_price, fmt_size
from tradeterm.ui.palette import palette_entries
from tradeterm.ui.widgets.chart import CandleChart
from tradeterm.ui.widgets.indicator_pane import NO_PLOT_VALUES, IndicatorPane


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(symbols=["BTC/USDT", "ETH/USDT", "SOL/USDT"], data_dir=tmp_path)


def panes(app: TradetermApp) -> tuple[IndicatorPane, IndicatorPane]:
    return (app.query_one("#indicator", IndicatorPane),
            app.query_one("#indicator2", IndicatorPane))


def header(pane: IndicatorPane) -> str:
    return pane.render_line(0).text.strip()


async def ready(pilot, app: TradetermApp) -> None:
    await wait_for(pilot, lambda: app.query_one(CandleChart).view is not None
                   and panes(app)[0].render_line(0).text.startswith(" RSI 14 "))


async def test_two_panes_show_their_names_and_values_and_the_chart_keeps_60_percent(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        first, second = panes(app)
        assert not second.display or second.region.height == 0  # off at start
        await pilot.press("P")  # second pane on: the choice after pane 1's
        await wait_for(pilot, lambda: second.region.height > 0)
        assert header(second).startswith("MACD 12 26 9")
        await pilot.press("I")
        await wait_for(pilot, lambda: header(second).startswith("ATR 14"))
        candles = engine.snapshot().market.candles
        frame = candles_frame(candles)
        high, low, close = (frame.get_column(c).to_numpy() for c in ("high", "low", "close"))
        atr = talib.ATR(high, low, close, timeperiod=14)
        rsi = talib.RSI(close, timeperiod=14)
        text = screen_text(app)
        assert f" RSI 14  {rsi[-1]:.1f}" in text
        assert f" ATR 14  {fmt_price(float(atr[-1]))}" in text
        chart = app.query_one(CandleChart).region.height
        column = chart + first.outer_size.height + second.outer_size.height
        assert chart >= 0.6 * column, (chart, column)
        assert first.region.height >= 4 and second.region.height >= 4  # header + 3 rows each


async def test_keys_cycle_pane_1_and_pane_2_and_p_turns_pane_2_off(settings):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        first, second = panes(app)
        alone = app.query_one(CandleChart).region.height
        for head in ("MACD 12 26 9", "ATR 14", "Volume", "RVol 20", "RSI 14"):
            await pilot.press("i")
            await wait_for(pilot, lambda head=head: header(first).startswith(head))
        await pilot.press("I")  # pane 2 comes on, after pane 1's RSI
        await wait_for(pilot, lambda: second.region.height > 0)
        await pilot.press("I", "I")
        await wait_for(pilot, lambda: header(second).startswith("Volume"))
        assert header(first).startswith("RSI 14")
        await pilot.press("P")
        await wait_for(pilot, lambda: second.region.height == 0)
        await wait_for(pilot, lambda: app.query_one(CandleChart).region.height == alone)


async def test_palette_pane_commands_set_either_pane(settings):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        first, second = panes(app)
        titles = {e.title for e in palette_entries(app)}
        assert {"Pane 1: ATR 14", "Pane 2: RVol 20", "Pane 2: Volume", "Pane 2: off"} <= titles
        await run_palette(pilot, app, "Pane 2: Volume", "Pane 2: Volume")
        await wait_for(pilot, lambda: second.region.height > 0
                       and header(second).startswith("Volume"))
        await run_palette(pilot, app, "Pane 1: RVol", "Pane 1: RVol 20")
        await wait_for(pilot, lambda: header(first).startswith("RVol 20"))
        await run_palette(pilot, app, "Pane 2: off", "Pane 2: off")
        await wait_for(pilot, lambda: second.region.height == 0)


async def switch(pilot, app: TradetermApp, key: str, symbol: str) -> None:
    await pilot.press(key)
    await wait_for(pilot, lambda: app._panes.symbol == symbol)
    await pilot.pause()


async def test_panes_are_remembered_per_symbol_and_across_runs(settings, tmp_path):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        first, second = panes(app)
        app._panes.set(1, "atr")
        app._panes.set(2, "volume")  # BTC: ATR + volume
        await switch(pilot, app, "right_square_bracket", "ETH/USDT")
        assert (first.mode, second.mode, app._panes.second_on) == ("atr", "volume", True)
        await pilot.press("i", "P")  # ETH: volume, pane 2 off
        await pilot.pause()
        await switch(pilot, app, "right_square_bracket", "SOL/USDT")
        await switch(pilot, app, "left_square_bracket", "ETH/USDT")
        assert (first.mode, app._panes.second_on) == ("volume", False)
        await wait_for(pilot, lambda: second.region.height == 0)
        await switch(pilot, app, "left_square_bracket", "BTC/USDT")
        assert (first.mode, second.mode, app._panes.second_on) == ("atr", "volume", True)
        await wait_for(pilot, lambda: header(second).startswith("Volume")
                       and header(first).startswith("ATR 14"))
    stored = json.loads((tmp_path / "ui-state.json").read_text())
    assert stored["panes"]["BTC/USDT"] == ["atr", "volume"]
    assert stored["panes"]["ETH/USDT"] == ["volume", None]

    again = TradetermApp(settings, FakeEngine(settings))  # a new run: BTC as it was left
    async with again.run_test(size=(120, 40)) as pilot:
        first, second = panes(again)
        await wait_for(pilot, lambda: header(first).startswith("ATR 14")
                       and second.region.height > 0 and header(second).startswith("Volume"))


async def test_a_corrupt_state_file_is_one_notice_and_is_rewritten(settings, tmp_path):
    (tmp_path / "ui-state.json").write_text('{"panes": {"BTC/USDT": [1, 2')
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        notices = [n for n in app.notices.newest_first() if "ui-state.json" in n.text]
        assert len(notices) == 1 and "unreadable" in notices[0].text
        await pilot.press("i")
        await wait_for(pilot, lambda: header(panes(app)[0]).startswith("MACD"))
    stored = json.loads((tmp_path / "ui-state.json").read_text())
    assert stored == {"panes": {"BTC/USDT": ["macd", None]}}


async def test_atr_and_relative_volume_equal_the_references_for_the_fake_candles(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        first, second = panes(app)
        app._panes.set(1, "atr")
        app._panes.set(2, "rvol")
        await wait_for(pilot, lambda: header(second).startswith("RVol 20"))
        candles = engine.snapshot().market.candles
        frame = candles_frame(candles)
        arrays = {c: frame.get_column(c).to_numpy() for c in ("high", "low", "close")}
        atr = talib.ATR(arrays["high"], arrays["low"], arrays["close"], timeperiod=14)
        np.testing.assert_array_equal(first.values_for(candles)["atr"], atr)
        rvol = frame.select(
            pl.col("volume") / pl.col("volume").shift(1).rolling_mean(20)
        ).to_series().fill_null(np.nan).to_numpy()
        got = second.values_for(candles)["rvol"]
        np.testing.assert_allclose(got, rvol, rtol=1e-9, equal_nan=True)
        assert np.isnan(got[19]) and not np.isnan(got[20])
        assert header(first) == f"ATR 14  {fmt_price(float(atr[-1]))}"
        assert header(second) == f"RVol 20  {rvol[-1]:.2f}x"
        app._panes.set(2, "volume")
        await wait_for(pilot, lambda: header(second).startswith("Volume"))
        assert header(second) == f"Volume  {fmt_size(candles[-1].volume, 7)}"


class PlotStore:
    """The engine's side of ``strategy.plots`` (``StrategyEngine.plots``) on fixed values:
    the request handler and the codec between it and the screen are the real ones."""

    def __init__(self, values: dict[int, float]) -> None:
        self.values = values
        self.asked: list[int | None] = []

    def plots(self, name, symbol, timeframe, since=None):
        self.asked.append(since)
        if name != "plotter" or symbol != "BTC/USDT" or timeframe != "1m":
            return None
        times = tuple(t for t in sorted(self.values) if since is None or t >= since)
        return times, {"fast_ema": tuple(self.values[t] for t in times)}


async def test_a_strategy_declared_column_is_offered_and_shows_the_engines_values(settings):
    engine = FakeEngine(settings)
    candles = engine.snapshot().market.candles
    store = PlotStore({c.open_time: c.close - 1.0 for c in candles[-60:-1]})  # closed bars
    engine.strategies = store
    health = StrategyHealth("plotter", StrategyState.ENABLED, plots=("fast_ema",),
                            last_run_ms=1)
    engine._snap = replace(engine._snap, seq=engine._snap.seq + 1, strategies=(health,))
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot, app)
        _, second = panes(app)
        assert "Pane 2: plotter fast_ema" in {e.title for e in palette_entries(app)}
        await pilot.press("I", *"IIII")  # pane 2 on (MACD), then ATR, volume, RVol, plotter
        await wait_for(pilot, lambda: header(second).startswith("plotter fast_ema"))
        shown = fmt_price(candles[-2].close - 1.0)
        await wait_for(pilot, lambda: header(second) == f"plotter fast_ema  {shown}")
        view = app.query_one(CandleChart).view
        oldest = view.candles[view.groups[0][0]].open_time
        assert oldest > candles[0].open_time  # 150 candles, fewer columns: a window
        assert store.asked == [oldest]  # only the chart's window
        # the strategy ran again: the screen asks for what it lacks only
        store.values[candles[-1].open_time] = candles[-1].close + 5.0
        engine._snap = replace(engine._snap, seq=engine._snap.seq + 1,
                               strategies=(replace(health, last_run_ms=2),))
        shown = fmt_price(candles[-1].close + 5.0)
        await wait_for(pilot, lambda: header(second) == f"plotter fast_ema  {shown}")
        assert store.asked == [oldest, candles[-2].open_time]
        await pilot.press("comma")  # scrolled back: the older values are asked for
        await wait_for(pilot, lambda: len(store.asked) == 3)
        view = app.query_one(CandleChart).view
        assert store.asked[2] == view.candles[view.groups[0][0]].open_time < oldest
        await pilot.press("0")
        await pilot.press("2")  # 5m: the strategy has no values there
        await wait_for(pilot, lambda: header(second).startswith(f"plotter fast_ema  {NO_PLOT_VALUES[:30]}"))


async def test_compact_chart_tab_shows_both_panes_and_other_tabs_none(settings):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.query_one(CandleChart).view is not None)
        first, second = panes(app)
        await pilot.press("P")
        app.show_panel("chart")
        await wait_for(pilot, lambda: first.region.height > 0 and second.region.height > 0)
        assert header(second).startswith("MACD")
        assert app.query_one(CandleChart).region.height >= 8
        app.show_panel("book")
        await wait_for(pilot, lambda: first.region.height == 0 and second.region.height == 0)
