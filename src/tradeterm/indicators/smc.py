"""Smart Money Concepts: swings, BOS/CHoCH, order blocks, fair value gaps, liquidity sweeps.

Our own, vectorised numpy (``smc_detect`` and ``smc_kernels``), and causal by construction:
every mark carries ``bar`` (the bar it refers to) and ``known_at`` (the bar at whose close it
became known), and nothing is revised backwards. Definitions, tie rules and ASCII examples are in
``docs/smc.md``.

Two entry points:

* :func:`smc` returns the marks as event tables (:class:`SmcResult`), for charts and analysis.
  Follow-up facts (``mitigated_at``, ``invalidated_at``, ``filled_at``) are later bars' facts and
  appear there as indexes; they are null while they have not happened in the frame.
* :func:`add_smc` adds per-bar columns for strategies, each reflecting only what was known at
  that bar's close, so computing on ``frame[:c]`` gives the same rows < c as on the full frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from tradeterm.indicators import smc_detect as detect
from tradeterm.indicators.smc_kernels import ffill_index, latest_alive
from tradeterm.indicators.ta import arrays, check_period

DEFAULT_SWING_LENGTH = 5
DEFAULT_EQ_TOLERANCE = 0.001  # 0.1 % of price: two swing highs this close are "equal highs"
DEFAULT_FVG_MIN_SIZE = 0.0  # keep every gap; raise it to ignore hairline gaps on fast timeframes
MAX_FRACTION = 0.1  # upper bound for the price-fraction parameters


@dataclass(frozen=True, slots=True)
class SmcResult:
    """Every SMC mark of one frame, as polars tables sorted by ``known_at``.

    Each table has ``bar``, ``known_at`` (Int64 row indexes into the frame) and ``time``
    (``open_time`` of ``bar``); the other columns are listed in ``docs/smc.md``.
    """

    swings: pl.DataFrame
    structure: pl.DataFrame
    order_blocks: pl.DataFrame
    fvgs: pl.DataFrame
    sweeps: pl.DataFrame


@dataclass(frozen=True, slots=True)
class _Marks:
    """The raw numpy marks, shared by :func:`smc` and :func:`add_smc`."""

    highs: detect.Arrays
    lows: detect.Arrays
    structure: detect.Arrays
    order_blocks: detect.Arrays
    fvgs: detect.Arrays
    sweeps: detect.Arrays


def _fraction(name: str, value: object) -> float:
    """``value`` as a float in [0, MAX_FRACTION], else a ValueError naming it."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok or not 0.0 <= float(value) <= MAX_FRACTION:  # type: ignore[arg-type]
        raise ValueError(f"{name} must be a number in [0, {MAX_FRACTION}], got {value!r}")
    return float(value)  # type: ignore[arg-type]


def _detect(
    frame: pl.DataFrame, swing_length: object, eq_tolerance: object, fvg_min_size: object
) -> _Marks:
    length = check_period("swing_length", swing_length, 1)
    tolerance = _fraction("eq_tolerance", eq_tolerance)
    min_gap = _fraction("fvg_min_size", fvg_min_size)
    a = arrays(frame, "open", "high", "low", "close")
    o, h, lo, c = a["open"], a["high"], a["low"], a["close"]
    highs, lows = detect.swings(h, lo, length)
    events = detect.structure(c, highs, lows)
    return _Marks(
        highs=highs,
        lows=lows,
        structure=events,
        order_blocks=detect.order_blocks(o, h, lo, c, events),
        fvgs=detect.fair_value_gaps(h, lo, min_gap),
        sweeps=detect.sweeps(h, lo, c, highs, lows, tolerance),
    )


def _index(values: np.ndarray) -> pl.Series:
    """Bar indexes with -1 ("not yet") as null."""
    return pl.Series(values.astype(np.int64)).set(pl.Series(values < 0), None)


