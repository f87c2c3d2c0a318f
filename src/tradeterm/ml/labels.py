"""Three-class labels of the move ``horizon`` bars ahead: down, flat, up.

label[t] compares close[t + horizon] with close[t]: up above ``+threshold``, down below
``-threshold``, flat in between; the threshold is a fixed fraction (0.5 % by default) or
``atr_mult`` ATRs (14) relative to close[t]. The last ``horizon`` bars have no label (null).

A label is the future by definition: it is computed for training and scoring only, from the
candles, and never handed to the feature builder (``features.py`` takes candles alone and its
prefix check fails any feature that reads a later bar, a label included).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from tradeterm.indicators.ta import arrays, compute_atr

DOWN, FLAT, UP = 0, 1, 2
CLASS_NAMES: tuple[str, ...] = ("down", "flat", "up")


@dataclass(frozen=True, slots=True)
class LabelSpec:
    horizon: int = 5
    threshold: float = 0.005
    atr_mult: float | None = None  # set: the threshold is atr_mult * ATR(14) / close

    def check(self) -> LabelSpec:
        if self.horizon < 1:
            raise ValueError(f"horizon must be >= 1 bar, got {self.horizon}")
        if not self.threshold > 0:
            raise ValueError(f"threshold must be > 0, got {self.threshold}")
        if self.atr_mult is not None and not self.atr_mult > 0:
            raise ValueError(f"atr_mult must be > 0, got {self.atr_mult}")
        return self

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def forward_return(close: np.ndarray, horizon: int) -> np.ndarray:
    """close[t + horizon] / close[t] - 1; NaN for the last ``horizon`` bars."""
    out = np.full(close.size, np.nan)
    if close.size > horizon:
        out[:-horizon] = close[horizon:] / close[:-horizon] - 1.0
    return out


def make_labels(frame: pl.DataFrame, spec: LabelSpec) -> np.ndarray:
    """Labels as float64 (0 down, 1 flat, 2 up; NaN where unknown), one per bar of ``frame``."""
    spec.check()
    a = arrays(frame, "high", "low", "close")
    ret = forward_return(a["close"], spec.horizon)
    if spec.atr_mult is None:
        thr = np.full(ret.size, spec.threshold)
    else:
        thr = spec.atr_mult * compute_atr(a, 14)["atr_14"] / a["close"]
    out = np.where(ret > thr, float(UP), np.where(ret < -thr, float(DOWN), float(FLAT)))
    out[np.isnan(ret) | np.isnan(thr)] = np.nan
    return out
