"""The status bar: exchange, symbol, timeframe, feed health, replay, trading state, PAPER/LIVE,
DEMO, UTC clock.

It is asked every frame, but the figures that move with every message (last price, 24 h
change, latency) refresh once a second with the clock, and a state change (symbol, feed status,
trading state, replay) at once; only the cells that differ are repainted. The clock and the age
of the last message move even on a quiet market: a silent feed must be visible as such.

The trading state says nothing while ACTIVE (the normal case needs no ink); REDUCING is a
warning badge and HALTED a bold error badge, with the reason as the bar's tooltip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.style import Style
from rich.text import Text

from tradeterm.core.display import fmt_pct
from tradeterm.core.models import (
    EnginePhase,
    EngineSnapshot,
    FeedStatus,
    ReplayStatus,
    StreamHealth,
)
from tradeterm.ui.fmt import fmt_price
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.lines import LineCacheWidget

# Worst first: the bar shows the worst status among the current symbol's streams.
_SEVERITY = {
    FeedStatus.STOPPED: 4,
    FeedStatus.STALE: 3,
    FeedStatus.RECONNECTING: 2,
    FeedStatus.CONNECTING: 1,
    FeedStatus.CONNECTED: 0,
}


@dataclass(frozen=True, slots=True)
class FeedSummary:
    status: FeedStatus | None  # None: no stream yet
    latency_ms: float | None  # worst latency among the streams
    age_s: float | None  # seconds since the least recent message


QUIET_AFTER_S = 2.0
"""The status bar shows how long ago the last message came only from this age on."""


def feed_summary(streams: Sequence[StreamHealth], symbol: str, now_ms: int) -> FeedSummary:
    """Worst status, worst latency and oldest message age of ``symbol``'s streams."""
    mine = [s for s in streams if s.symbol == symbol] or list(streams)
    if not mine:
        return FeedSummary(None, None, None)
    status = max((s.status for s in mine), key=_SEVERITY.__getitem__)
    latencies = [s.latency_ms for s in mine if s.latency_ms is not None]
    lasts = [s.last_message_ms for s in mine if s.last_message_ms is not None]
    age = max(0.0, (now_ms - min(lasts)) / 1000) if lasts else None
    return FeedSummary(status, max(latencies) if latencies else None, age)


def status_text(
    snap: EngineSnapshot | None,
    now_ms: int,
    colors: TradingColors,
    width: int,
    error: str | None = None,
) -> Text:
    """One line of ``width`` cells; ``error`` (a failed worker) replaces the feed part.

    When the full line does not fit (80 columns), a compact form drops the 24 h change, the
    spaces around separators and, while replaying, the wall clock (the replay's own time is
    the one that matters then) before anything gets cut."""
    right = _right_part(snap, now_ms, colors, compact=False)
    left = _left_part(snap, now_ms, colors, error, compact=False)
    if left.cell_len + right.cell_len > width:
        left = _left_part(snap, now_ms, colors, error, compact=True)
        right = _right_part(snap, now_ms, colors, compact=True)
    left.truncate(max(0, width - right.cell_len), overflow="ellipsis", pad=True)
    left.append_text(right)
    left.truncate(width, pad=True)
    return left


def _left_part(
    snap: EngineSnapshot | None,
    now_ms: int,
    colors: TradingColors,
    error: str | None,
    *,
    compact: bool,
) -> Text:
    muted = Style(color=colors.muted)
    plain = Style(color=colors.foreground)
    sep = ("│" if compact else " │ ", muted)
    left = Text(no_wrap=True, overflow="ellipsis")
    if snap is None:
        left.append(" tradeterm │ starting…", plain)
    else:
        left.append(f" {snap.exchange.upper()}", Style(color=colors.accent, bold=True))
        left.append(*sep)
        left.append(snap.symbol, Style(color=colors.foreground, bold=True))
        ticker = next((t for t in snap.tickers if t.symbol == snap.symbol), snap.market.ticker)
        candles = snap.market.candles
        last = ticker.last if ticker and ticker.last else (candles[-1].close if candles else None)
        if last is not None:
            precision = snap.precision(snap.symbol)
            left.append(f" {fmt_price(last, precision.tick if precision else None)}", plain)
        change = ticker.change_pct if ticker else None
        if change is not None and not compact:
            left.append(f" {fmt_pct(change, signed=True)}%",
                        Style(color=colors.up if change >= 0 else colors.down))
        left.append(*sep)
        left.append(snap.timeframe, Style(color=colors.foreground, bold=True))
        left.append(*sep)
        if error:
            left.append(error, Style(color=colors.error, bold=True))
        else:
            left.append_text(_feed_part(snap, now_ms, colors))

    return left


