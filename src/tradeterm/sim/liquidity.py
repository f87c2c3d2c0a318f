"""How market makers shape the synthetic book: level spacing and level sizes.

Calibrated by eye on Binance BTCUSDT depth snapshots (``/work/shared/data``): top levels are
thin and irregular, sizes are heavy-tailed (lognormal, occasional walls ten times the
neighbours, bumps on round prices), levels sit almost every tick near the top and thin out with
distance, and the typical size grows with distance from the touch.
"""

from __future__ import annotations

import math

import numpy as np

from tradeterm.sim.spec import SymbolSpec

LEVELS_PER_SIDE = 1_000
BOOK_SPAN = 0.008  # fraction of the price covered by LEVELS_PER_SIDE levels, where ticks allow
STEP_MS = 100


class LiquidityModel:
    """Spacing and size draws for one symbol (all in ticks and steps)."""

    def __init__(self, spec: SymbolSpec, rng: np.random.Generator) -> None:
        self.rng = rng
        self.spec = spec
        price_ticks = spec.start_price / float(spec.tick)
        step_sigma = spec.daily_vol * math.sqrt(STEP_MS / 86_400_000)
        self.step_sigma = step_sigma
        # near-top spacing: about 8 levels per typical 100 ms move, at least one tick
        self.top_spacing = max(1.0, step_sigma * price_ticks / 8)
        span = BOOK_SPAN * price_ticks
        n = LEVELS_PER_SIDE
        self.spacing_slope = max(0.0, (span - n * self.top_spacing) / (n * n / 2))
        self.half_spread = max(1, int(self.top_spacing // 2))
        self.base_steps = spec.base_qty / float(spec.step)
        self.round_ticks = int(round(10 ** max(0, round(math.log10(price_ticks)) - 3)))

    def gap(self, index: int) -> int:
        """Ticks between level ``index`` and the next one away from the touch."""
        mean = self.top_spacing + self.spacing_slope * index
        if mean <= 1.0:
            return 1
        return int(self.rng.geometric(1.0 / mean))

    def size(self, index: int, price: int) -> int:
        """A level's quantity in steps: heavy-tailed, growing with depth, lumpy."""
        mean = self.base_steps * (1.0 + index / 40.0)
        q = mean * math.exp(self.rng.normal(-0.5, 1.0))
        if self.rng.random() < 0.03:
            q *= 12.0  # a wall
        if self.round_ticks > 1 and price % self.round_ticks == 0:
            q *= 4.0
        return max(1, int(q))

    def taker_qty(self) -> int:
        return max(1, int(self.base_steps * 0.8 * math.exp(self.rng.normal(0.0, 1.1))))
