"""The Strategy API: definition checks, output validation, normalisation, parameter space."""

from __future__ import annotations

import polars as pl
import pytest
from pydantic import Field
from strat_samples import SmaCross

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.api import (
    Strategy,
    StrategyDefinitionError,
    StrategyOutputError,
)


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return synthetic_candles(300, seed=3)


def test_evaluate_adds_standard_columns_with_their_types(frame):
    out = SmaCross().evaluate(frame)
    schema = out.schema
    for col in ("entry_long", "entry_short", "exit_long", "exit_short"):
        assert schema[col] == pl.Boolean and out.get_column(col).null_count() == 0
    for col in ("stop", "target_1", "target_2", "confidence"):
        assert schema[col] == pl.Float64
    assert schema["reasons"] == pl.String
    assert out.select(frame.columns).equals(frame)  # candle columns untouched


def test_no_signal_inside_the_warmup(frame):
    class Always(SmaCross):
        name = "always"

        def signals(self, f):
            return super().signals(f).with_columns(entry_long=pl.lit(True))

    out = Always().evaluate(frame)
    flags = out.get_column("entry_long").to_list()
    assert not any(flags[: Always.warmup]) and all(flags[Always.warmup :])


def test_null_flags_become_false(frame):
    class Nulls(SmaCross):
        name = "nulls"
        warmup = 0

        def signals(self, f):
            return super().signals(f).with_columns(entry_long=pl.lit(None, pl.Boolean))

    assert Nulls().evaluate(frame).get_column("entry_long").to_list() == [False] * frame.height


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop("exit_short"), "missing column 'exit_short'"),
        (lambda f: f.with_columns(entry_long=pl.lit(1)), "'entry_long' must be Boolean"),
        (lambda f: f.with_columns(stop=pl.lit("x")), "'stop' must be Float64"),
        (lambda f: f.with_columns(reasons=pl.lit(3)), "'reasons' must be String"),
        (lambda f: f.with_columns(confidence=pl.lit(1.5)), "'confidence' must be within 0..1"),
        (lambda f: f.head(10), "10 rows for 300 input bars"),
        (lambda f: f.drop("close"), "candle column 'close' was dropped"),
    ],
)
def test_bad_output_is_an_error_naming_the_column(frame, change, message):
    class Bad(SmaCross):
        name = "bad"

        def signals(self, f):
            return change(super().signals(f))

    with pytest.raises(StrategyOutputError, match=message):
        Bad().evaluate(frame)


def test_integer_prices_are_cast_to_float(frame):
    class IntStop(SmaCross):
        name = "int_stop"

        def signals(self, f):
            return super().signals(f).with_columns(stop=pl.lit(5))

    assert IntStop().evaluate(frame).schema["stop"] == pl.Float64


def test_param_space_exposes_types_defaults_and_bounds():
    space = SmaCross.param_space()
    assert list(space) == ["fast", "slow", "risk"]
    fast = space["fast"]
    assert (fast.type, fast.default, fast.ge, fast.le, fast.gt) == (int, 5, 2, 50, None)
    risk = space["risk"]
    assert (risk.type, risk.default, risk.gt, risk.lt) == (float, 0.01, 0, 0.5)


def test_params_are_validated_and_frozen():
    assert SmaCross({"fast": 7}).params.fast == 7
    with pytest.raises(ValueError, match="fast"):
        SmaCross({"fast": 1})
    with pytest.raises(ValueError):
        SmaCross({"unknown": 1})


def _definition(**attrs):
    body = {"signals": lambda self, f: f, **attrs}
    return type("Def", (Strategy,), body)


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({}, "set a class attribute name"),
        ({"name": "x", "timeframe": "7m"}, "unknown timeframe '7m'"),
        ({"name": "x", "symbols": ("BTCUSDT",)}, "symbols must be a tuple of 'BASE/QUOTE'"),
        ({"name": "x", "warmup": -1}, "warmup must be an int >= 0"),
    ],
)
def test_definition_errors(attrs, message):
    with pytest.raises(StrategyDefinitionError, match=message):
        _definition(**attrs).check_definition()


def test_params_that_cannot_be_built_from_defaults_are_a_definition_error():
    class P(Strategy.Params):
        n: int = Field(1, ge=5)

    with pytest.raises(StrategyDefinitionError, match="Params.*'n'"):
        _definition(name="x", Params=P).check_definition()


def test_missing_signals_method_is_a_definition_error():
    cls = type("NoSignals", (Strategy,), {"name": "nosig"})
    with pytest.raises(StrategyDefinitionError, match="signals"):
        cls.check_definition()
