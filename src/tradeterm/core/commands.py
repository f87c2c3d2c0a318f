"""Commands: the only way the UI (or a script) asks the engine to do something."""

from __future__ import annotations

from dataclasses import dataclass


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
