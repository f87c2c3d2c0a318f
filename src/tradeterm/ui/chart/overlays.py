"""Overlay series (EMA set, Bollinger bands, session VWAP) and SMC zones for the chart.

Values come from the project's indicator functions (``tradeterm.indicators.ta``, ``.vwap``,
``.smc``), so the chart shows exactly what strategies compute. Those modules pull in TA-Lib and
polars (~0.2 s to import), so they are imported on first use, never on the first-frame path: in
one process the engine has loaded them before its first candles; a screen attached to an engine
service draws its first frame with data without overlays and loads them right after
(:func:`indicators_loaded`, :func:`load_indicators`; the chart and the indicator pane do that).

Cost: the live candle changes on every tick. :class:`CandleArrays` converts the closed candles to
numpy once per closed bar and only writes the live candle into the last slot on a tick; the
TA-Lib calls on those arrays are then a few microseconds per series for a thousand bars. SMC
zones depend on closed bars only and are recomputed only when a bar closes.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tradeterm.core.models import Candle

if TYPE_CHECKING:
    import numpy as np

    from tradeterm.indicators.ta import Arrays

OVERLAYS = ("ema", "bollinger", "vwap", "smc")
INDICATOR_MODULES = ("tradeterm.indicators.frame", "tradeterm.indicators.ta",
                     "tradeterm.indicators.vwap", "tradeterm.indicators.smc",
                     "tradeterm.indicators.volume")
"""What the overlays and the indicator pane compute with (TA-Lib and polars underneath)."""
INDICATORS_LOAD_DELAY_S = 0.3
"""How long after its first frame with data a screen that lacks them imports the indicators:
long enough for that frame and the book's to reach the terminal first (the import holds the
interpreter ~0.2-0.5 s, and the terminal writer is a thread of the same process)."""


def indicators_loaded() -> bool:
    """Whether :data:`INDICATOR_MODULES` are imported (then overlays cost no import)."""
    return all(name in sys.modules for name in INDICATOR_MODULES)


def load_indicators() -> None:
    """Import :data:`INDICATOR_MODULES` (~0.2 s the first time, nothing after)."""
    for name in INDICATOR_MODULES:
        importlib.import_module(name)
EMA_PERIODS = (9, 21, 50)
BOLLINGER = (20, 2.0)

# Zone kinds, drawn in this order (later ones on top where they overlap).
BULL_FVG, BEAR_FVG, BULL_OB, BEAR_OB = "bull_fvg", "bear_fvg", "bull_ob", "bear_ob"


class CandleArrays:
    """``open/high/low/close/volume`` (float64) and ``open_time`` (int64) of a candle tuple.

    The closed candles (all but the last) are converted only when they change: a new bar, a
    symbol or timeframe switch; a tick of the live candle rewrites one slot.
    """

    def __init__(self) -> None:
        self._closed_key: tuple[int, Candle | None, Candle | None] = (0, None, None)
        self.arrays: dict[str, np.ndarray] = {}
        self.open_time: np.ndarray | None = None
        self.closed_changed = False  # set by the last update: the closed bars differ

    def update(self, candles: Sequence[Candle]) -> None:
        import numpy as np

        n = len(candles)
        key = (n, candles[0] if n else None, candles[-2] if n > 1 else None)
        self.closed_changed = key != self._closed_key
        if self.closed_changed:
            self._closed_key = key
            self.arrays = {
                name: np.array([getattr(c, name) for c in candles], dtype=np.float64)
                for name in ("open", "high", "low", "close", "volume")
            }
            self.open_time = np.array([c.open_time for c in candles], dtype=np.int64)
        elif n:
            live = candles[-1]
            for name in ("open", "high", "low", "close", "volume"):
                self.arrays[name][-1] = getattr(live, name)
            self.open_time[-1] = live.open_time  # type: ignore[index]


@dataclass(frozen=True, slots=True)
class Series:
    """One overlay line: a value per candle (NaN during warm-up)."""

    name: str  # legend/colour key: ema_9, bb_upper, bb_middle, bb_lower, vwap
    values: np.ndarray
    dotted: bool = False


@dataclass(frozen=True, slots=True)
class Zone:
    """An SMC zone from candle ``start`` to ``end`` (inclusive; None = still alive)."""

    kind: str
    start: int
    end: int | None
    top: float
    bottom: float


def compute_series(a: Arrays, open_time: np.ndarray | None, shown: frozenset[str]) -> list[Series]:
    """The line overlays that are on, in drawing priority order (first wins a shared cell)."""
    from tradeterm.indicators.ta import compute_bollinger, compute_ema
    from tradeterm.indicators.vwap import compute_vwap

    out: list[Series] = []
    if "ema" in shown:
        for n in EMA_PERIODS:
            out.append(Series(f"ema_{n}", compute_ema(a, n)[f"ema_{n}"]))
    if "vwap" in shown and open_time is not None and open_time.size:
        out.append(Series("vwap", compute_vwap(a, open_time)["vwap"]))
    if "bollinger" in shown:
        n, k = BOLLINGER
        bands = compute_bollinger(a, n, k)
        suffix = f"{n}_{k:g}"
        out.append(Series("bb_upper", bands[f"bb_upper_{suffix}"]))
        out.append(Series("bb_lower", bands[f"bb_lower_{suffix}"]))
        out.append(Series("bb_middle", bands[f"bb_middle_{suffix}"], dotted=True))
    return out


def compute_zones(candles: Sequence[Candle]) -> list[Zone]:
    """Order blocks (until invalidated) and fair value gaps (until filled) of ``candles``."""
    from tradeterm.indicators.frame import candles_frame
    from tradeterm.indicators.smc import smc

    if len(candles) < 3:
        return []
    result = smc(candles_frame(candles))
    zones: list[Zone] = []
    for row in result.fvgs.iter_rows(named=True):
        kind = BULL_FVG if row["direction"] > 0 else BEAR_FVG
        zones.append(Zone(kind, row["bar"], row["filled_at"], row["top"], row["bottom"]))
    for row in result.order_blocks.iter_rows(named=True):
        kind = BULL_OB if row["direction"] > 0 else BEAR_OB
        zones.append(Zone(kind, row["bar"], row["invalidated_at"], row["top"], row["bottom"]))
    return zones


def zones_by_index(zones: Sequence[Zone], count: int) -> list[tuple[Zone, ...]]:
    """For each candle index, the zones covering it, in drawing order (FVGs under OBs)."""
    order = {BULL_FVG: 0, BEAR_FVG: 0, BULL_OB: 1, BEAR_OB: 1}
    covering: list[list[Zone]] = [[] for _ in range(count)]
    for zone in sorted(zones, key=lambda z: order[z.kind]):
        end = count - 1 if zone.end is None else min(zone.end, count - 1)
        for i in range(zone.start, end + 1):
            covering[i].append(zone)
    return [tuple(z) for z in covering]


class Overlays:
    """Which overlays are on, and their values for the chart's current candles."""

    def __init__(self, shown: Sequence[str] = ("ema",)) -> None:
        self.shown: set[str] = set(shown)
        self.data = CandleArrays()
        self.series: list[Series] = []
        self.zones: list[tuple[Zone, ...]] = []  # per candle index
        self._candles: tuple[Candle, ...] | None = None
        self._shown_key: frozenset[str] | None = None
        self._zones_key: tuple[int, Candle | None, Candle | None] | None = None

    def toggle(self, name: str) -> bool:
        if name not in OVERLAYS:
            raise ValueError(f"unknown overlay {name!r}; known: {', '.join(OVERLAYS)}")
        self.shown.symmetric_difference_update({name})
        return name in self.shown

    def update(self, candles: tuple[Candle, ...]) -> None:
        """Recompute what changed since the last call (nothing if neither candles nor toggles)."""
        shown = frozenset(self.shown)
        if candles is self._candles and shown == self._shown_key:
            return
        self._candles, self._shown_key = candles, shown
        lines = shown - {"smc"}
        if not candles or not lines:
            self.series = []
        else:
            self.data.update(candles)
            self.series = compute_series(self.data.arrays, self.data.open_time, shown)
        if "smc" not in shown or not candles:
            self.zones, self._zones_key = [], None
            return
        # Closed bars only: the live candle's marks are not known until it closes.
        key = (len(candles), candles[0], candles[-2] if len(candles) > 1 else None)
        if key != self._zones_key:
            self._zones_key = key
            self.zones = zones_by_index(compute_zones(candles[:-1]), len(candles))
