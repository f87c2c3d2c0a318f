"""Which candles the chart shows: the history window and the zoom aggregation.

A column shows one bar. At zoom 1 that is one candle; at zoom N it aggregates the candles of one
time bucket of ``N * timeframe`` (buckets aligned to the epoch, so 5 x 1m columns are the round
5-minute bars and do not reshuffle when a candle closes). The window ends at the newest candle
(live) or at an anchor: the open time of the candle the user scrolled to. Anchoring on a time
rather than an index keeps the same candles in view while new ones arrive and old ones drop off
the front of the engine's bounded candle list.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from tradeterm.core.models import Candle

ZOOM_LEVELS = (1, 2, 3, 5, 10)  # candles per column


def aggregate(candles: Sequence[Candle]) -> Candle:
    """One OHLCV bar from consecutive candles (open of the first, close of the last)."""
    if len(candles) == 1:
        return candles[0]
    return Candle(
        candles[0].open_time,
        candles[0].open,
        max(c.high for c in candles),
        min(c.low for c in candles),
        candles[-1].close,
        sum(c.volume for c in candles),
    )


def window_end(candles: Sequence[Candle], anchor: int | None, bucket_ms: int) -> int:
    """Index after the last candle shown: all of them live (``anchor`` None), else the end of
    the anchor's bucket."""
    if anchor is None:
        return len(candles)
    limit = (anchor // bucket_ms + 1) * bucket_ms
    return bisect_left(candles, limit, key=lambda c: c.open_time)


def window_groups(
    candles: Sequence[Candle], end: int, per_column: int, bucket_ms: int, columns: int
) -> list[tuple[int, int]]:
    """``(first, last)`` candle indexes of the up to ``columns`` bars ending before ``end``,
    oldest first."""
    if per_column == 1:
        return [(i, i) for i in range(max(0, end - columns), end)]
    groups: list[tuple[int, int]] = []
    i = end - 1
    while i >= 0 and len(groups) < columns:
        bucket = candles[i].open_time // bucket_ms
        j = i
        while j > 0 and candles[j - 1].open_time // bucket_ms == bucket:
            j -= 1
        groups.append((j, i))
        i = j - 1
    groups.reverse()
    return groups


@dataclass(frozen=True, slots=True, eq=False)
class ChartView:
    """What the chart shows, column by column: what the indicator pane aligns to.

    ``groups[x]`` is ``(first, last)`` index into ``candles`` of the bar in plot column
    ``x + pad`` (the first ``pad`` columns are empty when there is less history than width).
    Compared by identity: a new view is made only when something in it changed.
    """

    candles: tuple[Candle, ...]
    groups: tuple[tuple[int, int], ...]
    bars: tuple[Candle, ...]
    pad: int
    plot_width: int  # columns left of the price axis
    axis_width: int
    per_column: int
    history: bool  # scrolled back from the newest candle

    def column_of_index(self, index: int) -> int | None:
        """The plot column showing candle ``index``, or None if it is out of view."""
        if not self.groups or index < self.groups[0][0] or index > self.groups[-1][1]:
            return None
        lo, hi = 0, len(self.groups) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.groups[mid][1] < index:
                lo = mid + 1
            else:
                hi = mid
        return self.pad + lo

    def column_of_time(self, ms: int, timeframe_ms: int) -> int | None:
        """The plot column whose candles cover the instant ``ms`` (None if out of view)."""
        if not self.groups:
            return None
        index = bisect_left(self.candles, ms + 1, key=lambda c: c.open_time) - 1
        if index < 0 or ms >= self.candles[index].open_time + timeframe_ms:
            return None
        return self.column_of_index(index)

    def bar_at(self, column: int) -> Candle | None:
        """The bar shown in plot column ``column`` (None for padding or out of range)."""
        x = column - self.pad
        return self.bars[x] if 0 <= x < len(self.bars) else None
