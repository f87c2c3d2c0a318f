"""Exponential backoff with jitter for reconnecting streams.

The wait doubles per consecutive failure, from ``initial`` up to ``maximum``, and each wait is
shortened by a random part of up to ``jitter`` of itself, so many streams that failed together
(one dropped connection carries several) do not all redial in the same instant.
"""

from __future__ import annotations

import random


class Backoff:
    """The wait before attempt number ``failures`` (1 = after the first failure)."""

    def __init__(
        self,
        initial: float,
        maximum: float,
        *,
        factor: float = 2.0,
        jitter: float = 0.25,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("need 0 < initial <= maximum")
        if not 0.0 <= jitter < 1.0:
            raise ValueError("jitter must be in [0, 1)")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.jitter = jitter
        self._rng = rng or random.Random()

    def ceiling(self, failures: int) -> float:
        """The un-jittered wait: ``initial * factor**(failures-1)``, capped at ``maximum``."""
        exponent = max(0, failures - 1)
        # Cap the exponent before computing, so a stream failing for days cannot overflow.
        if self.initial * self.factor ** min(exponent, 64) >= self.maximum:
            return self.maximum
        return self.initial * self.factor**exponent

    def delay(self, failures: int) -> float:
        """A jittered wait in ``[ceiling * (1 - jitter), ceiling]``."""
        ceiling = self.ceiling(failures)
        return ceiling * (1.0 - self.jitter * self._rng.random())
