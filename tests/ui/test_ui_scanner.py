"""The market scanner screen with the UI tests' engine (its answers come from the engine's own
request handlers, ``service/market_requests.py``, over the fake's made-up venue): opened from
the palette, each sort key, enter to the chart, ``a`` to the watchlist."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import FakeEngine
from test_ui_palette import run_palette
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.core.commands import AddToWatchlist, SwitchSymbol
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.screens.scanner import ScannerScreen


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(symbols=["BTC/USDT", "ETH/USDT"], data_dir=tmp_path)


def shown(app: TradetermApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, ScannerScreen)
    return [row.symbol for row in screen.rows]


async def test_scanner_sorts_opens_and_adds_from_the_keyboard(settings: Settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_palette(pilot, app, "Screen: Scanner", "Screen: Scanner")
        await wait_for(pilot, lambda: isinstance(app.screen, ScannerScreen))
        # the fake venue, sorted: ADA BTC DOGE ETH/BTC ETH PEPE, the i-th with change i-2 %,
        # volume 1000*(n-i), range (3i mod 5)+1 %; ETH/BTC is not quoted in USDT
        by_change = ["PEPE/USDT", "ETH/USDT", "DOGE/USDT", "BTC/USDT", "ADA/USDT"]
        await wait_for(pilot, lambda: shown(app) == by_change)
        await pilot.press("v")
        await wait_for(pilot, lambda: shown(app) == by_change[::-1])
        await pilot.press("r")
        by_range = ["BTC/USDT", "ETH/USDT", "DOGE/USDT", "ADA/USDT", "PEPE/USDT"]
        await wait_for(pilot, lambda: shown(app) == by_range)
        assert "Range % ▼" in screen_text(app)
        await pilot.press("u")  # every quote: ETH/BTC too
        await wait_for(pilot, lambda: "ETH/BTC" in shown(app))
        await pilot.press("u")
        await wait_for(pilot, lambda: "ETH/BTC" not in shown(app))
        await pilot.press("a")  # PEPE: the cursor stayed on it through every sort
        await wait_for(pilot, lambda: AddToWatchlist("PEPE/USDT") in engine.commands)
        assert engine.snapshot().symbols == ("BTC/USDT", "ETH/USDT", "PEPE/USDT")
        await wait_for(pilot, lambda: "★" in screen_text(app).split("PEPE/USDT")[0][-6:],
                       timeout=5)  # the star follows the watchlist at once, not at a rescan
        await pilot.press("up", "up", "enter")  # two rows above PEPE by range: DOGE
        await wait_for(pilot, lambda: SwitchSymbol("DOGE/USDT") in engine.commands)
        await wait_for(pilot, lambda: not isinstance(app.screen, ScannerScreen))
        await pilot.press("m")  # its key opens it too
        await wait_for(pilot, lambda: isinstance(app.screen, ScannerScreen))
