"""Standard indicators, computed by TA-Lib and returned as polars columns.

TA-Lib is the reference: values are TA-Lib's to the bit, with its warm-up (``NaN``) turned into
null. Every indicator is a pure ``_compute_*`` function on float64 numpy arrays returning
``{column: array}``, wrapped by a public ``fn(frame, ...)`` that adds the columns; the split lets
``add_default_indicators`` convert each input column to numpy once for the whole set.

TA-Lib's recursive indicators (EMA, RSI, ATR, ADX, MACD, Stochastic's smoothing) start their
recursion at the first bar, so a value at bar t depends on bars 0..t only: they are causal
(the prefix tests prove it), but they do depend on where the frame starts. Two frames of the same
market that start at different bars agree only after TA-Lib's "unstable period" has passed.
Global TA-Lib state (``talib.set_unstable_period``) is never touched here.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl
import talib

Arrays = Mapping[str, np.ndarray]
"""Input columns as float64 numpy arrays, keyed ``open``, ``high``, ``low``, ``close``, ``volume``."""

MAX_PERIOD = 100_000  # TA-Lib's upper bound on every period parameter


def check_period(name: str, value: object, minimum: int, maximum: int = MAX_PERIOD) -> int:
    """Return ``value`` if it is an int in ``[minimum, maximum]``, else raise a naming ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer in [{minimum}, {maximum}], got {value!r}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be in [{minimum}, {maximum}], got {value}")
    return int(value)


