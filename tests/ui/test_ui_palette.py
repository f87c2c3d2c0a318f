"""The command palette, driven like a user: ctrl+p, type, enter; the engine receives the
command, the theme changes, the screen opens."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import FakeEngine
from textual.command import CommandPalette
from ui_helpers import wait_for

from tradeterm.config import Settings
from tradeterm.core.commands import StartStrategy, StopStrategy, SwitchSymbol, SwitchTimeframe
from tradeterm.core.models import StrategyHealth, StrategyState, TIMEFRAME_MS
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.palette import palette_entries
from tradeterm.ui.screens.history import HistoryScreen
from tradeterm.ui.screens.strategies import StrategiesScreen


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(symbols=["BTC/USDT", "ETH/USDT", "SOL/USDT"], data_dir=tmp_path)


def with_strategies(engine: FakeEngine) -> FakeEngine:
    from dataclasses import replace

    engine._snap = replace(engine._snap, strategies=(
        StrategyHealth("ema_cross", StrategyState.ENABLED),
        StrategyHealth("confluence", StrategyState.FAILED, last_error="boom"),
    ))
    return engine


async def run_palette(pilot, app: TradetermApp, query: str, title: str) -> None:
    """Open the palette, type ``query``, wait until ``title`` is the highlighted hit, enter."""
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
    await pilot.press(*query)

    def highlighted() -> str | None:
        from textual.command import CommandList

        options = app.screen.query_one(CommandList)
        index = options.highlighted
        if index is None or index >= options.option_count:
            return None
        return options.get_option_at_index(index).hit.text

    await wait_for(pilot, lambda: highlighted() == title)
    await pilot.press("enter")
    await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette))


async def test_entries_when_listed_then_symbols_timeframes_strategies_themes_screens(settings):
    engine = with_strategies(FakeEngine(settings))
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        titles = {entry.title for entry in palette_entries(app)}
    for symbol in settings.symbols:
        assert f"Symbol: {symbol}" in titles
    for tf in TIMEFRAME_MS:
        assert f"Timeframe: {tf}" in titles
    assert {"Stop strategy ema_cross", "Start strategy confluence"} <= titles
    assert "Start strategy ema_cross" not in titles  # only what makes sense now
    for name in ("tradeterm-dark", "tradeterm-light", "tradeterm-colorblind", "tradeterm-256"):
        assert f"Theme: {name}" in titles
    assert {"Screen: Main", "Screen: Journal", "Screen: Backtest"} <= titles


async def test_palette_when_symbol_typed_then_engine_switches_symbol(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_palette(pilot, app, "Symbol: SOL", "Symbol: SOL/USDT")
        await wait_for(pilot, lambda: SwitchSymbol("SOL/USDT") in engine.commands)


async def test_palette_when_timeframe_typed_then_engine_switches_timeframe(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_palette(pilot, app, "Timeframe: 4h", "Timeframe: 4h")
        await wait_for(pilot, lambda: SwitchTimeframe("4h") in engine.commands)


async def test_palette_when_strategy_entries_then_start_and_stop_sent(settings):
    engine = with_strategies(FakeEngine(settings))
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_palette(pilot, app, "Stop strategy ema", "Stop strategy ema_cross")
        await run_palette(pilot, app, "Start strategy conf", "Start strategy confluence")
        await wait_for(pilot, lambda: len(engine.commands) >= 2)
        assert engine.commands[-2:] == [StopStrategy("ema_cross"), StartStrategy("confluence")]


async def test_palette_when_theme_chosen_then_theme_and_market_colours_change(settings):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        before = app.market_colors
        await run_palette(pilot, app, "Theme: tradeterm-colorbl", "Theme: tradeterm-colorblind")
        await wait_for(pilot, lambda: app.theme == "tradeterm-colorblind")
        assert app.market_colors.up != before.up
        assert app.market_colors.up == app.get_theme("tradeterm-colorblind").variables[
            "trading-up"]


async def test_palette_when_screen_entries_then_screens_pushed_and_main_returns(settings):
    engine = with_strategies(FakeEngine(settings))
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_palette(pilot, app, "Screen: Journal", "Screen: Journal")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))
        await run_palette(pilot, app, "Screen: Main", "Screen: Main")
        await wait_for(pilot, lambda: app.screen is app.main_screen)
        await run_palette(pilot, app, "Screen: Strat", "Screen: Strategies")
        await wait_for(pilot, lambda: isinstance(app.screen, StrategiesScreen))


async def test_palette_when_binding_typed_then_its_action_runs(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_palette(pilot, app, "1h chart", "1h chart")
        await wait_for(pilot, lambda: SwitchTimeframe("1h") in engine.commands)


async def test_palette_finds_a_symbol_the_venue_lists_beyond_the_watchlist(settings):
    """Typing finds every symbol the engine says the venue lists (``market.symbols``), not only
    the watchlist's; before typing only the watchlist is offered (thousands on Binance)."""
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_palette(pilot, app, "Symbol: DOGE", "Symbol: DOGE/USDT")
        await wait_for(pilot, lambda: SwitchSymbol("DOGE/USDT") in engine.commands)
        from tradeterm.ui.palette import venue_symbols

        venue = await venue_symbols(app)
        entries = {e.title: e for e in palette_entries(app, venue)}
    assert "DOGE/USDT" not in settings.symbols and "PEPE/USDT" in venue
    assert not entries["Symbol: PEPE/USDT"].listed and entries["Symbol: SOL/USDT"].listed
