"""The app against a fake engine: keys send the right commands, help lists every binding,
the unreachable screen offers the demo market, engine events and failures are shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_engine import FakeEngine
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.core.commands import Shutdown, SwitchSymbol, SwitchTimeframe, SwitchToDemo
from tradeterm.core.events import BookResynced, CommandIgnored, FeedStatusChanged
from tradeterm.core.models import EnginePhase, FeedStatus
from tradeterm.ui.app import TIMEFRAME_KEYS, TradetermApp
from tradeterm.ui.screens.help import HelpScreen


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(symbols=["BTC/USDT", "ETH/USDT", "SOL/USDT"], data_dir=tmp_path)


async def test_keys_when_pressed_then_engine_receives_the_matching_commands(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*[str(i) for i in range(1, 7)])
        await pilot.press("right_square_bracket", "right_square_bracket", "right_square_bracket")
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert engine.commands[:6] == [SwitchTimeframe(tf) for tf in TIMEFRAME_KEYS]
        assert engine.commands[6:] == [
            SwitchSymbol("ETH/USDT"),
            SwitchSymbol("SOL/USDT"),
            SwitchSymbol("BTC/USDT"),  # wraps around
            SwitchSymbol("SOL/USDT"),
        ]
        await pilot.press("q")
        await pilot.pause()
    assert engine.commands[-1] == Shutdown()
    assert app.return_code == 0


async def test_screen_when_engine_runs_then_status_chart_book_and_tape_show_it(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        engine.step()
        await wait_for(pilot, lambda: "Price" in screen_text(app) and "spread" in screen_text(app))
        text = screen_text(app)
        first = text.splitlines()[0]
        assert "BINANCE" in first and "BTC/USDT" in first and "1m" in first
        assert "PAPER" in first and "UTC" in first
        assert "● live" in first and "12ms" in first
        assert "◀" in text  # last price on the chart's axis
        assert "Time" in text  # tape header
        await pilot.press("3")
        await wait_for(pilot, lambda: " 15m " in screen_text(app).splitlines()[0])


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (100, 30)])
async def test_layout_when_small_terminal_then_chart_and_book_still_shown(settings, size):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=size) as pilot:
        engine.step()
        await wait_for(pilot, lambda: "spread" in screen_text(app))
        text = screen_text(app)
        assert "◀" in text and "BTC/USDT 1m" in text
        chart, book = app.query_one("#chart"), app.query_one("#book")
        assert chart.region.width >= 40 and book.region.height >= 8
        assert not chart.region.overlaps(book.region)
        tape = app.query_one("#tape")
        if tape.display:
            assert not tape.region.overlaps(book.region)
        assert len(text.splitlines()) == size[1]


async def test_help_when_question_mark_then_every_binding_listed(settings):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        descriptions = {row[1] for row in app.screen.rows}
        keys = " ".join(row[0] for row in app.screen.rows)
        for binding in TradetermApp.BINDINGS:
            assert binding.description in descriptions
            assert app.get_key_display(binding) in keys
        text = screen_text(app)
        assert "Next symbol" in text and "1d chart" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_command_palette_when_listing_then_every_binding_offered(settings):
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)):
        titles = {command.title for command in app.get_system_commands(app.screen)}
        for binding in TradetermApp.BINDINGS:
            assert binding.description in titles or binding.action == "quit"
        assert "Quit" in titles


async def test_unreachable_when_exchange_down_then_message_and_d_switches_to_demo(settings):
    engine = FakeEngine(settings, phase=EnginePhase.UNREACHABLE, error="connection refused")
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "Cannot reach" in screen_text(app))
        text = screen_text(app)
        assert "Cannot reach binance: connection refused" in text
        assert "press d to use the demo market" in text
        assert "Traceback" not in text
        await pilot.press("d")
        await wait_for(pilot, lambda: "◀" in screen_text(app))
        assert engine.commands == [SwitchToDemo()]
        assert "Cannot reach" not in screen_text(app)
        assert "DEMO" in screen_text(app).splitlines()[0]


async def test_d_when_exchange_reachable_then_nothing_is_sent(settings):
    engine = FakeEngine(settings)
    async with TradetermApp(settings, engine).run_test(size=(120, 40)) as pilot:
        await pilot.press("d")
        await pilot.pause()
    assert SwitchToDemo() not in engine.commands


async def test_events_when_feed_lost_and_restored_then_notified(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(engine.listeners))
        for status in (FeedStatus.CONNECTED, FeedStatus.RECONNECTING, FeedStatus.CONNECTED):
            engine.emit(FeedStatusChanged(1, "book", "BTC/USDT", status, reason="socket closed"))
        engine.emit(BookResynced(2, "BTC/USDT", "sequence gap"))
        await wait_for(pilot, lambda: len(app._notifications) >= 3)
        messages = [n.message for n in app._notifications]
        assert "BTC/USDT book feed lost: socket closed" in messages
        assert "BTC/USDT book feed restored" in messages
        assert "BTC/USDT order book resynced: sequence gap" in messages


async def test_events_when_streams_stopped_on_purpose_then_no_feed_lost_notice(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(engine.listeners))
        for status in (FeedStatus.CONNECTED, FeedStatus.STOPPED, FeedStatus.CONNECTED):
            engine.emit(FeedStatusChanged(1, "book", "BTC/USDT", status))
        engine.emit(CommandIgnored(2, command="SwitchSymbol", reason="binance does not list X/Y"))
        await wait_for(pilot, lambda: len(app._notifications) >= 1)
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert messages == ["binance does not list X/Y"]


class CrashingEngine(FakeEngine):
    async def run(self) -> None:
        raise RuntimeError("feed task died")


async def test_worker_when_engine_crashes_then_error_in_status_bar_and_notified(settings):
    app = TradetermApp(settings, CrashingEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "feed task died" in screen_text(app).splitlines()[0])
        assert any("RuntimeError: feed task died" in n.message for n in app._notifications)
        assert app.is_running  # the app stays up to show it


async def test_theme_when_unknown_name_then_warned_and_default_used(settings):
    settings = settings.model_copy(update={"theme": "no-such-theme"})
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.theme == "tradeterm-dark"
        assert any("no-such-theme" in n.message for n in app._notifications)


def test_ui_import_when_loaded_then_ccxt_and_simulator_not_imported():
    import subprocess
    import sys

    code = (
        "import sys, tradeterm.ui.app; "
        "bad = [m for m in sys.modules if m.split('.')[0] == 'ccxt' or m.startswith('tradeterm.sim')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_docs_keys_when_read_then_every_binding_is_documented():
    doc = (Path(__file__).parents[2] / "docs" / "keys.md").read_text()
    for binding in TradetermApp.BINDINGS:
        assert f"`{binding.id}`" in doc, binding.id
        assert f"`{binding.action}`" in doc, binding.action


def test_cannot_reach_when_engine_reason_repeats_the_prefix_then_said_once():
    from tradeterm.ui.app import cannot_reach

    said = cannot_reach("binance", "cannot reach binance: DNS failure")
    assert said == "Cannot reach binance: DNS failure"
    assert cannot_reach("okx", None) == "Cannot reach okx: no answer"


async def test_events_when_signal_and_strategy_failure_then_plain_notices(settings):
    from tradeterm.core.events import SignalEmitted, StrategyFailed
    from tradeterm.core.models import Signal

    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(engine.listeners))
        signal = Signal(
            strategy="ema_cross", symbol="BTC/USDT", timeframe="1m", bar_time=0, kind="entry",
            side="buy", entry=100.5, stop=99.0, targets=(102.0, 103.5), confidence=0.62,
            reasons=("ema9>ema21", "close>ema200"),
        )
        engine.emit(SignalEmitted(1, signal))
        engine.emit(StrategyFailed(2, strategy="confluence", reason="confluence.py:12: boom"))
        await wait_for(pilot, lambda: len(app._notifications) >= 2)
        notes = {n.message: n.severity for n in app._notifications}
        assert notes == {
            "BUY BTC/USDT 1m @ 100.50 stop 99.00 targets 102.00 / 103.50 · 62%: "
            "ema9>ema21, close>ema200": "information",
            "confluence disabled: confluence.py:12: boom": "error",
        }
