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
