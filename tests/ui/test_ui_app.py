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


# -- keymap -----------------------------------------------------------------------------------


async def test_keymap_when_buy_remapped_then_new_key_works_and_help_shows_it(settings):
    settings = settings.model_copy(update={"keymap": {"order.buy": "B", "symbol.next": "n"}})
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("right_square_bracket")  # the old key of symbol.next does nothing now
        await pilot.press("n")
        await wait_for(pilot, lambda: SwitchSymbol("ETH/USDT") in app.engine.commands)
        assert app.engine.commands == [SwitchSymbol("ETH/USDT")]
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = {row[1]: row[0] for row in app.screen.rows}
        assert keys["Buy"] == "B" and keys["Next symbol"] == "n"
        assert keys["Sell"] == "s"  # the others keep theirs
        titles = {c.title: c.help for c in app.get_system_commands(app.main_screen)}
        assert titles["Buy"] == "key B"


async def test_keymap_when_two_bindings_share_a_key_then_warned_not_crashed(settings):
    settings = settings.model_copy(update={"keymap": {"order.buy": "s"}})
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("j")
        await wait_for(pilot, lambda: any("[keymap]" in n.message for n in app._notifications))
        assert app.is_running


def test_keymap_when_unknown_binding_id_then_config_error_names_file_key_and_ids(tmp_path):
    from tradeterm.config import ConfigError, load_settings
    from tradeterm.ui.keys import BINDING_IDS

    path = tmp_path / "config.toml"
    path.write_text('[keymap]\n"order.bye" = "B"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert str(path) in message and "'order.bye'" in message
    assert all(binding_id in message for binding_id in BINDING_IDS)
    assert {b.id for b in TradetermApp.BINDINGS} == set(BINDING_IDS)


def test_keymap_when_key_is_blank_then_config_error(tmp_path):
    from tradeterm.config import ConfigError, load_settings

    path = tmp_path / "config.toml"
    path.write_text('[keymap]\n"order.buy" = "ctrl b"\n')
    with pytest.raises(ConfigError, match="order.buy"):
        load_settings(path)
    path.write_text('[keymap]\n"order.buy" = "B, f5"\n')
    assert load_settings(path).keymap == {"order.buy": "B,f5"}


# -- strategies screen ------------------------------------------------------------------------


def engine_with_strategies(settings):
    from dataclasses import replace

    from tradeterm.core.models import StrategyHealth, StrategyState

    engine = FakeEngine(settings)
    engine._snap = replace(engine._snap, strategies=(
        StrategyHealth("ema_cross", StrategyState.ENABLED, last_duration_ms=1.25, signals=3),
        StrategyHealth("confluence", StrategyState.FAILED, last_error="confluence.py:12: boom"),
    ))
    return engine


async def test_strategies_when_enter_on_rows_then_stop_enabled_and_start_failed(settings):
    from tradeterm.core.commands import StartStrategy, StopStrategy
    from tradeterm.ui.screens.strategies import StrategiesScreen

    engine = engine_with_strategies(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, StrategiesScreen))
        text = screen_text(app)
        assert "ema_cross" in text and "enabled" in text and "1.2 ms" in text
        assert "confluence" in text and "failed" in text and "confluence.py:12: boom" in text
        await pilot.press("enter")
        await wait_for(pilot, lambda: StopStrategy("ema_cross") in engine.commands)
        assert not isinstance(app.screen, StrategiesScreen)
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, StrategiesScreen))
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: StartStrategy("confluence") in engine.commands)


async def test_strategies_when_escape_then_nothing_sent(settings):
    from tradeterm.ui.screens.strategies import StrategiesScreen

    engine = engine_with_strategies(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, StrategiesScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main_screen)
    assert engine.commands[:-1] == []  # only the Shutdown of quitting


# -- notifications audit ----------------------------------------------------------------------


async def test_events_when_fill_denial_halt_and_feed_loss_then_a_toast_for_each(settings):
    from dataclasses import replace
    from decimal import Decimal

    from tradeterm.core.events import OrderDenied, OrderFilled, TradingStateChanged
    from tradeterm.core.models import MarketPrecision
    from tradeterm.core.trading import Fill, Liquidity, Order, OrderRequest, OrderStatus, OrderType

    engine = FakeEngine(settings)
    precision = MarketPrecision(Decimal("0.1"), Decimal("0.001"), "BTC", "USDT")
    engine._snap = replace(engine._snap, markets={"BTC/USDT": precision})
    app = TradetermApp(settings, engine)
    request = OrderRequest("BTC/USDT", "buy", OrderType.MARKET, Decimal("0.01"))
    order = Order("o1", request, OrderStatus.FILLED, 1, 2, Decimal("0.01"), Decimal("100.5"))
    # the fill's exact price has more digits than the 0.1 tick: the toast shows the tick's
    fill = Fill("f1", "o1", "BTC/USDT", "buy", Decimal("100.4999999999"), Decimal("0.01"),
                Decimal("0.001"), Liquidity.TAKER, 2, strategy="ema_cross")
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(engine.listeners))
        engine.emit(OrderFilled(2, fill, order))
        engine.emit(OrderDenied(3, request, "daily loss limit reached (3 %)", "daily_loss_limit"))
        engine.emit(TradingStateChanged(4, "halted", "kill switch (K)"))
        engine.emit(FeedStatusChanged(5, "trades", "BTC/USDT", FeedStatus.CONNECTED))
        engine.emit(FeedStatusChanged(6, "trades", "BTC/USDT", FeedStatus.STALE, "no message"))
        await wait_for(pilot, lambda: len(app._notifications) >= 4)
        notes = {n.message: n.severity for n in app._notifications}
    assert notes["BOUGHT 0.010 BTC/USDT @ 100.5 (ema_cross)"] == "information"
    assert notes["buy 0.010 BTC/USDT denied: daily loss limit reached (3 %)"] == "warning"
    assert notes["Trading HALTED: kill switch (K)"] == "error"
    assert notes["BTC/USDT trades feed lost: no message"] == "warning"


# -- themes -----------------------------------------------------------------------------------


async def test_theme_when_configured_then_used_and_T_cycles_through_the_shipped_ones(settings):
    settings = settings.model_copy(update={"theme": "tradeterm-light"})
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.theme == "tradeterm-light"
        assert app.market_colors.up == app.get_theme("tradeterm-light").variables["trading-up"]
        seen = {app.theme}
        for _ in app.theme_names():
            await pilot.press("T")
            await pilot.pause()
            seen.add(app.theme)
        assert seen == set(app.theme_names())
        assert {"tradeterm-dark", "tradeterm-light", "tradeterm-colorblind",
                "tradeterm-256"} <= seen


def test_keymap_when_validated_then_textual_is_not_imported(tmp_path):
    """The headless engine loads the same config: checking [keymap] must not pull in the UI."""
    import subprocess
    import sys

    path = tmp_path / "config.toml"
    path.write_text('[keymap]\n"order.buy" = "B"\n')
    code = (
        "import sys; from pathlib import Path; from tradeterm.config import load_settings; "
        f"assert load_settings(Path({str(path)!r})).keymap == {{'order.buy': 'B'}}; "
        "sys.exit(1 if 'textual' in sys.modules else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_quit_when_keys_follow_then_no_screen_opens_while_shutting_down(settings):
    """`q` waits for the engine to close; keys typed meanwhile (a burst from the terminal) must
    not push screens onto an app that is exiting (the ticket crashed mounting during exit)."""
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        app._quitting = True  # what action_quit sets first
        await pilot.press("s", "j", "t")
        await pilot.pause()
        assert app.screen is app.main_screen