def _table(times: np.ndarray, columns: dict[str, object]) -> pl.DataFrame:
    """An event table: ``bar``, ``known_at``, ``time`` first, then the rest in the given order."""
    bar = np.asarray(columns["bar"], dtype=np.int64)
    head = {"bar": bar, "known_at": np.asarray(columns["known_at"], dtype=np.int64)}
    head["time"] = times[bar]
    rest = {k: v for k, v in columns.items() if k not in head}
    return pl.DataFrame({**head, **rest}).sort("known_at", maintain_order=True)


def _direction(values: np.ndarray) -> pl.Series:
    return pl.Series(values.astype(np.int8), dtype=pl.Int8)


def smc(
    frame: pl.DataFrame,
    swing_length: int = DEFAULT_SWING_LENGTH,
    eq_tolerance: float = DEFAULT_EQ_TOLERANCE,
    fvg_min_size: float = DEFAULT_FVG_MIN_SIZE,
) -> SmcResult:
    """All SMC marks of a candle frame as event tables (see :class:`SmcResult`).

    ``swing_length`` is N, the bars each side of a swing (>= 1); ``eq_tolerance`` is how close two
    swing prices must be, as a fraction of the earlier one, to count as equal highs/lows;
    ``fvg_min_size`` is the smallest fair value gap kept, as a fraction of its bottom price.
    """
    m = _detect(frame, swing_length, eq_tolerance, fvg_min_size)
    times = frame.get_column("open_time").cast(pl.Int64).to_numpy()
    sw = {key: np.concatenate([m.highs[key], m.lows[key]]) for key in ("bar", "known_at", "price")}
    kinds = np.repeat(np.array(["high", "low"]), [m.highs["bar"].size, m.lows["bar"].size])
    order = np.lexsort((kinds, sw["known_at"]))
    swings = _table(times, {**{k: v[order] for k, v in sw.items()}, "kind": kinds[order]})
    swings = swings.select("bar", "known_at", "time", "kind", "price")
    st = m.structure
    structure = _table(
        times,
        {
            "bar": st["bar"],
            "known_at": st["known_at"],
            "kind": np.where(st["choch"], "choch", "bos"),
            "direction": _direction(st["direction"]),
            "level": st["level"],
            "swing_bar": st["swing_bar"],
        },
    )
    ob = m.order_blocks
    ob_state = np.where(
        ob["invalidated_at"] >= 0,
        "invalidated",
        np.where(ob["mitigated_at"] >= 0, "mitigated", "active"),
    )
    order_blocks = _table(
        times,
        {
            "bar": ob["bar"],
            "known_at": ob["known_at"],
            "direction": _direction(ob["direction"]),
            "top": ob["top"],
            "bottom": ob["bottom"],
            "structure": np.where(ob["choch"], "choch", "bos"),
            "mitigated_at": _index(ob["mitigated_at"]),
            "invalidated_at": _index(ob["invalidated_at"]),
            "state": ob_state,
        },
    )
    fv = m.fvgs
    fvgs = _table(
        times,
        {
            "bar": fv["bar"],
            "known_at": fv["known_at"],
            "direction": _direction(fv["direction"]),
            "top": fv["top"],
            "bottom": fv["bottom"],
            "filled_at": _index(fv["filled_at"]),
            "state": np.where(fv["filled_at"] >= 0, "filled", "open"),
        },
    )
    sw_ = m.sweeps
    sweeps = _table(
        times,
        {
            "bar": sw_["bar"],
            "known_at": sw_["known_at"],
            "direction": _direction(sw_["direction"]),
            "level": sw_["level"],
            "pool_first_bar": sw_["first_bar"],
            "pool_last_bar": sw_["last_bar"],
        },
    )
    return SmcResult(swings, structure, order_blocks, fvgs, sweeps)


def _flags(n: int, bars: np.ndarray, values: np.ndarray | int) -> np.ndarray:
    out = np.zeros(n, dtype=np.int8)
    out[bars] = values
    return out


