"""Command palette (``ctrl+p``) entries beyond the key bindings: symbols, timeframes,
strategies, themes, screens and panels, each a plain ``title -> callback``.

Every binding is already a palette entry (``TradetermApp.get_system_commands``); this provider
adds the choices that have no key of their own ("Symbol: SOL/USDT" when the watchlist is long,
"Start strategy confluence"). The list is built when the palette opens, from the app's current
state, so it always matches the snapshot the user sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tradeterm.core.commands import StartStrategy, StopStrategy, SwitchSymbol, SwitchTimeframe
from tradeterm.core.models import TIMEFRAME_MS, StrategyState

if TYPE_CHECKING:
    from tradeterm.ui.app import TradetermApp

# Shown in the tab bar of small terminals and offered as "Panel: <name>"; ids of the widgets.
PANELS = ("chart", "book", "tape", "positions", "orders", "account", "signals", "watchlist")


@dataclass(frozen=True, slots=True)
class PaletteEntry:
    title: str
    help: str
    run: Callable[[], object]


def palette_entries(app: TradetermApp) -> list[PaletteEntry]:
    """Every extra entry for ``app`` as it is now."""
    watched = app.engine.snapshot().symbols if app.engine is not None else ()
    entries = [  # the engine's watchlist (an attached screen's settings may differ)
        PaletteEntry(f"Symbol: {symbol}", "Switch the chart to this watchlist symbol",
                     partial(app.submit, SwitchSymbol(symbol)))
        for symbol in watched or app.settings.symbols
    ]
    entries += [
        PaletteEntry(f"Timeframe: {tf}", "Switch the chart to this timeframe",
                     partial(app.submit, SwitchTimeframe(tf)))
        for tf in TIMEFRAME_MS
    ]
    snap = app.engine.snapshot() if app.engine is not None else None
    for health in snap.strategies if snap is not None else ():
        if health.state is StrategyState.ENABLED:
            entries.append(PaletteEntry(f"Stop strategy {health.name}", "Stop evaluating it",
                                        partial(app.submit, StopStrategy(health.name))))
        else:
            entries.append(PaletteEntry(f"Start strategy {health.name}",
                                        "Enable it (the look-ahead guard runs first)",
                                        partial(app.submit, StartStrategy(health.name))))
    entries += [
        PaletteEntry(f"Theme: {name}", "Switch to this theme", partial(app.set_theme, name))
        for name in app.theme_names()
    ]
    entries += [
        PaletteEntry("Screen: Main", "Close every screen on top of the main one", app.show_main),
        PaletteEntry("Screen: Journal", "Trades, fills, signals and statistics",
                     app.action_journal),
        PaletteEntry("Screen: Backtest", "Backtest a strategy on stored history",
                     app.action_backtest),
        PaletteEntry("Screen: Strategies", "Start or stop strategies", app.action_strategies),
    ]
    entries += [
        PaletteEntry(f"Panel: {name.capitalize()}", "Show this panel (small terminals: tab bar)",
                     partial(app.show_panel, name))
        for name in PANELS
    ]
    entries += [PaletteEntry(c.title, c.help, c.run) for c in app.pane_commands()]
    return entries


class TradetermCommands(Provider):
    """Fuzzy search over :func:`palette_entries`; all of them are listed before typing."""

    async def startup(self) -> None:
        from tradeterm.ui.app import TradetermApp  # the provider only serves this app

        app = self.app
        self._entries = palette_entries(app) if isinstance(app, TradetermApp) else []

    async def discover(self) -> Hits:
        for entry in self._entries:
            yield DiscoveryHit(entry.title, entry.run, help=entry.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in self._entries:
            score = matcher.match(entry.title)
            if score > 0:
                yield Hit(score, matcher.highlight(entry.title), entry.run, text=entry.title,
                          help=entry.help)
