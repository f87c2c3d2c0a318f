"""Commands: the only way the UI (or a script) asks the engine to do something."""

from __future__ import annotations

from dataclasses import dataclass

from tradeterm.core.trading import OrderRequest


@dataclass(frozen=True, slots=True)
class Command:
    pass


@dataclass(frozen=True, slots=True)
class SwitchSymbol(Command):
    symbol: str


@dataclass(frozen=True, slots=True)
class SwitchTimeframe(Command):
    timeframe: str


@dataclass(frozen=True, slots=True)
class AddToWatchlist(Command):
    """Add a listed symbol to the engine's watchlist (every screen's) and to the ``symbols`` of
    the config file the engine was started with (docs/config.md)."""

    symbol: str


@dataclass(frozen=True, slots=True)
class SwitchToDemo(Command):
    """Drop the configured exchange and connect to the built-in simulated market instead."""


@dataclass(frozen=True, slots=True)
class Shutdown(Command):
    pass


@dataclass(frozen=True, slots=True)
class StartStrategy(Command):
    """Enable a loaded strategy (the look-ahead guard runs first)."""

    name: str


@dataclass(frozen=True, slots=True)
class StopStrategy(Command):
    """Stop evaluating a strategy; it stays loaded."""

    name: str


# -- trading (see docs/trading.md): every one is journaled; orders pass the risk engine ----------


@dataclass(frozen=True, slots=True)
class PlaceOrder(Command):
    """A manual order (or a script's): risk, then the broker."""

    request: OrderRequest


@dataclass(frozen=True, slots=True)
class CancelOrder(Command):
    """Cancel a working order. A bracket leg (stop or target) takes its OCO sibling with it
    unless ``keep_other_leg``: then the other leg keeps protecting the position alone."""

    order_id: str
    keep_other_leg: bool = False


@dataclass(frozen=True, slots=True)
class ClosePosition(Command):
    """A reduce-only market order closing the open position on ``symbol``."""

    symbol: str


@dataclass(frozen=True, slots=True)
class FlattenAll(Command):
    """Close every open position (reduce-only market orders); working orders stay."""


@dataclass(frozen=True, slots=True)
class KillSwitch(Command):
    """HALT trading, cancel every working order, flatten every position."""

    reason: str = "kill switch"


@dataclass(frozen=True, slots=True)
class ResumeTrading(Command):
    """Lift the kill switch (or a journal halt): the user's decision, never automatic."""


# -- bar replay (``tradeterm --replay FILE``): the simulator's clock, driven from the UI ----------


@dataclass(frozen=True, slots=True)
class ReplayControl(Command):
    """``pause``, ``resume``, ``step`` (one bar, while paused) or ``speed`` (times ``factor``)."""

    action: str
    factor: float = 1.0
