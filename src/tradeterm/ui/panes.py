"""The two indicator panes under the chart: what each shows, per symbol, and where a strategy
column's values come from.

Pane 1 is always there; pane 2 is switched on and off. Each shows one of
:data:`~tradeterm.ui.widgets.indicator_pane.MODES` or a column an enabled strategy declares in
``plots`` (``strategy:column``; the snapshot's ``StrategyHealth.plots`` lists them). The choice
is remembered per symbol: switching to a symbol restores what it showed last (a symbol never
seen keeps the panes as they are), and the choices are kept in ``<data_dir>/ui-state.json``
(:mod:`tradeterm.ui.ui_state`) for the next start.

A strategy column's values are the engine's: the screen asks ``strategy.plots`` (the same
request in-process and attached) only while a pane shows that column, and again only when the
strategy ran again (its ``last_run_ms`` moved) or the symbol or timeframe changed; each answer
carries only the bars from the newest one the screen already has (a tail, like the candles).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from tradeterm.core.models import EngineSnapshot, StrategyState
from tradeterm.ui import ui_state
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.indicator_pane import (
    MODES,
    PLOT_SEPARATOR,
    IndicatorPane,
    is_plot,
    plot_choice,
    title,
)

if TYPE_CHECKING:
    from tradeterm.ui.app import TradetermApp

log = logging.getLogger(__name__)

PLOT_KEEP = 5000
"""Values of one strategy column the screen keeps (the engine sends at most its own window)."""

PlotKey = tuple[str, str, str]  # (strategy, symbol, timeframe)
_NO_VALUES: Mapping[int, float] = MappingProxyType({})  # one object: no redraw per frame


@dataclass(frozen=True, slots=True)
class PaneCommand:
    """One palette entry: ``Pane 1: ATR``."""

    title: str
    help: str
    run: Callable[[], None]


def plot_choices(snap: EngineSnapshot | None) -> list[str]:
    """``strategy:column`` for every column an enabled strategy declares plottable."""
    if snap is None:
        return []
    return [plot_choice(h.name, column) for h in snap.strategies
            if h.state is StrategyState.ENABLED for column in h.plots]


class PaneController:
    """Owns the choices of both panes; the app forwards snapshots, keys and palette picks."""

    def __init__(self, app: TradetermApp, first: IndicatorPane, second: IndicatorPane,
                 data_dir: Path | None, show_second: Callable[[bool], object]) -> None:
        self.app = app
        self.panes = (first, second)
        self.second_on = False
        self._show_second = show_second
        self.path = ui_state.state_path(data_dir) if data_dir is not None else None
        loaded = ui_state.load(self.path) if self.path is not None else ui_state.Loaded({})
        self.memory: dict[str, ui_state.PaneChoice] = dict(loaded.panes)
        self.problem = loaded.problem  # the app notifies it once
        self.symbol: str | None = None
        self._snap: EngineSnapshot | None = None
        self._plots: dict[PlotKey, dict[str, dict[int, float]]] = {}
        self._asked: dict[PlotKey, object] = {}  # what the last request was for
        self._from: dict[PlotKey, int] = {}  # the oldest open time asked for (the window)
        self._pending: set[PlotKey] = set()
        first.view_listener = self._fetch_plots  # scrolled back: older values may be needed

    # -- what is shown ------------------------------------------------------------------------

    @property
    def choice(self) -> ui_state.PaneChoice:
        first, second = self.panes
        return first.mode, second.mode if self.second_on else None

    def choices(self) -> list[str]:
        """What a pane may show now: the built-in indicators, then the strategies' columns."""
        return [*MODES, *plot_choices(self._snap)]

    def _apply(self, choice: ui_state.PaneChoice) -> None:
        first, second = self.panes
        first.set_mode(choice[0])
        if choice[1] is not None:
            second.set_mode(choice[1])
        if (choice[1] is not None) != self.second_on:
            self.second_on = choice[1] is not None
            self._show_second(self.second_on)
            if self.second_on and self._snap is not None:
                second.update_data(self._snap, first.market_colors)
        self._fetch_plots()

    def _remember(self) -> None:
        if self.symbol is None:
            return
        self.memory[self.symbol] = self.choice
        if self.path is not None:
            problem = ui_state.save(self.path, self.memory)
            if problem is not None:
                log.warning("%s", problem)

    def cycle(self, pane: int) -> str:
        """Show the next choice in pane 1 or 2 (pane 2 is switched on first if it is off, with
        the choice after pane 1's); returns the name shown."""
        first, second = self.panes
        choices = self.choices()
        if pane == 2 and not self.second_on:
            index = choices.index(first.mode) if first.mode in choices else -1
            mode = choices[(index + 1) % len(choices)]
            self._apply((first.mode, mode))
        else:
            self.panes[pane - 1].cycle_mode(choices)
            self._fetch_plots()
        self._remember()
        return title(self.panes[pane - 1].mode)

    def toggle_second(self) -> bool:
        """Switch pane 2 on (showing the choice after pane 1's) or off; True when on."""
        if self.second_on:
            self._apply((self.panes[0].mode, None))
        else:
            self.cycle(2)
            return True
        self._remember()
        return False

    def set(self, pane: int, mode: str | None) -> None:
        """Show ``mode`` in ``pane`` (None: pane 2 off) — the palette's ``Pane 2: ATR``."""
        first, _ = self.panes
        if pane == 1 and mode is not None:
            self._apply((mode, self.choice[1]))
        else:
            self._apply((first.mode, mode))
        self._remember()

    def commands(self) -> list[PaneCommand]:
        """The palette's entries: every choice for each pane, and pane 2 off."""
        entries = [
            PaneCommand(f"Pane {pane}: {title(mode)}",
                        f"Show {title(mode)} in indicator pane {pane}"
                        + (" (the strategy's column)" if is_plot(mode) else ""),
                        partial(self.set, pane, mode))
            for pane in (1, 2) for mode in self.choices()
        ]
        entries.append(PaneCommand("Pane 2: off", "Hide the second indicator pane",
                                   partial(self.set, 2, None)))
        return entries

    # -- snapshots ----------------------------------------------------------------------------

    def update_data(self, snap: EngineSnapshot, colors: TradingColors) -> None:
        """A new snapshot: restore a symbol's panes when the chart switched to it, then redraw."""
        self._snap = snap
        if snap.symbol != self.symbol:
            self.symbol = snap.symbol
            remembered = self.memory.get(snap.symbol)
            if remembered is not None:
                self._apply(remembered)
            else:
                self.memory[snap.symbol] = self.choice
        first, second = self.panes
        first.update_data(snap, colors)
        if self.second_on:
            second.update_data(snap, colors)
        self._fetch_plots()

    # -- strategy columns ---------------------------------------------------------------------

    def _fetch_plots(self) -> None:
        snap = self._snap
        if snap is None:
            return
        shown = [p for p in self.panes[: 2 if self.second_on else 1] if is_plot(p.mode)]
        for pane in shown:
            strategy, column = pane.mode.split(PLOT_SEPARATOR, 1)
            key = (strategy, snap.market.symbol, snap.market.timeframe)
            pane.set_plot(self._plots.get(key, {}).get(column, _NO_VALUES))
            health = next((h for h in snap.strategies if h.name == strategy), None)
            version = health.last_run_ms if health is not None else None
            window = self._window_start()
            older = window is not None and window < self._from.get(key, window + 1)
            if key in self._pending or (self._asked.get(key, ...) == version and not older):
                continue
            engine = self.app.engine
            if engine is None or health is None or health.state is not StrategyState.ENABLED:
                continue
            self._asked[key] = version
            self._pending.add(key)
            self.app.run_worker(self._ask(key, window if older else None),
                                group="strategy-plots", exit_on_error=False)

    def _window_start(self) -> int | None:
        """The open time of the oldest candle the chart shows (None: no chart view yet)."""
        chart = self.panes[0].chart
        view = chart.view if chart is not None else None
        if view is None or not view.groups:
            return None
        return view.candles[view.groups[0][0]].open_time

    async def _ask(self, key: PlotKey, first: int | None) -> None:
        """Ask for the bars the screen lacks: from ``first`` (the chart's window reaches
        further back than what was asked so far), else the newest from the last one held."""
        strategy, symbol, timeframe = key
        held = self._plots.get(key, {})
        since = None if first is not None else max(
            (max(v) for v in held.values() if v), default=None)
        if first is not None:
            self._from[key] = first
        try:
            engine = self.app.engine
            if engine is None:
                return
            answer: Any = await engine.ask("strategy.plots", {
                "strategy": strategy, "symbol": symbol, "timeframe": timeframe, "since": since,
                "first": first})
        except Exception as exc:  # an older engine, a refusal: the pane stays empty
            log.info("strategy.plots for %s %s %s: %s", *key, exc)
            return
        finally:
            self._pending.discard(key)
        self._merge(key, answer)
        self._fetch_plots()

    def _merge(self, key: PlotKey, answer: Any) -> None:
        if not isinstance(answer, dict):
            return
        times = answer.get("open_times") or []
        columns = answer.get("columns") or {}
        held = dict(self._plots.get(key, {}))
        for column, values in columns.items():
            merged = dict(held.get(column, {}))  # a new mapping: the pane redraws on identity
            for t, v in zip(times, values, strict=False):
                merged[int(t)] = float("nan") if v is None else float(v)
            if len(merged) > PLOT_KEEP:
                merged = dict(sorted(merged.items())[-PLOT_KEEP:])
            held[str(column)] = merged
        self._plots[key] = held