def format_number(value: float) -> str:
    """Parameter as it appears in a column name: ``2.0`` -> ``2``, ``2.5`` -> ``2.5``."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def arrays(frame: pl.DataFrame, *columns: str) -> dict[str, np.ndarray]:
    """The named columns as contiguous float64 arrays (zero-copy for a Float64 column)."""
    out = {}
    for col in columns:
        arr = frame.get_column(col).cast(pl.Float64).to_numpy()
        out[col] = np.ascontiguousarray(arr, dtype=np.float64)
    return out


def to_columns(values: Mapping[str, np.ndarray]) -> list[pl.Series]:
    """Float arrays as Float64 series, NaN (TA-Lib's warm-up) as null."""
    # Zero-copy wrap, then one vectorised NaN->null pass (much cheaper than nan_to_null=True).
    return [pl.Series(name, arr, dtype=pl.Float64).fill_nan(None) for name, arr in values.items()]


def _add(frame: pl.DataFrame, values: Mapping[str, np.ndarray]) -> pl.DataFrame:
    return frame.with_columns(to_columns(values))


# --- pure computations on numpy arrays -----------------------------------------------------


def compute_sma(a: Arrays, n: int) -> dict[str, np.ndarray]:
    return {f"sma_{n}": talib.SMA(a["close"], timeperiod=n)}


def compute_ema(a: Arrays, n: int) -> dict[str, np.ndarray]:
    return {f"ema_{n}": talib.EMA(a["close"], timeperiod=n)}


def compute_wma(a: Arrays, n: int) -> dict[str, np.ndarray]:
    return {f"wma_{n}": talib.WMA(a["close"], timeperiod=n)}


def compute_rsi(a: Arrays, n: int) -> dict[str, np.ndarray]:
    return {f"rsi_{n}": talib.RSI(a["close"], timeperiod=n)}


def compute_macd(a: Arrays, fast: int, slow: int, signal: int) -> dict[str, np.ndarray]:
    line, sig, hist = talib.MACD(a["close"], fastperiod=fast, slowperiod=slow, signalperiod=signal)
    suffix = f"{fast}_{slow}_{signal}"
    return {f"macd_{suffix}": line, f"macd_signal_{suffix}": sig, f"macd_hist_{suffix}": hist}


def compute_atr(a: Arrays, n: int) -> dict[str, np.ndarray]:
    return {f"atr_{n}": talib.ATR(a["high"], a["low"], a["close"], timeperiod=n)}


def compute_bollinger(a: Arrays, n: int, k: float) -> dict[str, np.ndarray]:
    upper, middle, lower = talib.BBANDS(a["close"], timeperiod=n, nbdevup=k, nbdevdn=k,
                                         matype=talib.MA_Type.SMA)
    suffix = f"{n}_{format_number(k)}"
    return {f"bb_upper_{suffix}": upper, f"bb_middle_{suffix}": middle, f"bb_lower_{suffix}": lower}


def compute_stochastic(a: Arrays, k: int, smooth_k: int, d: int) -> dict[str, np.ndarray]:
    slow_k, slow_d = talib.STOCH(
        a["high"], a["low"], a["close"],
        fastk_period=k, slowk_period=smooth_k, slowk_matype=talib.MA_Type.SMA, slowd_period=d,
        slowd_matype=talib.MA_Type.SMA,
    )  # fmt: skip
    suffix = f"{k}_{smooth_k}_{d}"
    return {f"stoch_k_{suffix}": slow_k, f"stoch_d_{suffix}": slow_d}


def compute_adx(a: Arrays, n: int) -> dict[str, np.ndarray]:
    return {f"adx_{n}": talib.ADX(a["high"], a["low"], a["close"], timeperiod=n)}


def compute_obv(a: Arrays) -> dict[str, np.ndarray]:
    return {"obv": talib.OBV(a["close"], a["volume"])}


# --- public API: frame in, frame with columns added out ------------------------------------


def sma(frame: pl.DataFrame, n: int = 20) -> pl.DataFrame:
    """Simple moving average of close, ``sma_{n}``; first ``n - 1`` bars null."""
    n = check_period("n", n, 1)
    return _add(frame, compute_sma(arrays(frame, "close"), n))


def ema(frame: pl.DataFrame, n: int = 9) -> pl.DataFrame:
    """Exponential moving average of close, ``ema_{n}``, seeded (as TA-Lib does) with the SMA of
    the first ``n`` closes; first ``n - 1`` bars null."""
    n = check_period("n", n, 1)
    return _add(frame, compute_ema(arrays(frame, "close"), n))


def wma(frame: pl.DataFrame, n: int = 20) -> pl.DataFrame:
    """Linearly weighted moving average of close, ``wma_{n}``; first ``n - 1`` bars null."""
    n = check_period("n", n, 1)
    return _add(frame, compute_wma(arrays(frame, "close"), n))


def rsi(frame: pl.DataFrame, n: int = 14) -> pl.DataFrame:
    """Wilder's RSI of close (0-100), ``rsi_{n}``; first ``n`` bars null."""
    n = check_period("n", n, 2)
    return _add(frame, compute_rsi(arrays(frame, "close"), n))


def macd(frame: pl.DataFrame, fast: int = 12, slow: int = 26, signal: int = 9) -> pl.DataFrame:
    """MACD line, signal and histogram: ``macd_{f}_{s}_{g}``, ``macd_signal_…``, ``macd_hist_…``.

    All three are null for the first ``slow + signal - 2`` bars (TA-Lib aligns them)."""
    fast = check_period("fast", fast, 2)
    slow = check_period("slow", slow, 2)
    signal = check_period("signal", signal, 1)
    if fast >= slow:
        raise ValueError(f"fast must be < slow, got fast={fast}, slow={slow}")
    return _add(frame, compute_macd(arrays(frame, "close"), fast, slow, signal))


def atr(frame: pl.DataFrame, n: int = 14) -> pl.DataFrame:
    """Wilder's average true range, ``atr_{n}``; first ``n`` bars null."""
    n = check_period("n", n, 1)
    return _add(frame, compute_atr(arrays(frame, "high", "low", "close"), n))


def bollinger(frame: pl.DataFrame, n: int = 20, k: float = 2.0) -> pl.DataFrame:
    """Bollinger Bands: SMA(n) of close +/- k population standard deviations.

    Columns ``bb_upper_{n}_{k}``, ``bb_middle_…``, ``bb_lower_…`` (k without a trailing ``.0``);
    first ``n - 1`` bars null."""
    n = check_period("n", n, 2)
    if isinstance(k, bool) or not isinstance(k, (int, float)) or not 0 < k <= 100 or k != k:
        raise ValueError(f"k must be a number in (0, 100], got {k!r}")
    return _add(frame, compute_bollinger(arrays(frame, "close"), n, float(k)))


def stochastic(frame: pl.DataFrame, k: int = 14, smooth_k: int = 3, d: int = 3) -> pl.DataFrame:
    """Slow stochastic: %K over ``k`` bars smoothed by an SMA of ``smooth_k``, %D an SMA of ``d``.

    Columns ``stoch_k_{k}_{smooth_k}_{d}`` and ``stoch_d_…``; first ``k + smooth_k + d - 3``
    bars null."""
    k = check_period("k", k, 1)
    smooth_k = check_period("smooth_k", smooth_k, 1)
    d = check_period("d", d, 1)
    return _add(frame, compute_stochastic(arrays(frame, "high", "low", "close"), k, smooth_k, d))


def adx(frame: pl.DataFrame, n: int = 14) -> pl.DataFrame:
    """Wilder's average directional index, ``adx_{n}``; first ``2n - 1`` bars null."""
    n = check_period("n", n, 2)
    return _add(frame, compute_adx(arrays(frame, "high", "low", "close"), n))


def obv(frame: pl.DataFrame) -> pl.DataFrame:
    """On-balance volume, ``obv``, starting at the first bar's volume (TA-Lib); never null."""
    return _add(frame, compute_obv(arrays(frame, "close", "volume")))
