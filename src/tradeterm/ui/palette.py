"""Command palette (``ctrl+p``) entries beyond the key bindings: symbols, timeframes,
strategies, themes, screens and panels, each a plain ``title -> callback``.

Every binding is already a palette entry (``TradetermApp.get_system_commands``); this provider
adds the choices that have no key of their own ("Symbol: SOL/USDT" when the watchlist is long,
"Start strategy confluence"). The list is built when the palette opens, from the app's current
state, so it always matches the snapshot the user sees.

Symbols: the watchlist's are listed before typing; every other symbol the venue lists (the
engine's ``market.symbols``, thousands on Binance) is found by typing ("Symbol: ADA/USDT"), and
choosing one switches the chart to it (the engine then watches its market).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tradeterm.core.commands import StartStrategy, StopStrategy, SwitchSymbol, SwitchTimeframe
from tradeterm.core.models import TIMEFRAME_MS, StrategyState

if TYPE_CHECKING:
    from tradeterm.ui.app import TradetermApp

ASK_TIMEOUT_S = 2.0

# Shown in the tab bar of small terminals and offered as "Panel: <name>"; ids of the widgets.
PANELS = ("chart", "book", "tape", "positions", "orders", "account", "signals", "watchlist")


@dataclass(frozen=True, slots=True)
class PaletteEntry:
    title: str
    help: str
    run: Callable[[], object]
    listed: bool = True  # offered before anything is typed (else only found by typing)


def palette_entries(app: TradetermApp, venue: Sequence[str] = ()) -> list[PaletteEntry]:
    """Every extra entry for ``app`` as it is now; ``venue``: every symbol the venue lists."""
    watched = app.engine.snapshot().symbols if app.engine is not None else ()
    watchlist = watched or app.settings.symbols
    entries = [  # the engine's watchlist (an attached screen's settings may differ)
        PaletteEntry(f"Symbol: {symbol}", "Switch the chart to this watchlist symbol",
                     partial(app.submit, SwitchSymbol(symbol)))
        for symbol in watchlist
    ]
    entries += [
        PaletteEntry(f"Symbol: {symbol}", "Switch the chart to this symbol (not in the watchlist)",
                     partial(app.submit, SwitchSymbol(symbol)), listed=False)
        for symbol in venue if symbol not in watchlist
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
        PaletteEntry("Screen: Scanner", "The venue's markets by change, volume or volatility",
                     app.action_scanner),
    ]
    entries += [
        PaletteEntry(f"Panel: {name.capitalize()}", "Show this panel (small terminals: tab bar)",
                     partial(app.show_panel, name))
        for name in PANELS
    ]
    entries += [PaletteEntry(c.title, c.help, c.run) for c in app.pane_commands()]
    return entries


async def venue_symbols(app: TradetermApp) -> list[str]:
    """Every symbol the venue lists (``market.symbols``); the markets the snapshot knows if the
    engine cannot answer within :data:`ASK_TIMEOUT_S` (the palette never waits long)."""
    engine = app.engine
    if engine is None:
        return []
    try:
        body = await asyncio.wait_for(engine.ask("market.symbols"), ASK_TIMEOUT_S)
        return [str(s) for s in body["symbols"]]
    except Exception:  # refused, detached, slow: the snapshot's markets are the same list
        return sorted(engine.snapshot().markets)


class TradetermCommands(Provider):
    """Fuzzy search over :func:`palette_entries`; all of them are listed before typing."""

    async def startup(self) -> None:
        from tradeterm.ui.app import TradetermApp  # the provider only serves this app

        app = self.app
        if not isinstance(app, TradetermApp):
            self._entries: list[PaletteEntry] = []
            return
        self._entries = palette_entries(app, await venue_symbols(app))

    async def discover(self) -> Hits:
        for entry in self._entries:
            if entry.listed:
                yield DiscoveryHit(entry.title, entry.run, help=entry.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for entry in self._entries:
            score = matcher.match(entry.title)
            if score > 0:
                yield Hit(score, matcher.highlight(entry.title), entry.run, text=entry.title,
                          help=entry.help)
