"""The status bar line: feed state, quiet streams, the PAPER/LIVE badge."""

from __future__ import annotations

from tradeterm.core.models import (
    EnginePhase,
    EngineSnapshot,
    FeedStatus,
    MarketSnapshot,
    StreamHealth,
)
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.status import status_text

NOW = 1_700_000_000_000


def snap(last_message_ms: int, status: FeedStatus = FeedStatus.CONNECTED, mode: str = "paper"):
    return EngineSnapshot(
        seq=1, phase=EnginePhase.RUNNING, exchange="binance", mode=mode, demo=False,
        symbols=("BTC/USDT",), symbol="BTC/USDT", timeframe="1m",
        market=MarketSnapshot(symbol="BTC/USDT", timeframe="1m"),
        streams=(StreamHealth("book", "BTC/USDT", status, last_message_ms, latency_ms=3.0),),
    )


def test_fresh_stream_shows_live_and_latency_without_an_age() -> None:
    line = status_text(snap(NOW - 400), NOW, TradingColors(), 120).plain
    assert "● live 3ms" in line
    assert "ago" not in line
    assert "PAPER" in line and "LIVE " not in line


def test_quiet_stream_shows_how_long_ago_in_whole_seconds() -> None:
    line = status_text(snap(NOW - 3_400), NOW, TradingColors(), 120).plain
    assert "● live 3ms 3s ago" in line
    stale = status_text(snap(NOW - 12_000, FeedStatus.STALE), NOW, TradingColors(), 120).plain
    assert "● stale 3ms 12s ago" in stale


def test_live_mode_shows_the_live_badge_not_paper() -> None:
    line = status_text(snap(NOW, mode="live"), NOW, TradingColors(), 120).plain
    assert " LIVE " in line and "PAPER" not in line


def test_trading_state_when_active_then_nothing_shown() -> None:
    line = status_text(snap(NOW), NOW, TradingColors(), 120).plain
    assert "ACTIVE" not in line and "HALTED" not in line and "REDUCING" not in line


def test_trading_state_when_reducing_or_halted_then_badge_in_its_colour_and_reason_as_tooltip():
    from dataclasses import replace

    from rich.console import Console

    from tradeterm.ui.widgets.status import trading_tooltip

    colors = TradingColors(warning="#aa7700", error="#cc0000")
    reducing = replace(snap(NOW), trading_state="reducing", trading_reason="daily loss limit")
    text = status_text(reducing, NOW, colors, 120)
    start = text.plain.index(" REDUCING ")
    assert text.get_style_at_offset(Console(), start + 1).bgcolor.name == "#aa7700"
    halted = replace(snap(NOW), trading_state="halted", trading_reason="kill switch (K)")
    text = status_text(halted, NOW, colors, 120)
    style = text.get_style_at_offset(Console(), text.plain.index(" HALTED ") + 1)
    assert style.bold and style.bgcolor.name == "#cc0000"
    assert "PAPER" in text.plain  # the mode badge stays
    assert trading_tooltip(halted) == "Trading HALTED: kill switch (K)"
    assert trading_tooltip(snap(NOW)) is None


def test_replay_when_set_then_speed_pause_mark_and_bar_time_shown() -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from tradeterm.core.models import ReplayStatus

    at = int(datetime(2024, 3, 1, 12, 0, tzinfo=UTC).timestamp() * 1000)
    paused = replace(snap(NOW), replay=ReplayStatus(paused=True, speed=4.0, position_ms=at))
    line = status_text(paused, NOW, TradingColors(), 120).plain
    assert "REPLAY  4x ⏸ 2024-03-01 12:00" in line and "UTC" in line
    playing = replace(paused, replay=ReplayStatus(paused=False, speed=0.5, position_ms=at))
    assert "0.5x ▶" in status_text(playing, NOW, TradingColors(), 120).plain
    done = replace(paused, replay=ReplayStatus(paused=False, speed=1.0, finished=True))
    assert "1x END" in status_text(done, NOW, TradingColors(), 120).plain


def test_narrow_when_replaying_and_halted_then_everything_that_matters_fits_in_80() -> None:
    from dataclasses import replace

    from tradeterm.core.models import ReplayStatus

    busy = replace(snap(NOW), trading_state="halted",
                   replay=ReplayStatus(paused=True, speed=4.0, position_ms=NOW))
    line = status_text(busy, NOW, TradingColors(), 80).plain
    assert len(line) == 80
    assert "REPLAY" in line and "HALTED" in line and "PAPER" in line and "BTC/USDT" in line


def test_status_bar_when_same_second_then_line_unchanged() -> None:
    """The clock ticks in whole seconds: frames within one second produce the same line."""
    a = status_text(snap(NOW), NOW + 10, TradingColors(), 120)
    b = status_text(snap(NOW), NOW + 900, TradingColors(), 120)
    assert a == b


async def test_status_bar_when_engine_halts_then_badge_shown_and_reason_on_hover(tmp_path):
    from dataclasses import replace

    from fake_engine import FakeEngine
    from ui_helpers import screen_text, wait_for

    from tradeterm.config import Settings
    from tradeterm.ui.app import TradetermApp
    from tradeterm.ui.widgets.status import StatusBar

    settings = Settings(data_dir=tmp_path)
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert "HALTED" not in screen_text(app).splitlines()[0]
        engine._snap = replace(engine._snap, seq=engine._snap.seq + 1, trading_state="halted",
                               trading_reason="daily loss limit 3 % reached")
        await wait_for(pilot, lambda: "HALTED" in screen_text(app).splitlines()[0])
        assert app.query_one(StatusBar).tooltip == "Trading HALTED: daily loss limit 3 % reached"


def test_an_attached_screen_says_so_and_a_read_only_one_says_it_cannot_act() -> None:
    from dataclasses import replace

    own = status_text(snap(NOW - 400), NOW, TradingColors(), 120).plain
    assert "ATTACHED" not in own and "READ-ONLY" not in own  # the engine runs in this process
    trader = status_text(replace(snap(NOW - 400), attached="trader"), NOW, TradingColors(), 120)
    assert " ATTACHED   PAPER " in trader.plain
    watcher = status_text(replace(snap(NOW - 400), attached="read-only"), NOW, TradingColors(),
                          120)
    assert " READ-ONLY   PAPER " in watcher.plain and "ATTACHED" not in watcher.plain


def test_replay_when_set_then_no_latency_nor_age_on_the_replay_clock() -> None:
    """During a replay the streams' times are the replay's (bars of 2024), not wall time: the
    replay's speed and clock take the latency's place, and no absurd "ago" shows."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from tradeterm.core.models import ReplayStatus

    at = int(datetime(2024, 3, 1, 12, 0, tzinfo=UTC).timestamp() * 1000)
    replaying = replace(snap(at - 10_000), replay=ReplayStatus(paused=False, speed=60.0,
                                                                position_ms=at))
    line = status_text(replaying, NOW, TradingColors(), 120).plain
    assert "● live" in line and "REPLAY  60x ▶ 2024-03-01 12:00" in line
    assert "ms" not in line and "ago" not in line
