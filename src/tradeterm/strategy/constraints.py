"""Parameter constraints a strategy declares as data: ``constraints = ("fast < slow",)``.

Why declared, not only a ``Params`` validator: the optimiser must refuse a combination such as
fast=50 with slow=5 *before* it runs (a refused Optuna trial is pruned, counted, never
backtested), and a declaration it can read says so without building the model; a pydantic
``model_validator`` still works and is checked as well (``backtest.optimize.refused``).

Grammar: ``A OP B [OP C ...]`` where each operand is a parameter name or a number and ``OP`` is
one of ``< <= > >= == !=`` (chained as in Python: ``"fast < slow < trend"``). Nothing is
evaluated as code.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, ">": operator.gt,
}
_TOKEN = re.compile(r"\s*(<=|>=|==|!=|<|>)\s*")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE]-?\d+)?")
_NAME = re.compile(r"[A-Za-z_]\w*")


class ConstraintError(ValueError):
    """A constraint that cannot be read, or names an unknown parameter."""


def parse(text: str, names: set[str]) -> list[tuple[str, str, str]]:
    """``"fast < slow"`` -> ``[("fast", "<", "slow")]``; chained comparisons give one triple
    per operator. Operands must be numbers or names in ``names``."""
    parts = _TOKEN.split(text.strip())
    if len(parts) < 3 or len(parts) % 2 == 0:
        raise ConstraintError(f"constraint {text!r}: expected 'a < b' (operators {', '.join(_OPS)})")
    operands = [p.strip() for p in parts[0::2]]
    for operand in operands:
        if _NUMBER.fullmatch(operand):
            continue
        if not _NAME.fullmatch(operand):
            raise ConstraintError(f"constraint {text!r}: {operand!r} is not a name or a number")
        if operand not in names:
            known = ", ".join(sorted(names)) or "none"
            raise ConstraintError(
                f"constraint {text!r}: unknown parameter {operand!r} (parameters: {known})")
    return [(operands[i], parts[2 * i + 1], operands[i + 1]) for i in range(len(operands) - 1)]


def _value(operand: str, params: Mapping[str, Any]) -> Any:
    return params[operand] if _NAME.fullmatch(operand) else float(operand)


def holds(text: str, params: Mapping[str, Any]) -> bool:
    """Whether ``params`` satisfies one constraint."""
    return all(_OPS[op](_value(a, params), _value(b, params))
               for a, op, b in parse(text, set(params)))


def violated(cls: Any, params: Mapping[str, Any]) -> str | None:
    """The first of ``cls.constraints`` that ``params`` (every parameter) breaks, or None."""
    for text in getattr(cls, "constraints", ()):
        if not holds(text, params):
            return str(text)
    return None


def check_declared(cls: Any) -> None:
    """Raise :class:`ConstraintError` when a declared constraint cannot be read or names an
    unknown parameter (``Strategy.check_definition`` says so when the file loads)."""
    constraints = getattr(cls, "constraints", ())
    if not isinstance(constraints, tuple) or not all(isinstance(c, str) for c in constraints):
        raise ConstraintError(f"constraints must be a tuple of strings, got {constraints!r}")
    names = set(cls.Params.model_fields)
    for text in constraints:
        parse(text, names)
