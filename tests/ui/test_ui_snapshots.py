"""Visual regression: SVG screenshots of the main screen (120x40, 80x24 and 240x70), the
positions and orders tabs at 80x24, the order ticket and the help screen, compared with the
accepted ones in ``__snapshots__/``.

Everything on screen is fixed: the FakeEngine's seeded market with made-up panels, no engine
worker stepping it, and a frozen wall clock injected into the app. After a deliberate change of
the UI, look at the new screenshots and accept them:

    uv run --extra test pytest tests/ui/test_ui_snapshots.py --snapshot-update
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import T0, FakeEngine
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.ui.app import TradetermApp

FROZEN_S = T0 / 1000 + 150 * 60 + 42.0  # just after the last candle of the fake 1m history


def make_app(tmp_path: Path) -> TradetermApp:
    settings = Settings(symbols=["BTC/USDT", "ETH/USDT", "SOL/USDT"], data_dir=tmp_path)
    engine = FakeEngine(settings, seed=7, panels=True)
    return TradetermApp(settings, engine, clock=lambda: FROZEN_S)


async def settled(pilot) -> None:
    """Wait until the first snapshot is drawn (the chart's price axis and the book)."""
    app = pilot.app
    await wait_for(pilot, lambda: "◀" in screen_text(app) and "spread" in screen_text(app))
    await pilot.pause()


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_main_screen(snap_compare, tmp_path, size):
    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=settled)


def test_main_screen_240x70(snap_compare, tmp_path):
    """A big screen: the lower panels wide enough for every positions and orders column."""
    assert snap_compare(make_app(tmp_path), terminal_size=(240, 70), run_before=settled)


@pytest.mark.parametrize("panel", ["positions", "orders"])
def test_compact_trading_tab_80x24(snap_compare, tmp_path, panel):
    """At 80x24 the panels are tabs: the positions and orders tabs with the demo account's
    long under its bracket (stop and target legs), a short without a stop and a working limit."""

    async def tab(pilot) -> None:
        await settled(pilot)
        pilot.app.show_panel(panel)
        await wait_for(pilot, lambda: "uPnL%" in screen_text(pilot.app)
                       or "Filled/Qty" in screen_text(pilot.app))
        await pilot.pause()

    assert snap_compare(make_app(tmp_path), terminal_size=(80, 24), run_before=tab)


async def ticket_open(pilot) -> None:
    """The ticket drawn with its preview, its cursor not blinking: a blink timer that fires
    under load (a busy CI machine) would otherwise decide the cursor cell's colour."""
    from textual.widgets import Input

    await settled(pilot)
    await pilot.press("b")
    app = pilot.app
    await wait_for(pilot, lambda: "Enter places it" in screen_text(app))
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def test_order_ticket(snap_compare, tmp_path):
    assert snap_compare(make_app(tmp_path), terminal_size=(120, 40), run_before=ticket_open)


def test_help_screen(snap_compare, tmp_path):
    assert snap_compare(make_app(tmp_path), press=["question_mark"], terminal_size=(120, 40),
                        run_before=settled)
