"""The visible trading state and the day's risk state that must survive a restart.

The trading state is what the status bar shows and what decides which orders may even be
considered: ACTIVE (all rules apply), REDUCING (only orders that reduce an open position pass:
the daily loss limit), HALTED (only reduce-only orders closing a position pass: the kill switch
and its own flattening; cancels never go through risk at all).

:class:`DayState` is what the risk engine hands the journal so that a restart does not forget the
day's losses (the top complaint about bots that "reset" their loss limit by crashing). One type
for risk, desk and journal, here in ``core`` because risk and journal sit side by side in the
layers of ``docs/architecture.md`` and may not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import Enum

DAY_MS = 86_400_000
_EPOCH = date(1970, 1, 1)


class TradingState(str, Enum):
    ACTIVE = "active"
    REDUCING = "reducing"  # only orders that reduce an open position pass
    HALTED = "halted"  # only reduce-only orders closing a position (the kill switch's flatten)


@dataclass(frozen=True, slots=True)
class DayState:
    """The UTC day's risk counters and the two reasons trading may be held back.

    ``start_equity`` is zero when the engine had not seen the account's equity yet (unknown).
    ``kill_reason`` is the user's (or the journal's) words while the kill switch is on; unlike the
    day's counters it outlives midnight. ``loss_reason`` says how the daily loss limit tripped
    today (it starts with ``"daily_loss_limit"``). ``updated_ms`` is when this was taken.
    """

    day: date
    start_equity: Decimal
    realized: Decimal
    kill_reason: str | None = None
    loss_reason: str | None = None
    updated_ms: int = 0

    @property
    def state(self) -> TradingState:
        """The trading state these reasons put trading in: the kill switch wins."""
        if self.kill_reason is not None:
            return TradingState.HALTED
        if self.loss_reason is not None:
            return TradingState.REDUCING
        return TradingState.ACTIVE


def utc_day(ms: int) -> date:
    """The UTC calendar day of an epoch timestamp in ms (integer arithmetic, no local time)."""
    return _EPOCH + timedelta(days=ms // DAY_MS)
