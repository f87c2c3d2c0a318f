"""Risk: every order, manual or from a strategy, passes one engine with a visible state.

``RiskEngine.check(request, RiskContext) -> RiskDecision``; states ACTIVE / REDUCING / HALTED;
the day's realised loss persists through :class:`DayState` (``core.day``, re-exported here).
See ``docs/risk.md``.
"""

from tradeterm.core.day import DayState, TradingState
from tradeterm.risk.context import RiskContext, RiskDecision, reduces_position
from tradeterm.risk.engine import RiskEngine, flatten_requests

__all__ = [
    "DayState",
    "RiskContext",
    "RiskDecision",
    "RiskEngine",
    "TradingState",
    "flatten_requests",
    "reduces_position",
]
