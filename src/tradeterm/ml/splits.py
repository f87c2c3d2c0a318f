"""Purged, embargoed walk-forward splits: every model is tested only on bars after its training.

Bars are split into a first training block and ``n_splits`` test windows of equal length that
follow it. Split k trains on the bars before test window k (all of them, or the last
``train_bars`` for a sliding window) *minus the purge*: a training bar t carries a label that
reads close[t + horizon], so every t with ``t + horizon >= test start`` is dropped, and the
``embargo`` bars before that too. No training label can then overlap a test window, and no test
bar was ever in a training set (:func:`check_split` asserts both, and training calls it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Split:
    train: np.ndarray  # bar indices (ascending)
    test_start: int
    test_end: int  # exclusive

    @property
    def test(self) -> np.ndarray:
        return np.arange(self.test_start, self.test_end)


class SplitError(ValueError):
    """The data is too short for the splits asked, or a split breaks the purge."""


def walk_forward_splits(
    n: int,
    n_splits: int = 5,
    *,
    horizon: int,
    embargo: int = 0,
    train_bars: int | None = None,
    test_bars: int | None = None,
    min_train: int = 200,
) -> list[Split]:
    """The splits of ``n`` bars (see the module doc). ``test_bars`` default: an equal share
    (``n // (n_splits + 1)``), so the first training block is as long as one test window."""
    if n_splits < 1:
        raise SplitError(f"n_splits must be >= 1, got {n_splits}")
    test_len = test_bars or n // (n_splits + 1)
    first_test = n - n_splits * test_len
    if test_len < 1 or first_test - horizon - embargo < min_train:
        raise SplitError(
            f"{n} bars are too few for {n_splits} walk-forward windows with at least {min_train} "
            f"training bars each (horizon {horizon}, embargo {embargo})"
        )
    splits = []
    for k in range(n_splits):
        start = first_test + k * test_len
        end = n if k == n_splits - 1 else start + test_len
        stop = start - horizon - embargo  # training bars are < stop
        lo = 0 if train_bars is None else max(0, stop - train_bars)
        split = Split(np.arange(lo, stop), start, end)
        check_split(split, horizon)
        splits.append(split)
    return splits


def check_split(split: Split, horizon: int) -> None:
    """Raise :class:`SplitError` if a training bar is in the test window or its label's horizon
    reaches into it (or any later bar)."""
    if split.train.size == 0:
        raise SplitError("empty training window")
    if int(split.train.max()) + horizon >= split.test_start:
        raise SplitError(
            f"training bar {int(split.train.max())} has a label reading bar "
            f"{int(split.train.max()) + horizon}, inside or after the test window starting at "
            f"{split.test_start}"
        )
    if np.intersect1d(split.train, split.test).size:
        raise SplitError("a test bar is in the training window")
