"""What a running engine tells its log and its output: one line per event (every denial, halt
and recovery among them, in ``core.event_lines``' words), a status line every
``[service] status_every_s`` (60 s), and one at once whenever the trading state changes.

A service engine has no screen; ``tradeterm engine status`` and ``journalctl`` show its last
status line, so it must say in one line what the screen's status bar and account panel say:

``status equity=10012.34 USDT day=+12.34/-300.00 USDT positions=1 orders=2 trading=active
feed=ok (BTC/USDT 1m, 3 streams)`` (and `` replay=2024-06-01 12:34 x60`` in a bar replay)

Money goes through the display policy of the engine's snapshot (``core/display.py``); the
journal keeps the exact values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

from tradeterm.core.display import fmt_quote
from tradeterm.core.event_lines import describe
from tradeterm.core.events import Event, OptimizeProgressed, TradingStateChanged
from tradeterm.core.models import EngineSnapshot, EnginePhase, FeedStatus
from tradeterm.core.money import ZERO

STATUS_PREFIX = "status "
"""Every status line starts with it (``engine status`` finds the last one in the log)."""

HUNDRED = Decimal(100)


def _day_limit(snap: EngineSnapshot, limit_pct: Decimal) -> Decimal | None:
    """The risk engine's daily loss limit; before it has seen the day's equity, the same
    estimate as the account panel (``limit_pct`` of equity less today's realised PnL)."""
    if snap.daily_loss_limit is not None:
        return snap.daily_loss_limit
    if snap.account is None:
        return None
    start = snap.account.equity - snap.account.realized_pnl_today
    return max(ZERO, start * limit_pct / HUNDRED)


def _feed(snap: EngineSnapshot) -> str:
    if snap.phase is not EnginePhase.RUNNING:
        why = f" ({snap.error})" if snap.error else ""
        return f"{snap.phase.value}{why}"
    streams = snap.streams
    where = f"{snap.symbol} {snap.timeframe}, {len(streams)} stream{'s' * (len(streams) != 1)}"
    unwell = [s for s in streams if s.status is not FeedStatus.CONNECTED]
    if not unwell:
        return f"ok ({where})"
    which = ", ".join(f"{s.stream} {s.symbol} {s.status.value}" for s in unwell[:3])
    more = f" and {len(unwell) - 3} more" if len(unwell) > 3 else ""
    return f"degraded ({where}: {which}{more})"


def _replay(snap: EngineSnapshot) -> str:
    """`` replay=2024-06-01 12:34 x60`` (the replay clock and speed), ``paused``, ``finished``."""
    replay = snap.replay
    if replay is None:
        return ""
    if replay.finished:
        return " replay=finished"
    when = "-" if replay.position_ms is None else datetime.fromtimestamp(
        replay.position_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")
    state = " paused" if replay.paused else ""
    return f" replay={when} x{replay.speed:g}{state}"


def status_line(snap: EngineSnapshot, limit_pct: Decimal) -> str:
    """The status line of ``snap`` (see the module docstring); ``limit_pct`` is
    ``risk.daily_loss_limit_pct``, for the estimate before the risk engine has a limit."""
    trading = snap.trading_state
    if trading != "active" and snap.trading_reason:
        trading += f" ({snap.trading_reason})"
    tail = f"trading={trading} feed={_feed(snap)}{_replay(snap)}"
    account = snap.account
    if account is None:
        return f"{STATUS_PREFIX}account=waiting for the journal {tail}"
    quote, policy = account.quote, snap.display
    limit = _day_limit(snap, limit_pct)
    day = fmt_quote(account.realized_pnl_today, quote, signed=True, policy=policy)
    cap = fmt_quote(-limit, quote, policy=policy) if limit is not None else "-"
    return (f"{STATUS_PREFIX}equity={fmt_quote(account.equity, quote, policy=policy)} {quote} "
            f"day={day}/{cap} {quote} positions={len(account.positions)} "
            f"orders={len(account.orders)} {tail}")


class StatusLog:
    """The engine's narrative. ``on_event`` is an engine listener (``Engine.add_listener``);
    ``run`` writes the periodic status line until cancelled; ``emit`` writes one line (the
    runner's: to the log and, unless that is the same file, to stdout)."""

    def __init__(
        self,
        snapshot: Callable[[], EngineSnapshot],
        emit: Callable[[str], None],
        *,
        every_s: float,
        limit_pct: Decimal,
    ) -> None:
        self._snapshot = snapshot
        self._emit = emit
        self._every_s = every_s
        self._limit_pct = limit_pct

    def on_event(self, event: Event) -> None:
        if isinstance(event, OptimizeProgressed) and 0 < event.done < event.total:
            return  # an optimisation's progress per trial: only each phase's start and end
        snap = self._snapshot()
        self._emit(describe(event, snap.market_format))
        if isinstance(event, TradingStateChanged):  # a halt or a recovery: the figures now
            self.status()

    def status(self) -> None:
        self._emit(status_line(self._snapshot(), self._limit_pct))

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._every_s)
            self.status()
