"""The market scanner in the real workstation: the app, the real in-process engine, the demo
simulator over loopback sockets (its quiet markets beside the three), and a real config file.

The scanner lists the venue by 24 h change, ``a`` adds the highlighted market to the watchlist:
the main screen's watchlist shows it, and the config file the engine was started with gains it
with every comment and other byte kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui.ui_helpers import screen_text, wait_for  # tests/ is on sys.path (tests/conftest.py)

from tradeterm.config import load_settings
from tradeterm.core.models import EnginePhase
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.screens.scanner import ScannerScreen
from tradeterm.ui.widgets.watchlist import Watchlist

pytestmark = pytest.mark.integration

CONFIG = """\
# tradeterm, my desk
symbols = ["BTC/USDT", "ETH/USDT"]  # what I watch
timeframe = "1m"

[strategies]
enabled = []  # trading by hand today
"""


def scanner(app: TradetermApp) -> ScannerScreen:
    screen = app.screen
    assert isinstance(screen, ScannerScreen)
    return screen


async def test_scanner_adds_a_quiet_market_to_the_watchlist_and_the_config_file(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    app = TradetermApp(load_settings(path, demo=True, data_dir=tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.engine is not None
                       and app.engine.snapshot().phase is EnginePhase.RUNNING, timeout=30)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, ScannerScreen), timeout=10)
        await wait_for(pilot, lambda: len(scanner(app).rows) > 20, timeout=20)
        rows = scanner(app).rows
        changes = [r.change_pct for r in rows]
        assert changes == sorted(changes, reverse=True)  # by 24 h change, largest first
        assert all(r.symbol.endswith("/USDT") for r in rows)  # the chart's quote currency
        # the first market not in the watchlist: walk the cursor down to it
        index, pick = next((i, r.symbol) for i, r in enumerate(rows)
                           if r.symbol not in ("BTC/USDT", "ETH/USDT"))
        for _ in range(index):
            await pilot.press("down")
        assert scanner(app).selected_symbol() == pick
        await pilot.press("a")
        await wait_for(pilot, lambda: pick in app.engine.snapshot().symbols, timeout=10)
        await wait_for(pilot, lambda: CONFIG.replace('"ETH/USDT"]', f'"ETH/USDT", "{pick}"]')
                       == path.read_text(), timeout=10)
        await wait_for(pilot, lambda: "★" in screen_text(app), timeout=10)  # marked watched
        await pilot.press("v")  # by quote volume now
        await wait_for(pilot, lambda: (s := scanner(app)).sort == "volume" and s.rows
                       and s.rows == sorted(s.rows, key=lambda r: -(r.quote_volume or 0)),
                       timeout=20)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ScannerScreen), timeout=10)
        watchlist = app.query_one(Watchlist)
        await wait_for(pilot, lambda: pick in [row.symbol for row in watchlist.rows], timeout=10)
        await wait_for(pilot, lambda: pick in screen_text(app), timeout=10)
        assert f"{pick} added to the watchlist (saved to {path})" in [
            n.text for n in app.notices.newest_first()]
        await pilot.press("q")
