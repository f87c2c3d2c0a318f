"""The app against the real engine and the built-in simulated market (demo mode)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.core.models import EnginePhase
from tradeterm.ui.app import TradetermApp

pytestmark = pytest.mark.integration

PRICE_ROW = re.compile(r"▏\s*\d+\.\d+\s+\d+\.\d+\s+\d+\.\d+")  # a book level: price size total


def demo_settings(tmp_path: Path) -> Settings:
    return Settings(demo=True, data_dir=tmp_path, symbols=["BTC/USDT", "ETH/USDT"])


def market_visible(app: TradetermApp) -> bool:
    text = screen_text(app)
    return "◀" in text and "spread" in text and len(PRICE_ROW.findall(text)) >= 4


async def test_demo_when_started_then_prices_book_and_keys_work(tmp_path: Path):
    app = TradetermApp(demo_settings(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: market_visible(app), timeout=30)
        status = screen_text(app).splitlines()[0]
        assert "BTC/USDT" in status and " 1m " in status and "DEMO" in status
        assert app.engine.snapshot().phase is EnginePhase.RUNNING

        await pilot.press("2")
        await wait_for(pilot, lambda: " 5m " in screen_text(app).splitlines()[0], timeout=20)

        def five_minute_candles() -> bool:
            candles = app.engine.snapshot().market.candles
            return len(candles) > 2 and candles[-1].open_time - candles[-2].open_time == 300_000

        await wait_for(pilot, five_minute_candles, timeout=20)
        await wait_for(pilot, lambda: "BTC/USDT 5m" in screen_text(app), timeout=20)

        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: "ETH/USDT" in screen_text(app).splitlines()[0], timeout=20)
        await wait_for(pilot, lambda: "ETH/USDT 5m" in screen_text(app), timeout=20)
        await wait_for(pilot, lambda: market_visible(app), timeout=20)

        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=10)
    assert app.engine.snapshot().phase is EnginePhase.STOPPED


async def test_demo_when_80x24_then_chart_and_book_shown(tmp_path: Path):
    app = TradetermApp(demo_settings(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: market_visible(app), timeout=30)
        text = screen_text(app)
        assert len(text.splitlines()) == 24
        assert "BTC/USDT 1m" in text
        await pilot.press("q")
