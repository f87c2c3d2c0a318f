"""A bounded candle series for one symbol and timeframe, merged by open time.

REST history and live socket candles describe the same bars: a candle whose open time is already
known replaces it (the live bar updates many times before it closes), a newer one is appended, an
older one (history refetched after a reconnect) is inserted in order. Only the newest ``max_len``
bars are kept, so memory stays flat however long the app runs.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable

from tradeterm.core.models import Candle


class CandleSeries:
    """Candles sorted by ``open_time``, unique per open time, at most ``max_len`` of them."""

    def __init__(self, max_len: int) -> None:
        if max_len < 1:
            raise ValueError("max_len must be at least 1")
        self.max_len = max_len
        self._candles: list[Candle] = []
        self._times: list[int] = []  # parallel to _candles, for bisect
        self._frozen: tuple[Candle, ...] | None = ()

    def __len__(self) -> int:
        return len(self._candles)

    def merge(self, candles: Iterable[Candle]) -> bool:
        """Merge ``candles`` in; True if anything changed."""
        changed = False
        for candle in candles:
            changed |= self._merge_one(candle)
        if changed:
            overflow = len(self._candles) - self.max_len
            if overflow > 0:
                del self._candles[:overflow]
                del self._times[:overflow]
            self._frozen = None
        return changed

    def _merge_one(self, candle: Candle) -> bool:
        times = self._times
        t = candle.open_time
        if not times or t > times[-1]:  # the common case: a new bar
            times.append(t)
            self._candles.append(candle)
            return True
        i = len(times) - 1 if t == times[-1] else bisect_left(times, t)
        if times[i] == t:
            if self._candles[i] == candle:
                return False
            self._candles[i] = candle
            return True
        if len(times) >= self.max_len and i == 0:
            return False  # older than everything kept and no room: it would be trimmed at once
        times.insert(i, t)
        self._candles.insert(i, candle)
        return True

    def candles(self) -> tuple[Candle, ...]:
        """The series as an immutable tuple, oldest first (cached until the next change)."""
        if self._frozen is None:
            self._frozen = tuple(self._candles)
        return self._frozen
