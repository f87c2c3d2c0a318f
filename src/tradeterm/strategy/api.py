"""The Strategy API: one small class per file in ``strategies/``, vectorised over a candle frame.

A strategy adds columns to the candle frame in two steps, ``indicators`` then ``signals``, and
the same code serves the live engine (evaluated on the closed bars at every candle close) and
backtests (evaluated once on the whole history). :meth:`Strategy.evaluate` runs both steps and
checks the standard output columns, so a mistake in user code is an error naming the column
instead of a wrong signal later. See ``docs/strategy-api.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, cast

import polars as pl
from annotated_types import Ge, Gt, Le, Lt, MultipleOf
from pydantic import BaseModel, ConfigDict, ValidationError

from tradeterm.core.models import TIMEFRAME_MS

ENTRY_EXIT_COLUMNS: tuple[str, ...] = ("entry_long", "entry_short", "exit_long", "exit_short")
"""Boolean columns every strategy must produce; null means False."""

PRICE_COLUMNS: tuple[str, ...] = ("entry", "stop", "target_1", "target_2", "target_3")
"""Optional Float64 price columns (``entry`` defaults to the bar's close)."""

CONFIDENCE_COLUMN = "confidence"
REASONS_COLUMN = "reasons"
STATUS_COLUMN = "status"
"""Optional String column: the newest bar's value is shown beside the strategy in the signals
panel at every close, whether or not a signal fired (``StrategyHealth.note``)."""
REASON_SEPARATOR = ";"

CANDLE_COLUMNS: tuple[str, ...] = ("open_time", "open", "high", "low", "close", "volume")


class StrategyError(Exception):
    """A strategy class or its output breaks the API; the message says what and where."""


class StrategyDefinitionError(StrategyError):
    """The class itself is wrong (no name, unknown timeframe, Params not instantiable...)."""


class StrategyOutputError(StrategyError):
    """``evaluate`` produced a frame that breaks the contract (missing or ill-typed column)."""


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One tunable parameter as the optimiser sees it: type, default and bounds (None = open)."""

    name: str
    type: type
    default: Any
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    multiple_of: float | None = None
    description: str | None = None


class Strategy:
    """Base class of every strategy. Subclass it, set the class attributes, write two methods.

    ``warmup`` bars at the start of any frame are not trusted: :meth:`evaluate` forces the
    entry/exit columns to False there, so indicators still seeding never produce a signal.
    """

    name: ClassVar[str]
    symbols: ClassVar[tuple[str, ...]] = ()  # empty: follows the chart's symbol
    timeframe: ClassVar[str] = "1m"
    warmup: ClassVar[int] = 0
    # parameter constraints the optimiser checks before a run: ("fast < slow",); see
    # tradeterm.strategy.constraints for the grammar
    constraints: ClassVar[tuple[str, ...]] = ()
    # numeric columns of its frame worth seeing: the workstation's indicator panes offer them
    # ("Pane 2: ema_cross fast_ema"), with the values of its live evaluations
    plots: ClassVar[tuple[str, ...]] = ()
    # set by a strategy whose signals depend on an input besides the candles that it replaces
    # on purpose (ml_signal: its model's version): the live recheck (strategy/recheck.py) does
    # not compare a bar acted on under another epoch
    recheck_epoch: object = None

    class Params(BaseModel):
        """Typed parameters with defaults and ranges: ``fast: int = Field(9, ge=2, le=50)``."""

        model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    def __init__(self, params: BaseModel | dict[str, Any] | None = None) -> None:
        if params is None:
            params = self.Params()
        elif isinstance(params, dict):
            params = self.Params(**params)
        self.params = params

    # -- what a strategy writes -----------------------------------------------------------------

    def indicators(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Add the indicator columns the signals need (default: none)."""
        return frame

    def signals(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Add ``entry_long``, ``entry_short``, ``exit_long``, ``exit_short`` (and optional
        ``entry``, ``stop``, ``target_1..3``, ``confidence``, ``reasons``)."""
        raise NotImplementedError(f"{type(self).__name__}.signals is not written")

    # -- what the engine, the guard and backtests call ------------------------------------------

    def compute(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Both steps, unchecked and untouched (the look-ahead guard compares this raw output,
        where a peeking column still shows as a null at the prefix's last bar)."""
        out = self.signals(self.indicators(frame))
        if not isinstance(out, pl.DataFrame):
            raise StrategyOutputError(
                f"{self.name}: indicators/signals must return a polars DataFrame, "
                f"got {type(out).__name__}"
            )
        return out

    def evaluate(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Run :meth:`compute` and return its output checked and normalised (see module doc)."""
        return normalise_output(self.compute(frame), frame.height, self.warmup, self.name)

    @classmethod
    def param_space(cls) -> dict[str, ParamSpec]:
        """The parameters with their types, defaults and bounds, for the optimiser."""
        space: dict[str, ParamSpec] = {}
        for name, info in cls.Params.model_fields.items():
            bounds: dict[str, float] = {}
            for meta in info.metadata:
                for kind, attr in ((Ge, "ge"), (Gt, "gt"), (Le, "le"), (Lt, "lt")):
                    if isinstance(meta, kind):
                        bounds[attr] = getattr(meta, attr)
                if isinstance(meta, MultipleOf):
                    bounds["multiple_of"] = cast(float, meta.multiple_of)
            annotation = info.annotation if isinstance(info.annotation, type) else object
            space[name] = ParamSpec(
                name=name,
                type=annotation,
                default=info.get_default(call_default_factory=True),
                description=info.description,
                **bounds,
            )
        return space

    @classmethod
    def check_definition(cls) -> None:
        """Raise :class:`StrategyDefinitionError` if the class breaks the API."""
        label = cls.__name__
        name = getattr(cls, "name", None)
        if not isinstance(name, str) or not name.strip():
            raise StrategyDefinitionError(f"{label}: set a class attribute name = '...'")
        if cls.timeframe not in TIMEFRAME_MS:
            raise StrategyDefinitionError(
                f"{name}: unknown timeframe {cls.timeframe!r}; expected one of "
                f"{', '.join(TIMEFRAME_MS)}"
            )
        if not isinstance(cls.symbols, tuple) or not all(
            isinstance(s, str) and "/" in s for s in cls.symbols
        ):
            raise StrategyDefinitionError(
                f"{name}: symbols must be a tuple of 'BASE/QUOTE' strings, got {cls.symbols!r}"
            )
        if not isinstance(cls.plots, tuple) or not all(
            isinstance(c, str) and c.strip() for c in cls.plots
        ):
            raise StrategyDefinitionError(
                f"{name}: plots must be a tuple of column names, got {cls.plots!r}"
            )
        if not isinstance(cls.warmup, int) or cls.warmup < 0:
            raise StrategyDefinitionError(f"{name}: warmup must be an int >= 0, got {cls.warmup!r}")
        if not (isinstance(cls.Params, type) and issubclass(cls.Params, BaseModel)):
            raise StrategyDefinitionError(f"{name}: Params must be a pydantic BaseModel subclass")
        try:
            cls.Params()
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "?"
            raise StrategyDefinitionError(
                f"{name}: Params() with the defaults fails on {field!r}: {first['msg']}"
            ) from None
        from tradeterm.strategy.constraints import ConstraintError, check_declared

        try:
            check_declared(cls)
        except ConstraintError as exc:
            raise StrategyDefinitionError(f"{name}: {exc}") from None
        if cls.signals is Strategy.signals:
            raise StrategyDefinitionError(f"{name}: the signals(frame) method is missing")


def _require_dtype(
    schema: pl.Schema, column: str, accept: tuple[type[pl.DataType], ...], want: str, who: str
) -> None:
    dtype = schema[column]
    if not any(isinstance(dtype, kind) or dtype == kind for kind in accept):
        raise StrategyOutputError(f"{who}: column {column!r} must be {want}, got {dtype}")


def missing_plots(out: pl.DataFrame, plots: tuple[str, ...], who: str) -> str | None:
    """Why ``out`` cannot give the columns a strategy declares in ``plots`` (None: it can)."""
    for column in plots:
        if column not in out.columns:
            return f"{who}: plots names {column!r}, which its frame does not have"
        dtype = out.schema[column]
        if not (dtype.is_numeric() or dtype == pl.Null):
            return f"{who}: plots column {column!r} must be numeric, got {dtype}"
    return None


def normalise_output(out: pl.DataFrame, height: int, warmup: int, who: str) -> pl.DataFrame:
    """Check the standard columns and return them normalised.

    Entry/exit columns must be Boolean (null becomes False, and the first ``warmup`` rows are
    False); price columns and ``confidence`` numeric (cast to Float64; confidence within 0..1);
    ``reasons`` String. The candle columns must still be there and the row count unchanged.
    """
    if out.height != height:
        raise StrategyOutputError(
            f"{who}: the output has {out.height} rows for {height} input bars "
            "(add columns with with_columns; never filter or shift rows away)"
        )
    schema = out.schema  # built once: polars makes a new Schema object at every access
    for column in CANDLE_COLUMNS:
        if column not in schema:
            raise StrategyOutputError(f"{who}: the candle column {column!r} was dropped")
    for column in ENTRY_EXIT_COLUMNS:
        if column not in schema:
            raise StrategyOutputError(f"{who}: missing column {column!r} (Boolean)")
        _require_dtype(schema, column, (pl.Boolean,), "Boolean", who)
    numeric = (*PRICE_COLUMNS, CONFIDENCE_COLUMN)
    for column in numeric:
        if column in schema:
            dtype = schema[column]
            if not (dtype.is_numeric() or dtype == pl.Null):
                raise StrategyOutputError(f"{who}: column {column!r} must be Float64, got {dtype}")
    if REASONS_COLUMN in schema:
        _require_dtype(schema, REASONS_COLUMN, (pl.String, pl.Null), "String", who)

    in_warmup = pl.int_range(pl.len()) < warmup
    fixes = [
        pl.when(in_warmup).then(False).otherwise(pl.col(c).fill_null(False)).alias(c)
        for c in ENTRY_EXIT_COLUMNS
    ]
    fixes += [pl.col(c).cast(pl.Float64) for c in numeric if c in schema]
    if REASONS_COLUMN in schema:
        fixes.append(pl.col(REASONS_COLUMN).cast(pl.String))
    out = out.with_columns(fixes)
    if CONFIDENCE_COLUMN in out.columns:
        bad = out.filter((pl.col(CONFIDENCE_COLUMN) < 0) | (pl.col(CONFIDENCE_COLUMN) > 1))
        if bad.height:
            raise StrategyOutputError(
                f"{who}: column 'confidence' must be within 0..1, got "
                f"{bad.get_column(CONFIDENCE_COLUMN)[0]!r} at open_time "
                f"{bad.get_column('open_time')[0]}"
            )
    return out
