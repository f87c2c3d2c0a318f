"""Candles and a small app shared by the chart and indicator pane tests."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tradeterm.core.models import Candle
from tradeterm.ui.widgets.chart import CandleChart
from tradeterm.ui.widgets.indicator_pane import IndicatorPane

T0 = 1_700_006_400_000  # 2023-11-15 00:00 UTC, a round 10-minute boundary
MINUTE = 60_000

# A swing high at bar 5 (12), broken by the close of bar 13 (12.5): a bullish order block on
# bar 11, the last down-close candle before the break, zone [6.5, 8.5]. No fair value gaps.
OB_OHLC = [
    (5, 6, 4, 5.5), (6, 7, 5, 6.5), (7, 8, 6, 7.5), (8, 9, 7, 8.5), (9, 10, 8, 9.5),
    (10, 12, 8.9, 11),
    (11, 11, 9, 9.5), (9.5, 10, 8.5, 9), (9, 9.5, 8, 8.5), (8.5, 9, 7.5, 8), (8, 8.6, 7, 7.5),
    (8, 8.5, 6.5, 7),
    (7, 9.5, 6.8, 9.2),
    (9.2, 13, 8.4, 12.5),
    (12.5, 13.5, 9.4, 13), (13, 13.6, 12, 12.8), (12.8, 13.4, 12.2, 13.1), (13.1, 13.5, 12.6, 13.2),
]


def ob_candles() -> tuple[Candle, ...]:
    return tuple(
        Candle(T0 + i * MINUTE, o, h, lo, c, 1.0) for i, (o, h, lo, c) in enumerate(OB_OHLC)
    )


def walk(n: int, start: float = 100.0, seed: int = 1) -> tuple[Candle, ...]:
    """A seeded random walk of ``n`` one-minute candles from ``T0``."""
    import random

    rng = random.Random(seed)
    out, price = [], start
    for i in range(n):
        close = price + rng.gauss(0, 0.5)
        high = max(price, close) + abs(rng.gauss(0, 0.2))
        low = min(price, close) - abs(rng.gauss(0, 0.2))
        out.append(Candle(T0 + i * MINUTE, price, high, low, close, 1 + abs(rng.gauss(5, 2))))
        price = close
    return tuple(out)


class ChartApp(App[None]):
    """The chart over the indicator pane, as on the main screen."""

    CSS = "#chart { height: 1fr; } #indicator { height: 8; }"

    def compose(self) -> ComposeResult:
        yield CandleChart(id="chart")
        yield IndicatorPane(id="indicator")

    def show(self, candles: tuple[Candle, ...]) -> None:
        self.query_one(CandleChart).update_data(
            candles, symbol="X/Y", timeframe="1m", timeframe_ms=MINUTE
        )