def _right_part(
    snap: EngineSnapshot | None, now_ms: int, colors: TradingColors, *, compact: bool
) -> Text:
    right = Text(no_wrap=True)
    if snap is not None:
        if snap.replay is not None:
            right.append_text(replay_text(snap.replay, colors))
            right.append(" ")
        state = snap.trading_state.lower()
        if state == "reducing":
            right.append(" REDUCING ", Style(color=colors.background, bgcolor=colors.warning,
                                             bold=True))
            right.append(" ")
        elif state == "halted":
            right.append(" HALTED ", Style(color=colors.background, bgcolor=colors.error,
                                           bold=True))
            right.append(" ")
        if snap.attached == "read-only":  # an attached screen that may only watch
            right.append(" READ-ONLY ", Style(color=colors.background, bgcolor=colors.warning,
                                              bold=True))
            right.append(" ")
        elif snap.attached is not None:  # attached: q detaches, the engine trades on
            right.append(" ATTACHED ", Style(color=colors.background, bgcolor=colors.muted,
                                             bold=True))
            right.append(" ")
        if snap.mode == "live":
            right.append(" LIVE ", Style(color="#ffffff", bgcolor="#d50000", bold=True, blink=True))
        else:
            right.append(" PAPER ", Style(color=colors.background, bgcolor=colors.muted, bold=True))
        if snap.demo:
            right.append(" ")
            right.append(" DEMO ", Style(color=colors.background, bgcolor=colors.accent, bold=True))
    if compact and snap is not None and snap.replay is not None:
        right.append(" ")
        return right
    clock = datetime.fromtimestamp(now_ms / 1000, UTC).strftime("%H:%M:%S UTC ")
    right.append(f" {clock}", Style(color=colors.foreground))
    return right


def replay_text(replay: ReplayStatus, colors: TradingColors) -> Text:
    """``REPLAY 4x ⏸ 2024-03-01 12:00``: speed, paused (⏸) / playing (▶) / finished, bar time."""
    speed = f"{replay.speed:g}x"
    mark = "END" if replay.finished else ("⏸" if replay.paused else "▶")
    text = Text(no_wrap=True)
    text.append(" REPLAY ", Style(color=colors.background, bgcolor=colors.accent, bold=True))
    text.append(f" {speed} {mark}", Style(color=colors.accent, bold=True))
    if replay.position_ms is not None:
        when = datetime.fromtimestamp(replay.position_ms / 1000, UTC)
        text.append(f" {when:%Y-%m-%d %H:%M}", Style(color=colors.foreground))
    return text


def trading_tooltip(snap: EngineSnapshot | None) -> str | None:
    """Why trading is reduced or halted (the bar's tooltip); None while ACTIVE."""
    if snap is None or snap.trading_state.lower() == "active":
        return None
    reason = snap.trading_reason or "no reason recorded"
    return f"Trading {snap.trading_state.upper()}: {reason}"


def _feed_part(snap: EngineSnapshot, now_ms: int, colors: TradingColors) -> Text:
    part = Text(no_wrap=True)
    if snap.phase is not EnginePhase.RUNNING:
        bad = snap.phase in (EnginePhase.UNREACHABLE, EnginePhase.REFUSED)
        color = colors.error if bad else colors.muted
        part.append(f"● {snap.phase.value}", Style(color=color))
        return part
    summary = feed_summary(snap.streams, snap.symbol, now_ms)
    if summary.status is None:
        part.append("● waiting for streams", Style(color=colors.muted))
        return part
    ok = summary.status is FeedStatus.CONNECTED
    color = colors.up if ok else (colors.accent if summary.status is not FeedStatus.STOPPED
                                  else colors.error)
    part.append(f"● {'live' if ok else summary.status.value}", Style(color=color, bold=not ok))
    if snap.replay is not None:  # on the replay's clock a latency or an age means nothing: the
        return part  # replay's speed and clock (right part) take their place
    if summary.latency_ms is not None:
        part.append(f" {summary.latency_ms:.0f}ms", Style(color=colors.muted))
    # The age of the last message matters once a stream goes quiet; a sub-second figure that
    # changes every frame would only cost bytes on a slow link.
    if summary.age_s is not None and summary.age_s >= QUIET_AFTER_S:
        stale = summary.status is FeedStatus.STALE or summary.age_s >= 5
        part.append(
            f" {summary.age_s:.0f}s ago", Style(color=colors.accent if stale else colors.muted)
        )
    return part


def _state_key(snap: EngineSnapshot | None, now_ms: int) -> tuple[object, ...] | None:
    """What the line shows that must appear at once, not at the next second."""
    if snap is None:
        return None
    feed = feed_summary(snap.streams, snap.symbol, now_ms).status
    return (snap.exchange, snap.symbol, snap.timeframe, snap.phase, snap.mode, snap.demo,
            snap.trading_state, snap.replay, feed)


class StatusBar(LineCacheWidget):
    """One line at the top of the screen; data comes from :meth:`update_data`.

    Asked every frame, it rebuilds its line when a state it shows changes (symbol, timeframe,
    feed status, trading state, replay, mode, error, colours) and otherwise once a second with
    the clock: the last price and the latency, which move with every message, refresh then
    (the chart shows the live price). Only the cells that differ are repainted."""

    DEFAULT_CSS = """
    StatusBar { height: 1; dock: top; background: $panel; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.snapshot: EngineSnapshot | None = None
        self.error: str | None = None
        self.market_colors = TradingColors()
        self.now_ms = 0
        self._inputs: tuple[object, ...] | None = None

    def update_data(
        self,
        snapshot: EngineSnapshot | None,
        now_ms: int,
        *,
        error: str | None = None,
        colors: TradingColors | None = None,
    ) -> None:
        """New data: rebuild and repaint only if something the line shows can have changed."""
        self.snapshot, self.error, self.now_ms = snapshot, error, now_ms
        self.market_colors = colors or self.market_colors
        inputs = (now_ms // 1000, error, self.market_colors, _state_key(snapshot, now_ms))
        if inputs != self._inputs:
            self._inputs = inputs
            self.lines_changed()
        tooltip = trading_tooltip(snapshot)
        if tooltip != self.tooltip:
            self.tooltip = tooltip

    def build_lines(self, width: int, height: int) -> list[Text]:
        return [status_text(self.snapshot, self.now_ms, self.market_colors, width, self.error)]
