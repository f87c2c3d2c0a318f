"""What a trader sees when the venue is refused (a precision mode the core cannot read)."""

from __future__ import annotations

import dataclasses

from rich.style import Style

from tradeterm.core.models import EnginePhase, EngineSnapshot, MarketSnapshot
from tradeterm.exchange.markets import DECIMAL_PLACES, check_precision_mode
from tradeterm.ui.app import unreachable_text
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.status import status_text

NOW = 1_700_000_000_000
REASON = check_precision_mode("kraken", DECIMAL_PLACES)


def refused() -> EngineSnapshot:
    return EngineSnapshot(
        seq=1, phase=EnginePhase.REFUSED, exchange="kraken", mode="paper", demo=False,
        symbols=("BTC/USDT",), symbol="BTC/USDT", timeframe="1m",
        market=MarketSnapshot(symbol="BTC/USDT", timeframe="1m"), error=REASON,
    )


def test_the_status_bar_shows_refused_in_the_error_colour() -> None:
    colors = TradingColors()
    line = status_text(refused(), NOW, colors, 120)
    assert "● refused" in line.plain
    spans = [s for s in line.spans if line.plain[s.start:s.end].startswith("● refused")]
    assert spans and Style.parse(str(spans[0].style)).color == Style(color=colors.error).color


def test_the_main_area_shows_the_one_line_reason_and_offers_the_demo_market() -> None:
    text = unreachable_text(refused()).plain
    assert REASON is not None and text.startswith(REASON)
    assert "Cannot reach" not in text  # it was reached: the grid is the problem
    assert "press d to use the demo market" in text
    unreachable = dataclasses.replace(refused(), phase=EnginePhase.UNREACHABLE, error="timeout")
    assert unreachable_text(unreachable).plain.startswith("Cannot reach kraken: timeout")
