"""The one reader of candle parquet files: replay, ``check-strategy --data``, backtests, the
download store and the backtest screen all read candles through here.

A file is accepted only if it is a candle frame (:data:`CANDLE_SCHEMA`): a time column
``open_time`` (or ``timestamp_ms``, the shared archives' name) of integers in ms, and ``open``,
``high``, ``low``, ``close``, ``volume`` as numbers; no nulls, no NaN or infinite values,
positive prices, volume not negative, times strictly ascending (sorted, no duplicates). Anything
else is a :class:`CandleFileError` with one line naming the file and the problem: a strategy
or a backtest fed silently repaired candles would lie, so nothing is sorted, de-duplicated or
dropped here.

Depends on polars and ``indicators.frame`` only (it sits below strategy, backtest, sim and ui).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tradeterm.indicators.frame import CANDLE_SCHEMA

TIME = "open_time"
TIME_ALIASES = ("open_time", "timestamp_ms")
PRICES = ("open", "high", "low", "close")
VALUES = (*PRICES, "volume")
EXPECTED = "a parquet file with columns open_time (or timestamp_ms), open, high, low, close, volume"


_READ_ERRORS = (OSError, ValueError, pl.exceptions.PolarsError, pl.exceptions.PanicException)
"""What polars raises on a damaged file (a panic in its Rust reader is a BaseException)."""


class CandleFileError(ValueError):
    """A candle file that cannot be used; the message (one line) names the file and why."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__


def _schema(path: Path) -> dict[str, pl.DataType]:
    """The file's columns and dtypes (footer only), or why it is not a readable parquet file."""
    if path.is_dir():
        raise CandleFileError(f"{path}: is a directory; expected {EXPECTED}")
    if not path.is_file():
        raise CandleFileError(f"{path}: file not found")
    try:
        return dict(pl.read_parquet_schema(path))
    except _READ_ERRORS as exc:
        raise CandleFileError(
            f"{path}: not a readable parquet file ({_first_line(exc)}); expected {EXPECTED}"
        ) from None


def _time_column(path: Path, schema: dict[str, pl.DataType]) -> str:
    name = next((c for c in TIME_ALIASES if c in schema), None)
    if name is None:
        raise CandleFileError(f"{path}: no time column (open_time or timestamp_ms); "
                              f"expected {EXPECTED}")
    if not schema[name].is_integer():
        raise CandleFileError(f"{path}: column {name} has type {schema[name]}; expected integer "
                              "milliseconds since the epoch")
    return name


def _read(path: Path, columns: list[str]) -> pl.DataFrame:
    try:
        return pl.read_parquet(path, columns=columns)
    except _READ_ERRORS as exc:
        raise CandleFileError(
            f"{path}: cannot read it, truncated or damaged ({_first_line(exc)})"
        ) from None


def _check_times(path: Path, times: pl.Series, allow_empty: bool) -> None:
    if times.len() == 0:
        if allow_empty:
            return
        raise CandleFileError(f"{path}: no candles (the file has no rows)")
    if times.null_count():
        raise CandleFileError(f"{path}: {times.null_count()} missing open time(s)")
    steps = times.diff().slice(1)
    bad = steps.le(0).arg_true()
    if bad.len():
        row = int(bad[0]) + 1
        what = "a duplicate" if steps[row - 1] == 0 else "out of order"
        raise CandleFileError(f"{path}: open time {times[row]} at row {row} is {what}; "
                              "expected strictly ascending times, one row per bar")


def read_candle_times(path: Path) -> pl.Series:
    """Only the open times (``open_time``, Int64) of a candle file, checked: cheap for listings."""
    name = _time_column(path, _schema(path))
    times = _read(path, [name])[name].cast(pl.Int64).rename(TIME)
    _check_times(path, times, allow_empty=True)
    return times


def read_candle_file(path: Path, *, allow_empty: bool = False) -> pl.DataFrame:
    """The candle frame of ``path`` (:data:`CANDLE_SCHEMA`, in file order), fully checked.

    Raises :class:`CandleFileError` (one line naming the file) for anything but a clean candle
    file. ``allow_empty`` accepts a file with no rows (the download store's).
    """
    path = Path(path)
    schema = _schema(path)
    time = _time_column(path, schema)
    missing = [c for c in VALUES if c not in schema]
    if missing:
        raise CandleFileError(f"{path}: missing column(s) {', '.join(missing)}; "
                              f"expected {EXPECTED}")
    for col in VALUES:
        if not schema[col].is_numeric():
            raise CandleFileError(f"{path}: column {col} has type {schema[col]}; expected numbers")
    df = _read(path, [time, *VALUES]).rename({time: TIME})
    _check_times(path, df[TIME], allow_empty)
    df = df.cast(CANDLE_SCHEMA)  # type: ignore[arg-type]  # integers and numbers: lossless here
    for col in VALUES:
        values = df[col]
        if values.null_count():
            row = int(values.is_null().arg_true()[0])
            raise CandleFileError(f"{path}: column {col} is empty at row {row} "
                                  f"(open time {df[TIME][row]})")
        finite = values.is_finite()
        if not finite.all():
            row = int((~finite).arg_true()[0])
            raise CandleFileError(f"{path}: column {col} is {values[row]} at row {row} "
                                  f"(open time {df[TIME][row]}); expected a finite number")
        low = values.le(0) if col in PRICES else values.lt(0)
        if low.any():
            row = int(low.arg_true()[0])
            need = "positive prices" if col in PRICES else "a volume of 0 or more"
            raise CandleFileError(f"{path}: column {col} is {values[row]} at row {row} "
                                  f"(open time {df[TIME][row]}); expected {need}")
    return df
