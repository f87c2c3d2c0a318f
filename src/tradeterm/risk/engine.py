"""The risk engine: one gate every order passes, with a visible trading state.

Pure and synchronous (the engine calls it on its loop), time injected as ``clock`` (ms) so the
daily reset at 00:00 UTC is tested on a simulated clock. State changes are queued as
``TradingStateChanged`` events for the engine to publish and journal (:meth:`drain_events`);
denials come back as data (:class:`RiskDecision`) and become ``OrderDenied`` through
:meth:`RiskEngine.denied_event`.

States (see ``docs/risk.md``): the kill switch puts trading in HALTED until the user resumes;
the daily loss limit puts it in REDUCING until 00:00 UTC, because open positions must stay
manageable (exits and protective stops reduce exposure and pass), while new entries do not.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from decimal import Decimal

from tradeterm.config import RiskSettings
from tradeterm.core.day import DayState, TradingState, utc_day
from tradeterm.core.display import fmt_pct, fmt_quote
from tradeterm.core.events import Event, OrderDenied, TradingStateChanged
from tradeterm.core.models import Signal
from tradeterm.core.money import ZERO
from tradeterm.core.trading import OrderRequest, OrderType, Position
from tradeterm.risk import rules
from tradeterm.risk.context import APPROVED, RiskContext, RiskDecision, deny
from tradeterm.risk.sizing import HUNDRED, signal_levels, size_for_stop

WINDOW_MS = 60_000  # the orders-per-minute window
KILL = "kill_switch"
DAILY_LOSS = "daily_loss_limit"

_ENTRY_RULES = (
    rules.mandatory_stop,
    rules.price_band,
    rules.risk_per_trade,
    rules.max_position,
    rules.max_open_positions,
)


class RiskEngine:
    """Checks orders against :class:`RiskSettings`; owns the trading state and the day's loss."""

    def __init__(self, settings: RiskSettings, clock: Callable[[], int]) -> None:
        self.settings = settings
        self._clock = clock
        self._day = utc_day(clock())
        self._start_equity: Decimal | None = None  # unknown until the first equity is seen
        self._last_equity: Decimal | None = None
        self._realized = ZERO
        self._loss_reason: str | None = None  # latched for the day once the limit is reached
        self._kill_reason: str | None = None  # the user's words; cleared only by resume()
        self._accepted: deque[int] = deque()  # clock of each approved order, within WINDOW_MS
        self._state = TradingState.ACTIVE
        self._reason = "started"
        self._events: list[Event] = []

    # -- the visible state -------------------------------------------------------------------

    @property
    def state(self) -> TradingState:
        self._advance(None)
        return self._state

    @property
    def reason(self) -> str:
        """Why the state last changed."""
        self._advance(None)
        return self._reason

    def drain_events(self) -> list[Event]:
        """The ``TradingStateChanged`` events since the last call (oldest first)."""
        events, self._events = self._events, []
        return events

    def tick(self, equity: Decimal | None = None) -> None:
        """Call on a timer with the current equity: rolls the day at 00:00 UTC (back to ACTIVE
        unless the kill switch is on) so the UI sees the reset without waiting for an order."""
        self._advance(equity)

    # -- orders --------------------------------------------------------------------------------

    def size_for(
        self,
        signal_or_entry: Signal | Decimal,
        stop: Decimal | None,
        equity: Decimal,
        step: Decimal | None = None,
    ) -> Decimal:
        """Quantity whose stop loses ``risk_per_trade_pct`` of ``equity``, floored to ``step``.

        ``stop`` may be None for a signal (its own stop is used)."""
        entry, stop_price = signal_levels(signal_or_entry, stop)
        return size_for_stop(entry, stop_price, equity, self.settings.risk_per_trade_pct, step)

    def check(self, request: OrderRequest, ctx: RiskContext) -> RiskDecision:
        """Approve or deny ``request``; an approval counts towards the orders-per-minute limit."""
        now = self._clock()
        self._advance(ctx.equity)
        while self._accepted and self._accepted[0] <= now - WINDOW_MS:
            self._accepted.popleft()
        decision = self.evaluate(request, ctx)
        if decision.approved:
            self._accepted.append(now)
        return decision

    def evaluate(self, request: OrderRequest, ctx: RiskContext) -> RiskDecision:
        """What :meth:`check` would answer now, without counting the order or changing any
        state: the order ticket's preview asks this on every keystroke."""
        decision = self._gate(request, ctx)
        if decision is not None:
            return decision
        checks = _ENTRY_RULES if not ctx.reduces else (rules.price_band,)
        for rule in checks:
            decision = rule(request, ctx, self.settings)
            if decision is not None:
                return decision
        exempt = request.reduce_only and ctx.reduces  # closing is never rate-limited
        limit = self.settings.max_orders_per_minute
        since = self._clock() - WINDOW_MS
        accepted = sum(1 for t in self._accepted if t > since)
        if not exempt and accepted >= limit:
            return deny(
                "max_orders_per_minute",
                f"{accepted} orders accepted in the last 60 s, limit {limit}",
            )
        return APPROVED

    def denied_event(self, request: OrderRequest, decision: RiskDecision) -> OrderDenied:
        """The ``OrderDenied`` event for a denial returned by :meth:`check`."""
        if decision.approved or decision.rule is None or decision.reason is None:
            raise ValueError("an approved decision is not a denial")
        return OrderDenied(self._clock(), request, decision.reason, decision.rule)

    def _gate(self, request: OrderRequest, ctx: RiskContext) -> RiskDecision | None:
        """What the trading state lets through before any rule is looked at."""
        if self._state is TradingState.HALTED and not (request.reduce_only and ctx.reduces):
            return deny(
                KILL,
                f"trading halted ({self._kill_reason}); only reduce-only orders closing a "
                "position pass until resumed",
            )
        if self._state is TradingState.REDUCING and not ctx.reduces:
            return RiskDecision(
                False, DAILY_LOSS, f"{self._loss_reason}; only orders reducing a position pass"
            )
        return None

    # -- the day's loss ------------------------------------------------------------------------

    def on_fill_realized(self, pnl: Decimal) -> None:
        """Add a closed or partial close's realised PnL (after fees) to today's total."""
        self._advance(None)
        self._realized += pnl
        self._check_loss()

    def day_state(self) -> DayState:
        """Today's counters for the journal (restore them with :meth:`restore` after a restart)."""
        self._advance(None)
        return DayState(
            day=self._day,
            start_equity=self._start_equity if self._start_equity is not None else ZERO,
            realized=self._realized,
            kill_reason=self._kill_reason,
            loss_reason=self._loss_reason,
            updated_ms=self._clock(),
        )

    def restore(self, day_state: DayState) -> None:
        """Take back a persisted day. A previous UTC day's counters are discarded; the kill
        switch is kept whatever the day (only the user lifts it)."""
        if day_state.kill_reason is not None:
            self._kill_reason = day_state.kill_reason
        self._advance(None)
        if day_state.day == self._day:
            self._realized = day_state.realized
            start = day_state.start_equity
            self._start_equity = start if start > ZERO else None
            self._loss_reason = day_state.loss_reason
            if self._start_equity is None and self._last_equity is not None:
                self._start_equity = self._last_equity - self._realized
            self._check_loss()
        self._update_state("restored")

    def _advance(self, equity: Decimal | None) -> None:
        """Roll the day if the clock passed 00:00 UTC; learn the day's starting equity."""
        if equity is not None:
            self._last_equity = equity
        today = utc_day(self._clock())
        if today != self._day:
            self._day = today
            self._start_equity = self._last_equity
            self._realized = ZERO
            self._loss_reason = None
            self._update_state(f"new UTC day {today.isoformat()}: daily loss counters reset")
        if self._start_equity is None and self._last_equity is not None:
            # First equity seen today, after some realised PnL: back it out to the day's start.
            self._start_equity = self._last_equity - self._realized
            self._check_loss()

    @property
    def loss_limit(self) -> Decimal | None:
        """Today's loss limit in quote (``daily_loss_limit_pct`` of the day's starting equity),
        or None while that equity is unknown."""
        start = self._start_equity
        if start is None or start <= ZERO:
            return None
        return start * self.settings.daily_loss_limit_pct / HUNDRED

    def _check_loss(self) -> None:
        start, limit = self._start_equity, self.loss_limit
        if self._loss_reason is not None or start is None or limit is None:
            return
        pct = self.settings.daily_loss_limit_pct
        if -self._realized >= limit:
            self._loss_reason = (
                f"{DAILY_LOSS}: realised {fmt_quote(self._realized)} today reached "
                f"{fmt_pct(pct)}% of the day's starting equity {fmt_quote(start)} "
                f"(-{fmt_quote(limit)}); new entries halted until "
                "00:00 UTC"
            )
            self._update_state(self._loss_reason)

    # -- the kill switch -----------------------------------------------------------------------

    def kill(self, reason: str) -> None:
        """HALT until :meth:`resume`. The engine then cancels every working order and sends
        :func:`flatten_requests`, which pass (reduce-only, closing)."""
        self._kill_reason = reason
        self._update_state(f"{KILL}: {reason}")

    def resume(self) -> None:
        """The user lifts the kill switch: ACTIVE, or REDUCING if today's loss limit is hit."""
        self._kill_reason = None
        self._update_state("resumed by the user")

    def _update_state(self, reason_if_active: str) -> None:
        if self._kill_reason is not None:
            state, reason = TradingState.HALTED, f"{KILL}: {self._kill_reason}"
        elif self._loss_reason is not None:
            state, reason = TradingState.REDUCING, self._loss_reason
        else:
            state, reason = TradingState.ACTIVE, reason_if_active
        if state is self._state:
            return
        self._state, self._reason = state, reason
        self._events.append(TradingStateChanged(self._clock(), state.value, reason))


def flatten_requests(positions: tuple[Position, ...]) -> tuple[OrderRequest, ...]:
    """Reduce-only market orders closing every open position (the kill switch's flatten)."""
    return tuple(
        OrderRequest(
            symbol=p.symbol,
            side="sell" if p.quantity > ZERO else "buy",
            type=OrderType.MARKET,
            quantity=abs(p.quantity),
            reduce_only=True,
        )
        for p in positions
        if p.quantity != ZERO
    )
