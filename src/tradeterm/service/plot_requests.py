"""``strategy.plots``: the columns a strategy declares plottable, for a screen's indicator pane.

``{strategy, symbol, timeframe, since, first}`` -> ``{"open_times": [...], "columns": {name:
[value | None, ...]}}``: the values of the strategy's newest evaluation on that market, only
from open time ``since`` on (the screen holds the rest) and not before ``first`` (the oldest
candle the screen's chart shows), at most the worker's ``PLOT_BARS``. A screen asks only
while a pane shows such a column, and again only after the strategy ran (its ``last_run_ms``
moved) or its chart scrolled further back, so this stays off the view updates every client
gets.
Answered from memory on the loop: no evaluation is run for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradeterm.service.asking import Asker, RequestRefused

if TYPE_CHECKING:
    from tradeterm.engine import Engine


def _text(args: dict[str, Any], name: str) -> str:
    value = args.get(name)
    if not isinstance(value, str) or not value:
        raise RequestRefused(f"strategy.plots needs {name} (a non-empty string)")
    return value


async def plots(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    strategy, symbol = _text(args, "strategy"), _text(args, "symbol")
    timeframe = _text(args, "timeframe")
    bounds = [args.get("since"), args.get("first")]
    for value in bounds:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise RequestRefused("strategy.plots: since and first must be open times in ms or "
                                 "null")
    start = max((b for b in bounds if b is not None), default=None)
    strategies = getattr(engine, "strategies", None)
    held = strategies.plots(strategy, symbol, timeframe, start) if strategies is not None else None
    if held is None:
        return {"open_times": [], "columns": {}}
    times, columns = held
    return {"open_times": list(times), "columns": {c: list(v) for c, v in columns.items()}}
