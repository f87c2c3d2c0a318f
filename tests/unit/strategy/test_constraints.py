"""Declared parameter constraints (``Strategy.constraints``): read as data, checked by the
optimiser before a run, and checked for unknown names when the strategy is defined."""

from __future__ import annotations

import pytest
from pydantic import Field

from tradeterm.backtest.optimize import refused, validate_candidates
from tradeterm.strategy.api import Strategy, StrategyDefinitionError
from tradeterm.strategy.constraints import ConstraintError, holds, parse


class Ordered(Strategy):
    name = "ordered"
    constraints = ("fast < slow <= trend", "slow != 13")

    class Params(Strategy.Params):
        fast: int = Field(5, ge=1, le=50)
        slow: int = Field(10, ge=1, le=50)
        trend: int = Field(20, ge=1, le=50)

    def signals(self, frame):  # pragma: no cover - never evaluated here
        return frame


def test_chained_comparisons_and_numbers():
    assert parse("fast < slow <= 30", {"fast", "slow"}) == [("fast", "<", "slow"),
                                                             ("slow", "<=", "30")]
    assert holds("fast < slow <= 30", {"fast": 2, "slow": 30})
    assert not holds("fast < slow <= 30", {"fast": 2, "slow": 31})
    assert not holds("fast < slow", {"fast": 5, "slow": 5})


def test_the_optimiser_refuses_before_running():
    assert refused(Ordered, {"fast": 5, "slow": 10}) is None  # trend keeps its default 20
    assert refused(Ordered, {"fast": 10, "slow": 10}) == "constraint fast < slow <= trend"
    assert refused(Ordered, {"slow": 13}) == "constraint slow != 13"
    assert refused(Ordered, {"fast": 99}).startswith("fast: ")  # the Params bound
    valid, count = validate_candidates(
        Ordered, [{"fast": f, "slow": s} for f in (5, 15) for s in (10, 20)])
    assert valid == [{"fast": 5, "slow": 10}, {"fast": 5, "slow": 20}, {"fast": 15, "slow": 20}]
    assert count == 1


@pytest.mark.parametrize(("text", "message"), [
    ("fast < speed", "unknown parameter 'speed'"),
    ("fast", "expected 'a < b'"),
    ("fast < __import__('os')", "is not a name or a number"),
])
def test_bad_declarations_are_definition_errors(text, message):
    with pytest.raises(ConstraintError, match=message):
        parse(text, {"fast", "slow"})

    class Bad(Ordered):
        constraints = (text,)

    with pytest.raises(StrategyDefinitionError, match=message.split("'")[0]):
        Bad.check_definition()
    Ordered.check_definition()
