"""Strategies: the API user files subclass, their loader, the look-ahead guard and the engine.

Strategy files import from here: ``from tradeterm.strategy import Strategy``. Kept light: the
engine (``tradeterm.strategy.engine``) is imported on its own, in a thread, by the Engine.
"""

from tradeterm.strategy.api import ParamSpec, Strategy, StrategyError, StrategyOutputError

__all__ = ["ParamSpec", "Strategy", "StrategyError", "StrategyOutputError"]
