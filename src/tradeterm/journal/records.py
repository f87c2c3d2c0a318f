"""What the journal stores beyond the core types: runs, signal outcomes, equity, risk, commands.

Orders, fills, closed trades and account snapshots are the shared types of ``core.trading``
(and the ``core.events`` that carry them); these small records cover the rest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from tradeterm.core.day import DayState as DayState  # the risk engine's day (one type)
from tradeterm.core.models import Signal
from tradeterm.core.trading import AccountSnapshot, Order, Position


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One engine start; later rows carry its id."""

    started_ms: int
    version: str
    mode: str
    config_hash: str


@dataclass(frozen=True, slots=True)
class SignalRecord:
    """A strategy signal and what became of it (``accepted``, ``denied`` with the reason...)."""

    timestamp: int
    signal: Signal
    status: str = "emitted"
    reason: str | None = None
    order_id: str | None = None


@dataclass(frozen=True, slots=True)
class AccountRecord:
    """The account at ``timestamp``: updates the restore row, open positions and equity curve.

    The engine writes one with every fill (in the same ``commit`` as the fill) and every minute.
    """

    timestamp: int
    account: AccountSnapshot


@dataclass(frozen=True, slots=True)
class EquityPoint:
    timestamp: int
    equity: Decimal
    balance: Decimal
    unrealized_pnl: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class RiskEvent:
    """A trading state change (``kind="state"``) or a denial (``kind="denied"``) with its rule."""

    timestamp: int
    kind: str
    reason: str
    state: str | None = None
    rule: str | None = None
    symbol: str | None = None
    side: str | None = None
    quantity: Decimal | None = None
    strategy: str | None = None


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """What the user (or a script) asked for, and when; ``detail`` is free text (e.g. JSON)."""

    timestamp: int
    command: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class RestoredState:
    """Everything a restarted engine needs to continue exactly where it stopped."""

    positions: tuple[Position, ...]
    orders: tuple[Order, ...]  # working orders only
    balance: Decimal | None  # None: a new journal (use the configured starting balance)
    realized_today: Decimal
    day_state: DayState | None
    last_equity: EquityPoint | None
    quote: str | None = None


def config_hash(settings_json: str) -> str:
    """A short stable fingerprint of the settings a run used (for ``runs.config_hash``)."""
    return hashlib.sha256(settings_json.encode()).hexdigest()[:16]
