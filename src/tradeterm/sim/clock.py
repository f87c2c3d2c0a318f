"""The simulated clock: wall time for the synthetic market, scaled time for replay.

A paused replay clock stands still; the synthetic clock never does (Binance time keeps going),
only the market stops moving.
"""

from __future__ import annotations

import time


class SimClock:
    def __init__(self, start_ms: int | None = None, speed: float = 1.0) -> None:
        self.replay = start_ms is not None
        self.speed = speed
        self._origin = start_ms if start_ms is not None else 0
        self._mono0 = time.monotonic()
        self._frozen_at: int | None = None

    def now_ms(self) -> int:
        if not self.replay:
            return int(time.time() * 1000)
        if self._frozen_at is not None:
            return self._frozen_at
        return self._origin + int((time.monotonic() - self._mono0) * 1000 * self.speed)

    def freeze(self) -> None:
        if self.replay and self._frozen_at is None:
            self._frozen_at = self.now_ms()

    def thaw(self) -> None:
        if self._frozen_at is not None:
            self._origin, self._mono0 = self._frozen_at, time.monotonic()
            self._frozen_at = None
