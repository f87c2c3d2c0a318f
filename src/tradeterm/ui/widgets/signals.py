"""Recent strategy signals, newest first, under one line of strategy health.

A running strategy that publishes a ``status`` (ml_signal: the newest bar's down / flat / up
probabilities) gets a line of its own under the health line, updated at every close.

Each row: the signal's bar (open time, UTC ``HH:MM``), strategy, side (an exit shows ``EXIT``
in the colour of the order it asks for), symbol, confidence and the reasons, cut to the width.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from rich.style import Style
from rich.text import Text

from tradeterm.core.models import EngineSnapshot, Signal, StrategyHealth, StrategyState
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.lines import LineCacheWidget
from tradeterm.ui.widgets.table import muted

STRATEGY_CELLS = 10
EMPTY = "no signals yet"


def health_line(strategies: Sequence[StrategyHealth], colors: TradingColors) -> Text:
    """``strategies: 2 on · 1 off · 1 failed: name``; zero counts left out, failures named in
    the error colour (a strategy that died must not go unnoticed)."""
    dim = muted(colors)
    if not strategies:
        return Text("strategies: none loaded", dim)
    on = sum(h.state is StrategyState.ENABLED for h in strategies)
    off = sum(h.state is StrategyState.DISABLED for h in strategies)
    failed = [h.name for h in strategies if h.state is StrategyState.FAILED]
    line = Text("strategies: ", dim)
    line.append(f"{on} on", Style(color=colors.profit) if on else dim)
    if off:
        line.append(f" · {off} off", dim)
    if failed:
        line.append(f" · {len(failed)} failed: {', '.join(failed)}",
                    Style(color=colors.error, bold=True))
    return line


def signal_line(signal: Signal, colors: TradingColors) -> Text:
    buy = signal.side == "buy"
    side = ("BUY" if buy else "SELL") if signal.kind == "entry" else "EXIT"
    when = datetime.fromtimestamp(signal.bar_time / 1000, UTC).strftime("%H:%M")
    name = signal.strategy
    if len(name) > STRATEGY_CELLS:
        name = name[: STRATEGY_CELLS - 1] + "…"
    line = Text(f"{when} ", muted(colors), no_wrap=True)
    line.append(f"{name:<{STRATEGY_CELLS}} ")
    line.append(f"{side:<4} ", Style(color=colors.bid if buy else colors.ask, bold=True))
    line.append(f"{signal.symbol} ")
    line.append(f"{signal.confidence:.0%}", Style(bold=True))
    if signal.reasons:
        line.append(" " + ", ".join(signal.reasons), muted(colors))
    return line


def note_line(health: StrategyHealth, colors: TradingColors) -> Text:
    """``ml_btc     ↓21% →55% ↑24% @3f2a9c1b BTC/USDT``: a strategy's newest status, whether
    or not a signal fired (the start is what a narrow panel keeps)."""
    name = health.name
    if len(name) > STRATEGY_CELLS:
        name = name[: STRATEGY_CELLS - 1] + "…"
    line = Text(f"{name:<{STRATEGY_CELLS}} ", muted(colors), no_wrap=True)
    line.append(health.note or "")
    return line


def render_signals(
    signals: Sequence[Signal],
    strategies: Sequence[StrategyHealth],
    width: int,
    height: int,
    colors: TradingColors,
) -> list[Text]:
    """The health line, then the newest ``height - 1`` signals (``signals`` is oldest first)."""
    lines = [health_line(strategies, colors)]
    lines.extend(note_line(h, colors) for h in strategies
                 if h.note and h.state is StrategyState.ENABLED)
    rows = max(0, height - len(lines))
    shown = list(reversed(signals[-rows:])) if rows else []
    lines.extend(signal_line(s, colors) for s in shown)
    if not signals:
        lines.append(Text(EMPTY, muted(colors)))
    for line in lines:
        line.truncate(width, overflow="ellipsis")
    return lines[:height]


class SignalsPanel(LineCacheWidget):
    """Strategy health and the recent signals."""

    DEFAULT_CSS = """
    SignalsPanel { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.signals: tuple[Signal, ...] = ()
        self.strategies: tuple[StrategyHealth, ...] = ()
        self.market_colors = TradingColors()

    def update_data(self, snap: EngineSnapshot, colors: TradingColors) -> None:
        """Take the engine snapshot; repaint only if this panel's slice changed."""
        # Health carries last-run times that move on every bar; only state changes are shown.
        strategies = snap.strategies
        if (
            snap.signals == self.signals
            and _shown_health(strategies) == _shown_health(self.strategies)
            and colors == self.market_colors
        ):
            return
        recolored = colors != self.market_colors
        self.signals, self.strategies, self.market_colors = snap.signals, strategies, colors
        self.lines_changed(full=recolored)

    def build_lines(self, width: int, height: int) -> list[Text]:
        return render_signals(self.signals, self.strategies, width, height, self.market_colors)


def _shown_health(strategies: Sequence[StrategyHealth]
                  ) -> tuple[tuple[str, StrategyState, str | None], ...]:
    return tuple((h.name, h.state, h.note) for h in strategies)
