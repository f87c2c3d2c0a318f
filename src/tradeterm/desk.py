"""The trading desk: strategy signals and manual commands through risk, the paper broker and the
journal, in that order, and only then to the screen.

Why one module owns all three: the order of things is the safety property. Every event the broker
or the risk engine produces goes into ONE asyncio queue, and a single consumer task commits it to
the journal (``await writer.commit``: the loop never waits on disk) *before* publishing it to the
listeners. A fill is committed together with the account snapshot it produced, so a restore never
sees one without the other, and the UI never shows a fill a crash could lose.

The broker and the risk engine are synchronous; the desk calls them on the engine's loop. Market
data reaches the broker through :meth:`Desk.on_book` / :meth:`Desk.on_trades` (the feed calls them
for every symbol with orders, positions, the chart or an enabled strategy). See
``docs/trading.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradeterm import __version__
from tradeterm.broker.paper import PaperBroker
from tradeterm.broker.rules import MarketRules, filter_name
from tradeterm.config import Settings
from tradeterm.core.commands import (
    CancelOrder,
    ClosePosition,
    Command,
    FlattenAll,
    KillSwitch,
    PlaceOrder,
    ResumeTrading,
)
from tradeterm.core.day import DayState
from tradeterm.core.display import DEFAULT_POLICY, DisplayPolicy, fmt_quote
from tradeterm.core.events import (
    Event,
    OrderDenied,
    OrderFilled,
    SignalEmitted,
    TradingStateChanged,
)
from tradeterm.core.models import BookSnapshot, Signal, Trade
from tradeterm.core.preview import OrderPreview, TicketDraft
from tradeterm.core.money import ZERO, dec, to_tick
from tradeterm.core.scale_out import leg_weights, plan_legs
from tradeterm.core.trading import (
    AccountSnapshot,
    Bracket,
    Fill,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    TargetLeg,
)
from tradeterm.journal import (
    AccountRecord,
    CommandRecord,
    JournalError,
    JournalReader,
    JournalWriteError,
    JournalWriter,
    RestoredState,
    RunRecord,
    SignalRecord,
    config_hash,
    load_state,
)
from tradeterm.journal.lock import EngineLock
from tradeterm.risk import RiskContext, RiskEngine, TradingState, flatten_requests
from tradeterm.risk.preview import preview_order
from tradeterm.risk.sizing import position_cap

log = logging.getLogger(__name__)

LIVE_REFUSAL = "live trading is not available yet"
"""Mode ``live`` sends nothing anywhere until a live broker exists: the safe default."""

EQUITY_EVERY_MS = 60_000
"""An equity point and a risk tick every minute (plus one with every fill)."""

TIMER_S = 0.25
"""How often pending orders are released (``[paper] latency_ms``) and the minute is checked."""

SEEN_TRADES = 5_000
"""Trade ids remembered per symbol to forward each public trade to the broker once."""

FILLS_KEPT = 500
"""Recent fills the snapshot carries (chart markers, the fills list); restored from the journal."""

_Batch = tuple[tuple[object, ...], tuple[Event, ...]]  # (journal records, events to publish)


def previous_replay(journal: Path) -> Path:
    """Where the previous run of a replay is kept: ``X.replay.sqlite`` -> ``X.replay.prev.sqlite``."""
    return journal.with_name(f"{journal.stem}.prev{journal.suffix}")


def keep_previous_replay(journal: Path) -> None:
    """A replay is a sandbox: each run starts from the configured paper balance with no
    positions. The previous run's journal (and any SQLite sidecar) moves to
    :func:`previous_replay`, replacing the one before it: one previous run is kept, nothing is
    silently lost. Called with the journal's engine lock held."""
    if not journal.exists():
        return
    previous = previous_replay(journal)
    for suffix in ("", "-wal", "-shm", "-journal"):
        source = journal.with_name(journal.name + suffix)
        target = previous.with_name(previous.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            target.unlink()
        if source.exists():
            os.replace(source, target)


def restored_line(
    account: AccountSnapshot, new: bool, policy: DisplayPolicy = DEFAULT_POLICY
) -> str:
    """``restored: balance=... positions=N orders=M realized_today=...`` (headless prints it),
    amounts at the quote currency's display decimals (the journal keeps them exact)."""
    line = (
        f"restored: balance={fmt_quote(account.balance, account.quote, policy=policy)} "
        f"positions={len(account.positions)} orders={len(account.orders)} "
        f"realized_today={fmt_quote(account.realized_pnl_today, account.quote, policy=policy)}"
    )
    return line + (" (new journal)" if new else "")


def recent_fills(path: Path, limit: int) -> list[Fill]:
    """The journal's last ``limit`` fills, oldest first (blocking: call in a thread)."""
    with JournalReader(path) as reader:
        return reader.fills(last=limit)


class Desk:
    """Risk, paper broker and journal behind one ordered pipeline; see the module docstring."""

    def __init__(
        self,
        settings: Settings,
        publish: Callable[[Event], None],
        clock: Callable[[], int],
        *,
        on_symbols: Callable[[], None] | None = None,
        timer_s: float = TIMER_S,
    ) -> None:
        self.settings = settings
        self._publish = publish
        self._clock = clock
        self._on_symbols = on_symbols
        self._timer_s = timer_s
        self.risk = RiskEngine(settings.risk, clock)
        self.broker = PaperBroker({}, settings.paper, clock)
        self.writer: JournalWriter | None = None
        self._lock: EngineLock | None = None  # held from start to close (one engine per journal)
        self.error: str | None = None  # set when the journal cannot be opened: no trading
        self.restored: str | None = None  # the restored: line, once started
        self.on_restored: Callable[[str], None] | None = None
        self.version = 0
        self._out: asyncio.Queue[_Batch | None] = asyncio.Queue()
        self._held: list[Event] = []  # published once the journal recovers
        self._tasks: list[asyncio.Task[None]] = []
        self._balance = settings.paper.starting_balance
        self._mids: dict[str, Decimal] = {}
        self._touch: dict[str, tuple[Decimal, Decimal]] = {}  # best (bid, ask): previews
        self._last: dict[str, float] = {}  # last public trade price: previews without a book
        self._fills: deque[Fill] = deque(maxlen=FILLS_KEPT)  # committed fills, oldest first
        self._seen: dict[str, tuple[set[str], deque[str]]] = {}
        self._symbols: frozenset[str] = frozenset()
        self._last_minute = 0
        self._journal_halted = False

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """The journal is open: orders may be placed."""
        return self.writer is not None

    async def start(self) -> None:
        """Open the journal (it migrates), restore broker and risk from it, start the pipeline.
        A foreign or corrupt journal disables trading (the file is left untouched)."""
        loop = asyncio.get_running_loop()

        def threadsafe(fn: Callable[..., None]) -> Callable[..., None]:
            def call(*args: Any) -> None:
                with contextlib.suppress(RuntimeError):  # the loop is closed: nobody to tell
                    loop.call_soon_threadsafe(fn, *args)
            return call

        path = self.settings.journal_file
        run = RunRecord(
            started_ms=self._clock(), version=__version__, mode=self.settings.mode,
            config_hash=config_hash(self.settings.model_dump_json()),
        )
        writer = JournalWriter(
            path, run=run, on_failure=threadsafe(self._journal_failed),
            on_recovered=threadsafe(self._journal_recovered),
        )
        lock = EngineLock(path)  # one engine per journal: a second one is refused, not merged
        try:
            lock.acquire()
            self._lock = lock
            if self.settings.replaying:  # a sandbox starts afresh; the last run is kept
                await asyncio.to_thread(keep_previous_replay, path)
            await asyncio.to_thread(writer.start)
            state = await asyncio.to_thread(load_state, path)
            self._fills.extend(await asyncio.to_thread(recent_fills, path, FILLS_KEPT))
        except JournalError as exc:
            writer.close()
            self._release_lock()
            self._disable(str(exc))
            return
        self.writer = writer
        self._restore(state)
        self._tasks = [
            asyncio.create_task(self._consume(), name="desk:journal"),
            asyncio.create_task(self._timer(), name="desk:timer"),
        ]

    async def close(self) -> None:
        """Journal the last account state, let the pipeline drain, close the journal."""
        timer = self._tasks[1:] if self._tasks else []
        for task in timer:
            task.cancel()
        await asyncio.gather(*timer, return_exceptions=True)
        if self.writer is None:
            self._release_lock()
            return
        self._out.put_nowait(((self._account_record(),), ()))
        self._out.put_nowait(None)
        with contextlib.suppress(Exception):
            await self._tasks[0]
        writer, self.writer = self.writer, None
        await asyncio.to_thread(writer.close)
        self._release_lock()

    def _release_lock(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def _restore(self, state: RestoredState) -> None:
        if state.balance is not None:
            self.broker.restore(state.balance, state.positions, state.orders, state.realized_today)
        if state.day_state is not None:
            self.risk.restore(state.day_state)
        account = self.broker.account()
        self._balance = account.balance
        self._symbols = self.symbols_in_use()
        self.restored = restored_line(
            account, state.balance is None,
            DEFAULT_POLICY.with_overrides(self.settings.display.quote_decimals))
        log.info("%s", self.restored)
        if self.on_restored is not None:
            self.on_restored(self.restored)
        for event in self.risk.drain_events():  # e.g. a kill switch or loss limit kept
            self._publish(event)
        self._changed()

    def _disable(self, reason: str) -> None:
        self.error = reason
        log.error("trading disabled: %s", reason)
        self.risk.kill(f"journal: {reason}")
        self.risk.drain_events()
        self._changed()
        self._publish(TradingStateChanged(self._clock(), TradingState.HALTED.value,
                                          f"trading disabled: {reason}"))

    # -- what the snapshot shows --------------------------------------------------------------

    def account(self) -> AccountSnapshot | None:
        return self.broker.account() if self.ready else None

    def fills(self) -> tuple[Fill, ...]:
        """The last :data:`FILLS_KEPT` fills, oldest first, each only once it is journaled."""
        return tuple(self._fills)

    @property
    def trading_state(self) -> str:
        return self.risk.state.value

    @property
    def daily_loss_limit(self) -> Decimal | None:
        return self.risk.loss_limit

    @property
    def trading_reason(self) -> str | None:
        if self.error is not None:
            return f"trading disabled: {self.error}"
        return self.risk.reason

    def symbols_in_use(self) -> frozenset[str]:
        """Symbols with an open position or a working order: the broker needs their market."""
        return frozenset(
            {p.symbol for p in self.broker.positions()}
            | {o.request.symbol for o in self.broker.working_orders()}
        )

    def attach_markets(self, markets: dict[str, Any]) -> None:
        """Exchange filters for every market the exchange lists (ccxt's unified markets)."""
        for symbol, market in markets.items():
            try:
                self.broker.rules[symbol] = MarketRules.from_ccxt(market)
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                log.debug("%s: no usable market rules: %s", symbol, exc)

    # -- market data (called by the feed on the loop) -----------------------------------------

    def on_book(self, symbol: str, book: BookSnapshot) -> None:
        if book.bids and book.asks:
            bid, ask = dec(book.bids[0][0]), dec(book.asks[0][0])
            self._touch[symbol] = (bid, ask)
            self._mids[symbol] = (bid + ask) / 2
        if self.ready:
            self._absorb(self.broker.on_book(symbol, book))

    def on_trades(self, symbol: str, trades: Iterable[Trade]) -> None:
        """Forward the trades not seen before (a reconnect or a cache repeats some)."""
        ids, order = self._seen.setdefault(symbol, (set(), deque()))
        events: list[Event] = []
        for trade in trades:
            if trade.id in ids:
                continue
            ids.add(trade.id)
            order.append(trade.id)
            if len(order) > SEEN_TRADES:
                ids.discard(order.popleft())
            self._last[symbol] = trade.price
            if self.ready:
                events += self.broker.on_trade(symbol, trade)
        if events:
            self._absorb(events)

    # -- signals ------------------------------------------------------------------------------

    def on_signal(self, event: SignalEmitted) -> None:
        """A strategy signal: an entry is sized and sent with its bracket; an exit closes the
        strategy's position on the symbol. Every signal is journaled with what became of it."""
        if not self.ready:
            log.info("signal %s ignored: %s", event.signal, self.trading_reason)
            return
        signal = event.signal
        if self.settings.mode == "live":
            self._absorb([], [SignalRecord(event.timestamp, signal, "denied", LIVE_REFUSAL)])
            return
        if signal.kind == "exit":
            request = self._exit_request(signal)
            if request is None:
                self._absorb([], [SignalRecord(
                    event.timestamp, signal, "ignored",
                    f"no {signal.strategy} position on {signal.symbol} to exit")])
                return
        else:
            if held := self._strategy_position(signal):
                # One position per strategy and symbol, as in the backtester: no pyramiding.
                self._absorb([], [SignalRecord(
                    event.timestamp, signal, "ignored",
                    f"{signal.strategy} already holds {held.quantity} {signal.symbol}")])
                return
            request, why = self._entry_request(signal)
            if request is None:
                self._absorb([], [SignalRecord(event.timestamp, signal, "denied", why)])
                return
        notes = self._merged_legs(request)  # scale-out legs merged: journaled and logged
        if notes:
            log.warning("%s %s: %s", signal.strategy, signal.symbol, notes)
        self._place(request, lambda status, reason, order_id: SignalRecord(
            event.timestamp, signal, status, reason or notes, order_id))

    def _entry_request(self, signal: Signal) -> tuple[OrderRequest | None, str | None]:
        rules = self.broker.rules.get(signal.symbol)
        if rules is None:
            return None, f"no market rules for {signal.symbol}"
        if signal.stop is None:
            # Sized at zero: risk's mandatory_stop names the problem (it runs before sizing rules).
            return OrderRequest(signal.symbol, signal.side, OrderType.MARKET, ZERO,
                                strategy=signal.strategy), None
        mid = self._mids.get(signal.symbol)
        if mid is None:
            return None, f"price_band: no book for {signal.symbol} yet"
        # Sized from the mid, not the bar's close: the risk check measures a market order there.
        equity = self.broker.account().equity
        stop = to_tick(dec(signal.stop), rules.tick)
        quantity = self.risk.size_for(mid, stop, equity, step=rules.step)
        # Scaled down to the position limits (as the backtester does) rather than refused by them.
        risk = self.settings.risk
        quantity = min(quantity, position_cap(mid, equity, risk.max_position_pct,
                                              risk.max_position_quote, rules.step))
        if quantity <= ZERO:
            return None, (f"sizing: {self.settings.risk.risk_per_trade_pct}% of equity {equity} "
                          f"over the stop distance |{mid} - {stop}| rounds to no quantity")
        if signal.scale_out:
            try:
                bracket = scale_out_bracket(signal, stop, rules)
            except ValueError as exc:
                return None, f"scale_out: {exc}"
        else:
            target = to_tick(dec(signal.targets[0]), rules.tick) if signal.targets else None
            bracket = Bracket(stop_loss=stop, take_profit=target)
        return OrderRequest(signal.symbol, signal.side, OrderType.MARKET, quantity,
                            bracket=bracket, strategy=signal.strategy), None

    def _merged_legs(self, request: OrderRequest) -> str | None:
        """What merging a scale-out's small legs did to ``request``'s bracket (one line each,
        ``core.scale_out.plan_legs`` as the broker will split it), or None."""
        bracket, rules = request.bracket, self.broker.rules.get(request.symbol)
        if bracket is None or not bracket.legs or rules is None:
            return None
        plan = plan_legs(request.quantity, [leg.weight for leg in bracket.legs],
                         [leg.price for leg in bracket.legs], step=rules.step,
                         min_qty=rules.min_qty, min_notional=rules.min_notional)
        return "; ".join(plan.notices) or None

    def _strategy_position(self, signal: Signal) -> Position | None:
        """The open position (or working entry) of ``signal``'s strategy on its symbol."""
        for pos in self.broker.positions():
            if pos.symbol == signal.symbol and pos.strategy == signal.strategy:
                return pos
        return None

    def _exit_request(self, signal: Signal) -> OrderRequest | None:
        for pos in self.broker.positions():
            if (pos.symbol == signal.symbol and pos.strategy == signal.strategy
                    and pos.quantity != ZERO and pos.side != signal.side):
                return OrderRequest(signal.symbol, signal.side, OrderType.MARKET,
                                    abs(pos.quantity), reduce_only=True, strategy=signal.strategy)
        return None

    # -- commands -----------------------------------------------------------------------------

    def handle(self, command: Command) -> str | None:
        """Carry out a trading command; a reason when it cannot be (the engine reports it)."""
        if not self.ready:
            return self.trading_reason or "the journal is not open yet"
        now = self._clock()
        record = CommandRecord(now, type(command).__name__, _detail(command))
        match command:
            case PlaceOrder(request=request):
                self._place(request, None, record)
            case CancelOrder(order_id=order_id, keep_other_leg=keep):
                try:
                    self.broker.cancel(order_id, siblings=not keep)
                except KeyError:
                    self._absorb([], [record])
                    return f"no working order {order_id}"
                self._absorb(self.broker.drain_events(), [record])
            case ClosePosition(symbol=symbol):
                requests = flatten_requests(tuple(
                    p for p in self.broker.positions() if p.symbol == symbol))
                if not requests:
                    self._absorb([], [record])
                    return f"no open position on {symbol}"
                self._absorb([], [record])
                self._place(requests[0])
            case FlattenAll():
                self._absorb([], [record])
                self._flatten()
            case KillSwitch(reason=reason):
                self.risk.kill(reason)
                self.broker.cancel_all()
                self._absorb(self.broker.drain_events(), [record])
                self._flatten()
            case ResumeTrading():
                self._journal_halted = False
                self.risk.resume()
                self._absorb([], [record])
            case _:
                return f"unknown command {type(command).__name__}"
        return None

    def _flatten(self) -> None:
        for request in flatten_requests(self.broker.positions()):
            self._place(request)

    # -- the order ticket's preview -----------------------------------------------------------

    def preview(self, draft: TicketDraft) -> OrderPreview:
        """The order ``PlaceOrder`` would place for ``draft``, sized and measured, with the
        verdict risk and the exchange filters would give now. Changes nothing (no order-rate
        count, no event): the ticket asks on every keystroke."""
        if not self.ready:
            why = self.trading_reason if self.error is not None else "the journal is not open yet"
            return OrderPreview(None, False, why)
        if self.settings.mode == "live":
            return OrderPreview(None, False, LIVE_REFUSAL)
        return preview_against(draft, risk=self.risk, broker=self.broker,
                               touch=self._touch_price(draft), mid=self._mids.get(draft.symbol),
                               taker_fee=self.settings.paper.taker_fee)

    def _touch_price(self, draft: TicketDraft) -> Decimal | None:
        """Best ask for a buy, best bid for a sell; the last trade when there is no book."""
        touch = self._touch.get(draft.symbol)
        if touch is not None:
            return touch[1] if draft.side == "buy" else touch[0]
        last = self._last.get(draft.symbol)
        return None if last is None else dec(last)

    # -- the path of one order ----------------------------------------------------------------

    def _place(
        self,
        request: OrderRequest,
        outcome: Callable[[str, str | None, str | None], SignalRecord] | None = None,
        *records: object,
    ) -> None:
        """Risk, then the broker; a refusal by either is an ``OrderDenied`` with the reason.
        ``outcome`` builds the signal's record from (status, reason, order id)."""
        extra = list(records)
        if self.settings.mode == "live":
            denial = OrderDenied(self._clock(), request, LIVE_REFUSAL, "live")
            self._absorb([denial], extra + _outcome(outcome, "denied", LIVE_REFUSAL, None))
            return
        ctx = RiskContext.of(self.broker.account(), request, self._mids.get(request.symbol))
        decision = self.risk.check(request, ctx)
        if not decision.approved:
            denial = self.risk.denied_event(request, decision)
            self._absorb([denial], extra + _outcome(outcome, "denied", denial.reason, None))
            return
        order = self.broker.submit(request)
        events = self.broker.drain_events()
        if order.status is OrderStatus.REJECTED:
            reason = order.reason or "rejected"
            events.append(OrderDenied(self._clock(), request, reason, filter_name(reason)))
            self._absorb(events, extra + _outcome(outcome, "denied", reason, order.id))
            return
        self._absorb(events, extra + _outcome(outcome, "submitted", None, order.id))

    def _absorb(self, events: list[Event], records: Iterable[object] = ()) -> None:
        """Queue ``events`` (journaled, then published) and journal-only ``records``, with the
        account snapshot when something filled and the risk state when it changed."""
        now = self._clock()
        batch: list[object] = [*records, *events]
        if any(isinstance(e, OrderFilled) for e in events):
            account = self.broker.account()
            realized = account.balance - self._balance  # fees and realised PnL, exactly
            self._balance = account.balance
            if realized != ZERO:
                self.risk.on_fill_realized(realized)
            batch.append(AccountRecord(now, account))
            batch.append(self._day_record(now))
        state_events = self.risk.drain_events()
        if state_events:
            batch += state_events
            batch.append(self._day_record(now))
        if not batch:
            return
        self._out.put_nowait((tuple(batch), (*events, *state_events)))
        self._changed()
        symbols = self.symbols_in_use()
        if symbols != self._symbols:
            self._symbols = symbols
            if self._on_symbols is not None:
                self._on_symbols()

    def _day_record(self, now: int) -> DayState:
        """The risk engine's day as the journal stores it, stamped ``now``."""
        return replace(self.risk.day_state(), updated_ms=now)

    def _account_record(self) -> AccountRecord:
        return AccountRecord(self._clock(), self.broker.account())

    # -- the pipeline -------------------------------------------------------------------------

    async def _consume(self) -> None:
        """The single consumer: commit each batch, then publish it, strictly in order."""
        while True:
            item = await self._out.get()
            if item is None:
                return
            records, events = item
            writer = self.writer
            try:
                if writer is not None:
                    await writer.commit(*records)
            except JournalWriteError:
                # The writer retries the rows; publish when they land. A denial is shown now:
                # it changes nothing, and the trader must see every one while the disk is full.
                for event in events:
                    if isinstance(event, OrderDenied):
                        self._publish(event)
                    else:
                        self._held.append(event)
                continue
            except Exception:  # a record the journal refuses must not stop the pipeline
                log.exception("journal commit failed for %r", records)
            self._release_held()
            for event in events:
                self._deliver(event)

    def _release_held(self) -> None:
        held, self._held = self._held, []
        for event in held:
            self._deliver(event)

    def _deliver(self, event: Event) -> None:
        """Publish a committed event; a fill also joins the snapshot's recent fills."""
        if isinstance(event, OrderFilled):
            self._fills.append(event.fill)
            self._changed()
        self._publish(event)

    def _journal_failed(self, exc: JournalWriteError) -> None:
        """The disk is full (or failing): HALT via the risk engine; nothing new passes. The
        state change is published at once (the journal keeps it for its retry)."""
        if self._journal_halted:
            return
        self._journal_halted = True
        self.risk.kill(f"journal: {exc}")
        events = self.risk.drain_events()
        if self.writer is not None and events:
            self.writer.write(*events, self._day_record(self._clock()))
        self._changed()
        for event in events:
            self._publish(event)

    def _journal_recovered(self) -> None:
        """The retried rows landed: show what waited; trading stays HALTED until the user
        resumes (a disk that filled once may fill again)."""
        log.warning("journal writes recovered; trading stays halted until resumed")
        self._release_held()
        self._changed()
        state = self.risk.state.value
        notice = TradingStateChanged(
            self._clock(), state, "journal: writes recovered, nothing committed was lost"
            + ("; trading stays halted until resumed" if state == "halted" else ""))
        if self.writer is not None:
            self.writer.write(notice)
        self._publish(notice)

    async def _timer(self) -> None:
        """Latency releases, and every minute an equity point and a risk tick."""
        while True:
            await asyncio.sleep(self._timer_s)
            try:
                self._on_timer()
            except Exception:
                log.exception("desk timer failed")

    def _on_timer(self) -> None:
        now = self._clock()
        events = self.broker.on_time(now) if self.settings.paper.latency_ms else []
        minute = now - self._last_minute >= EQUITY_EVERY_MS
        records: list[object] = []
        if minute:
            self._last_minute = now
            account = self.broker.account()
            self.risk.tick(account.equity)
            records = [AccountRecord(now, account), self._day_record(now)]
        if events or records:
            self._absorb(events, records)

    def _changed(self) -> None:
        self.version += 1


def preview_against(draft: TicketDraft, *, risk: RiskEngine, broker: PaperBroker,
                    touch: Decimal | None, mid: Decimal | None,
                    taker_fee: Decimal) -> OrderPreview:
    """The ticket's preview as the desk computes it, from a risk engine and a broker as they
    are now: the broker's market rules and account, the risk engine's side-effect-free
    ``evaluate`` then the broker's exact acceptance check. A function (not only a method) so
    the UI tests' fake engine computes its previews with this very code."""
    rules = broker.rules.get(draft.symbol)
    if rules is None:
        return OrderPreview(None, False, f"no market rules for {draft.symbol} yet")
    account = broker.account()

    def verdict(request: OrderRequest) -> str | None:
        decision = risk.evaluate(request, RiskContext.of(account, request, mid))
        if not decision.approved:
            return decision.reason
        return broker.refusal(request)  # the exact acceptance check of submit()

    return preview_order(draft, rules=rules, touch=touch, equity=account.equity,
                         taker_fee=taker_fee, verdict=verdict)


def scale_out_bracket(signal: Signal, stop: Decimal, rules: MarketRules) -> Bracket:
    """The bracket of a scaling-out entry: the stop and one take-profit leg per share, each
    target on the tick and beyond the signal's reference price (else the leg has none and rides
    to the stop or an exit, as in the backtester). ``ValueError``: shares it refuses."""
    weights = leg_weights([share for _, share in signal.scale_out])
    sign = 1 if signal.side == "buy" else -1
    ref = dec(signal.entry) if signal.entry is not None else None
    prices: list[Decimal | None] = []
    for target, _ in signal.scale_out:
        price = None if target is None else to_tick(dec(target), rules.tick)
        if price is not None and ref is not None and (price - ref) * sign <= ZERO:
            price = None
        prices.append(price)
    first = next((p for p in prices if p is not None), None)
    legs = tuple(TargetLeg(p, w) for p, w in zip(prices, weights, strict=True))
    return Bracket(stop_loss=stop, take_profit=first, legs=legs)


def _outcome(
    build: Callable[[str, str | None, str | None], SignalRecord] | None,
    status: str, reason: str | None, order_id: str | None,
) -> list[object]:
    return [] if build is None else [build(status, reason, order_id)]


def _detail(command: Command) -> str:
    """The command's fields as text for the journal (``repr`` keeps Decimals exact)."""
    if isinstance(command, PlaceOrder):
        r = command.request
        return (f"{r.side} {r.quantity} {r.symbol} {r.type.value}"
                + (f" @ {r.price}" if r.price is not None else "")
                + (f" stop {r.stop_price}" if r.stop_price is not None else "")
                + (" reduce-only" if r.reduce_only else ""))
    return repr(command)


__all__ = ["LIVE_REFUSAL", "Desk", "preview_against", "restored_line"]
