"""The visible trading state and the day's risk state that must survive a restart.

The trading state is what the status bar shows and what decides which orders may even be
considered: ACTIVE (all rules apply), REDUCING (only orders that reduce an open position pass:
the daily loss limit), HALTED (only reduce-only orders closing a position pass: the kill switch
and its own flattening; cancels never go through risk at all).

:class:`DayState` is what the journal stores so that a restart does not forget the day's losses
(the top complaint about bots that "reset" their loss limit by crashing).
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
    """The UTC day's risk counters, persisted by the journal and handed back on start.

    ``start_equity`` is zero when the engine had not seen the account's equity yet (unknown).
    ``halted_reason`` is the reason of the state's last non-ACTIVE cause: it starts with
    ``"kill_switch"`` when the user's kill switch is on (which, unlike the day's counters,
    outlives midnight) or with ``"daily_loss_limit"`` when the loss limit tripped today.
    """

    day: date
    start_equity: Decimal
    realized: Decimal
    halted_reason: str | None = None


def utc_day(ms: int) -> date:
    """The UTC calendar day of an epoch timestamp in ms (integer arithmetic, no local time)."""
    return _EPOCH + timedelta(days=ms // DAY_MS)