def _latest(n: int, known_at: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per bar, ``values`` of the latest item known at or before it (NaN before the first)."""
    k = ffill_index(known_at, n)
    return np.where(k >= 0, values[np.maximum(k, 0)] if values.size else np.nan, np.nan)


def _ob_columns(
    n: int, ob: detect.Arrays, high: np.ndarray, low: np.ndarray, sign: int, name: str
) -> dict[str, np.ndarray]:
    """Top/bottom of the most recent live order block of one direction, and whether bar t
    (after the block became known) trades into it."""
    sel = ob["direction"] == sign
    born = ob["known_at"][sel]
    dies = np.where(ob["invalidated_at"][sel] >= 0, ob["invalidated_at"][sel], n)
    if born.size == 0:
        nan = np.full(n, np.nan)
        return {f"{name}_top": nan, f"{name}_bottom": nan, "in": np.zeros(n, dtype=bool)}
    top, bottom = ob["top"][sel], ob["bottom"][sel]
    k = latest_alive(born, dies, n)
    has = k >= 0
    kk = np.maximum(k, 0)
    t = np.arange(n)
    inside = has & (t > born[kk]) & (low <= top[kk]) & (high >= bottom[kk])
    return {
        f"{name}_top": np.where(has, top[kk], np.nan),
        f"{name}_bottom": np.where(has, bottom[kk], np.nan),
        "in": inside,
    }


def add_smc(
    frame: pl.DataFrame,
    swing_length: int = DEFAULT_SWING_LENGTH,
    eq_tolerance: float = DEFAULT_EQ_TOLERANCE,
    fvg_min_size: float = DEFAULT_FVG_MIN_SIZE,
) -> pl.DataFrame:
    """``frame`` plus per-bar causal SMC columns (``smc_*``, documented in ``docs/smc.md``)."""
    m = _detect(frame, swing_length, eq_tolerance, fvg_min_size)
    n = frame.height
    a = arrays(frame, "high", "low")
    st, fv, sw = m.structure, m.fvgs, m.sweeps
    trend = _latest(n, st["bar"], st["direction"].astype(np.float64))
    choch = st["choch"]
    bull_ob = _ob_columns(n, m.order_blocks, a["high"], a["low"], +1, "smc_bull_ob")
    bear_ob = _ob_columns(n, m.order_blocks, a["high"], a["low"], -1, "smc_bear_ob")
    up_fvg = fv["direction"] > 0
    floats = {
        "smc_swing_high": _latest(n, m.highs["known_at"], m.highs["price"]),
        "smc_swing_low": _latest(n, m.lows["known_at"], m.lows["price"]),
        "smc_bull_ob_top": bull_ob["smc_bull_ob_top"],
        "smc_bull_ob_bottom": bull_ob["smc_bull_ob_bottom"],
        "smc_bear_ob_top": bear_ob["smc_bear_ob_top"],
        "smc_bear_ob_bottom": bear_ob["smc_bear_ob_bottom"],
    }
    sweep = _flags(n, sw["bar"][sw["direction"] > 0], 1) - _flags(
        n, sw["bar"][sw["direction"] < 0], 1
    )
    ints = {
        "smc_bos": _flags(n, st["bar"][~choch], st["direction"][~choch]),
        "smc_choch": _flags(n, st["bar"][choch], st["direction"][choch]),
        "smc_bull_fvg": _flags(n, fv["known_at"][up_fvg], 1),
        "smc_bear_fvg": _flags(n, fv["known_at"][~up_fvg], 1),
        "smc_sweep": sweep.astype(np.int8),
    }
    columns = [
        pl.Series("smc_trend", trend).fill_nan(None).cast(pl.Int8),
        *(pl.Series(name, ints[name], dtype=pl.Int8) for name in ("smc_bos", "smc_choch")),
        *(pl.Series(name, v, dtype=pl.Float64).fill_nan(None) for name, v in floats.items()),
        pl.Series("smc_in_bull_ob", bull_ob["in"], dtype=pl.Boolean),
        pl.Series("smc_in_bear_ob", bear_ob["in"], dtype=pl.Boolean),
        *(
            pl.Series(name, ints[name], dtype=pl.Int8)
            for name in ("smc_bull_fvg", "smc_bear_fvg", "smc_sweep")
        ),
    ]
    return frame.with_columns(columns)
