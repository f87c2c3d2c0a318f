"""The main screen's footer at each width: whole hints only (``ui/footer.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import FakeEngine
from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel, KeyGroup
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.ui.app import TradetermApp

HINTS = ("123456 Timeframe", "[] Symbol", "b Buy", "s Sell", "K Kill switch", "j Journal",
         "S Strategies", "? Help", "q Quit")
"""The main screen's hints as a 120-column footer shows them, in order."""


def footer_line(app: TradetermApp) -> str:
    lines = screen_text(app).splitlines()
    return lines[-1] if lines else ""  # a screen just pushed is not laid out yet


def hints_shown(app: TradetermApp) -> list[str]:
    """The hints in the footer row, left of the palette's key."""
    left = footer_line(app).split("▏")[0]
    return [" ".join(part.split()) for part in left.split("  ") if part.strip()]


async def footer_at(tmp_path: Path, size: tuple[int, int]) -> tuple[list[str], str, bool]:
    settings = Settings(symbols=["BTC/USDT", "ETH/USDT", "SOL/USDT"], data_dir=tmp_path)
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: "Symbol" in footer_line(app))  # the hints are in
        await pilot.pause(0.2)  # fitted after a refresh
        footer = app.screen.query_one(Footer)
        palette = next(k for k in footer.query(FooterKey) if k.has_class("-command-palette"))
        inside = all(w.region.right <= palette.region.x
                     for w in footer.children if w.display and w is not palette
                     and isinstance(w, FooterKey | FooterLabel | KeyGroup))
        return hints_shown(app), footer_line(app), inside


@pytest.mark.parametrize("size", [(80, 24), (90, 30)])
async def test_at_80x24_the_footer_shows_whole_hints_help_and_the_palette(
        tmp_path: Path, size: tuple[int, int]):
    hints, line, inside = await footer_at(tmp_path, size)
    assert inside, line  # no hint runs under the palette's key (cut mid-label)
    assert all(h in HINTS for h in hints), (hints, line)  # every one whole
    assert "? Help" in hints and "q Quit" in hints and "b Buy" in hints, line
    assert "K Kill switch" in hints, line
    assert line.rstrip().endswith("^p palette"), line
    assert hints == [h for h in HINTS if h in hints]  # in their order: hidden, not moved


async def test_at_120x40_every_hint_shows(tmp_path: Path):
    hints, line, inside = await footer_at(tmp_path, (120, 40))
    assert hints == list(HINTS) and inside, line


async def test_when_the_terminal_narrows_and_widens_the_hints_follow(tmp_path: Path):
    settings = Settings(symbols=["BTC/USDT"], data_dir=tmp_path)
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "q Quit" in footer_line(app))
        await pilot.resize_terminal(80, 24)
        await wait_for(pilot, lambda: "Timeframe" not in footer_line(app))
        assert "? Help" in hints_shown(app)
        await pilot.resize_terminal(120, 40)
        await wait_for(pilot, lambda: hints_shown(app) == list(HINTS))


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_on_the_journal_screen_its_own_keys_show_first_and_whole(
        tmp_path: Path, size: tuple[int, int]):
    """The journal's footer listed its keys, then the main screen's, and was cut mid-label at
    120 columns (``S Str▏``)."""
    from tradeterm.ui.screens.history import HistoryScreen

    settings = Settings(symbols=["BTC/USDT"], data_dir=tmp_path)
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=size) as pilot:
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen)
                       and "Back" in footer_line(app))
        await pilot.pause(0.2)
        hints = hints_shown(app)
        own = ["esc Back", "r Refresh", "f Filter", "x Clear filter"]
        assert hints[:4] == own, footer_line(app)
        assert all(h in HINTS for h in hints[4:]), footer_line(app)  # the rest whole
        footer = app.screen.query_one(Footer)
        palette = next(k for k in footer.query(FooterKey) if k.has_class("-command-palette"))
        assert all(w.region.right <= palette.region.x for w in footer.children
                   if w.display and w is not palette), footer_line(app)


@pytest.mark.parametrize("action", ["scanner", "backtest"])
@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_on_the_scanner_and_backtest_screens_every_hint_shown_is_whole(
        tmp_path: Path, size: tuple[int, int], action: str):
    """Their footers listed their own keys and then the main screen's, cut at the edge."""
    settings = Settings(symbols=["BTC/USDT"], data_dir=tmp_path)
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.2)
        main = app.screen
        await app.run_action(action)
        await wait_for(pilot, lambda: app.screen is not main and "Back" in footer_line(app))
        await pilot.pause(0.2)
        footer = app.screen.query_one(Footer)
        palette = next(k for k in footer.query(FooterKey) if k.has_class("-command-palette"))
        assert all(w.region.right <= palette.region.x for w in footer.children
                   if w.display and w is not palette), footer_line(app)
        own = [h for h in hints_shown(app) if h not in HINTS]
        assert "esc Back" in own and hints_shown(app)[:len(own)] == own, footer_line(app)
