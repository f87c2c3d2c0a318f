"""The simulated clock: wall time for the synthetic market, scaled time for replay.

A paused replay clock stands still; the synthetic clock never does (Binance time keeps going),
only the market stops moving. A replay clock can change speed without a jump (it re-anchors at
the current simulated time) and, while frozen, be moved forward to a chosen instant (stepping
one bar).
"""

from __future__ import annotations

import time
from collections.abc import Callable

MIN_SPEED = 0.25
MAX_SPEED = 1000.0
"""Bounds of :meth:`SimClock.set_speed` (a speed given at start outside them is kept)."""


class SimClock:
    def __init__(self, start_ms: int | None = None, speed: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.replay = start_ms is not None
        self.speed = speed
        self._monotonic = monotonic
        self._origin = start_ms if start_ms is not None else 0
        self._mono0 = monotonic()
        self._frozen_at: int | None = None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now_ms(self) -> int:
        if not self.replay:
            return int(time.time() * 1000)
        if self._frozen_at is not None:
            return self._frozen_at
        return self._origin + int((self._monotonic() - self._mono0) * 1000 * self.speed)

    def freeze(self, at_ms: int | None = None) -> None:
        """Stop a replay clock: at ``at_ms`` if given (the caller keeps time monotonic: the
        markets must not have passed it), else where it is now."""
        if self.replay:
            self._frozen_at = self.now_ms() if at_ms is None else at_ms

    def thaw(self) -> None:
        if self._frozen_at is not None:
            self._origin, self._mono0 = self._frozen_at, self._monotonic()
            self._frozen_at = None

    def set_speed(self, speed: float) -> float:
        """Change the replay speed from now on, bounded to ``MIN_SPEED..MAX_SPEED`` (or to the
        start speed when that was outside them); returns the speed applied."""
        low, high = min(MIN_SPEED, self.speed), max(MAX_SPEED, self.speed)
        speed = min(high, max(low, speed))
        if self._frozen_at is None and self.replay:  # re-anchor: no jump in simulated time
            self._origin, self._mono0 = self.now_ms(), self._monotonic()
        self.speed = speed
        return speed
