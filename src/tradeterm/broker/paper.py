"""The paper broker: orders filled against the live L2 book and public trades, harshly.

Pure, synchronous and I/O-free: the engine feeds it books, trades and time, and journals and
publishes the events it returns. ``submit``/``cancel``/``cancel_all`` return the order(s) and
queue their events; every ``on_*`` call (and :meth:`drain_events`) hands back all queued
events, oldest first. See ``docs/broker.md`` for the fill model and what it simplifies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal

from tradeterm.broker import validate
from tradeterm.broker.account import Account, ratio
from tradeterm.broker.fills import crosses, fee, levels, size_at, walk
from tradeterm.broker.rules import MarketRules
from tradeterm.config import PaperSettings
from tradeterm.core.events import Event, OrderFilled, OrderUpdated, PositionClosed
from tradeterm.core.models import BookSnapshot, Side, Trade
from tradeterm.core.money import ZERO, dec, to_step, to_tick
from tradeterm.core.scale_out import leg_client_id, leg_of, plan_legs
from tradeterm.core.trading import (
    AccountSnapshot,
    Fill,
    Liquidity,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
)

_STOPS = (OrderType.STOP_MARKET, OrderType.STOP_LIMIT, OrderType.TRAILING_STOP)


@dataclass(slots=True)
class _Working:
    """A working order plus what only the fill model needs."""

    order: Order
    arrival_ms: int
    notional: Decimal = ZERO  # exact sum of fill price * qty (average price for display)
    queue_ahead: Decimal | None = None  # None: estimate from the book on the first trade
    triggered: bool = False

    @property
    def resting_limit(self) -> Decimal | None:
        """The limit price this order rests at (a limit, or a triggered stop-limit)."""
        kind = self.order.request.type
        if kind is OrderType.LIMIT or (kind is OrderType.STOP_LIMIT and self.triggered):
            return self.order.request.price
        return None


class PaperBroker:
    """Simulated execution and account for paper trading; see the module docstring."""

    def __init__(self, rules: dict[str, MarketRules], settings: PaperSettings,
                 clock: Callable[[], int]) -> None:
        self.rules = rules
        self.settings = settings
        self.clock = clock
        self._account = Account(settings.starting_balance)
        self._run = clock()  # id prefix: ids stay unique across restarts of the same journal
        self._seq = 0
        self._working: dict[str, _Working] = {}  # insertion order = arrival order
        self._pending: list[_Working] = []  # waiting out the latency, in arrival order
        self._books: dict[str, BookSnapshot] = {}
        self._consumed: dict[str, dict[tuple[str, Decimal], Decimal]] = {}
        self._marks: dict[str, Decimal] = {}
        self._last: dict[str, Decimal] = {}
        self._events: list[Event] = []
        # What each take-profit leg of a still-working scale-out entry has filled, over all its
        # orders (a filled leg leaves the working set; the next re-split must still count it).
        self._leg_fills: dict[str, dict[int, Decimal]] = {}

    # --- orders --------------------------------------------------------------------------
    def submit(self, request: OrderRequest) -> Order:
        """Check and accept ``request``. A refusal is an order with status REJECTED whose
        ``reason`` names the rule and the value (no exception). With no latency the order
        reaches the book at once; otherwise it is PENDING until ``latency_ms`` has passed."""
        now = self.clock()
        order = Order(id=self._next_id("P"), request=request, status=OrderStatus.PENDING,
                      created_ms=now, updated_ms=now)
        reason = self.refusal(request)
        if reason is not None:
            order = replace(order, status=OrderStatus.REJECTED, reason=reason)
            self._emit(OrderUpdated(now, order))
            return order
        w = _Working(order, now + self.settings.latency_ms)
        self._working[order.id] = w
        self._emit(OrderUpdated(now, order))
        if self.settings.latency_ms == 0:
            self._arrive(w, now)
        else:
            self._pending.append(w)
        return w.order

    def cancel(self, order_id: str, *, siblings: bool = True) -> Order:
        """Cancel a working order and, unless ``siblings`` is False, its OCO sibling (the other
        leg of a bracket). KeyError if it is not working."""
        w = self._working[order_id]
        now = self.clock()
        self._finish(w, OrderStatus.CANCELED, "canceled by request", now)
        if siblings:
            self._cancel_siblings(w.order, now, f"OCO: {order_id} canceled")
        return w.order

    def siblings(self, order_id: str) -> tuple[Order, ...]:
        """The working OCO siblings of ``order_id`` (the other leg of its bracket), if any."""
        w = self._working.get(order_id)
        return () if w is None else tuple(s.order for s in self._siblings(w.order))

    def cancel_all(self, symbol: str | None = None) -> list[Order]:
        """Cancel every working order (of ``symbol``); returns the cancelled orders."""
        done: list[Order] = []
        for order_id, w in list(self._working.items()):
            if order_id in self._working and (symbol is None or w.order.request.symbol == symbol):
                self._finish(w, OrderStatus.CANCELED, "canceled by request", self.clock())
                done.append(w.order)
        return done

    # --- market data ---------------------------------------------------------------------
    def on_book(self, symbol: str, book: BookSnapshot) -> list[Event]:
        """A new book: orders whose latency ran out first meet the previous book (the one that
        was current when they arrived), then the book is replaced and positions are marked."""
        self._release(self.clock())
        self._books[symbol] = book
        self._consumed.pop(symbol, None)
        if book.bids and book.asks:
            mid = (dec(book.bids[0][0]) + dec(book.asks[0][0])) / 2
            self._marks[symbol] = mid
            self._account.mark(symbol, mid)
        return self.drain_events()

    def on_trade(self, symbol: str, trade: Trade) -> list[Event]:
        """A public trade: moves trailing stops, triggers stops, fills resting limits."""
        now = self.clock()
        self._release(now)
        rules = self.rules.get(symbol)
        if rules is None:
            return self.drain_events()
        price = to_tick(dec(trade.price), rules.tick)
        amount = to_step(dec(trade.amount), rules.step)
        self._last[symbol] = price
        for w in [w for w in self._working.values() if w.order.request.symbol == symbol]:
            if w.order.id not in self._working or w.order.status is OrderStatus.PENDING:
                continue
            if w.order.request.type in _STOPS and not w.triggered:
                self._on_stop(w, price, now)
            else:
                self._on_resting(w, price, amount, trade.side, now)
        return self.drain_events()

    def on_time(self, now_ms: int) -> list[Event]:
        """Release orders whose latency elapsed by ``now_ms``; roll the UTC day."""
        self._release(now_ms)
        self._account.roll_day(now_ms)
        return self.drain_events()

    def drain_events(self) -> list[Event]:
        """The events queued since the last call, oldest first."""
        events, self._events = self._events, []
        return events

    # --- account -------------------------------------------------------------------------
    def account(self, marks: dict[str, Decimal] | None = None) -> AccountSnapshot:
        """Balance, equity at the marks (default: the last book mid of each symbol)."""
        self._account.roll_day(self.clock())
        unrealized = self._account.unrealized(self._marks if marks is None else marks)
        balance = self._account.balance
        return AccountSnapshot(
            quote=self.settings.quote, balance=balance, equity=balance + unrealized,
            unrealized_pnl=unrealized, realized_pnl_today=self._account.realized_today,
            positions=self._account.positions(), orders=self.working_orders(),
        )

    def positions(self) -> tuple[Position, ...]:
        return self._account.positions()

    def working_orders(self) -> tuple[Order, ...]:
        return tuple(w.order for w in self._working.values())

    def restore(self, balance: Decimal, positions: list[Position] | tuple[Position, ...],
                orders: list[Order] | tuple[Order, ...], realized_today: Decimal) -> None:
        """Reload state after a restart (from the journal). Working orders keep their ids;
        a PENDING one arrives after its latency, a resting limit's queue ahead is re-estimated
        from the first book, a triggered stop-limit (status PARTIALLY_FILLED or a ``reason``
        starting with 'triggered') rests as a limit."""
        now = self.clock()
        self._account.restore(balance, positions, realized_today, now)
        self._working.clear()
        self._pending.clear()
        for order in orders:
            if not order.status.is_working:
                continue
            w = _Working(order, order.created_ms + self.settings.latency_ms)
            w.notional = order.filled_quantity * (order.average_price or ZERO)
            w.triggered = order.request.type in _STOPS and (
                order.filled_quantity > ZERO or (order.reason or "").startswith("triggered"))
            self._working[order.id] = w
            if order.status is OrderStatus.PENDING:
                self._pending.append(w)
        self._leg_fills.clear()
        for w in self._working.values():
            leg = leg_of(w.order.request.client_id)
            if leg is not None and w.order.parent_id in self._working:
                fills = self._leg_fills.setdefault(w.order.parent_id, {})
                fills[leg] = fills.get(leg, ZERO) + w.order.filled_quantity

    # --- acceptance ---------------------------------------------------------------------------
    def refusal(self, request: OrderRequest) -> str | None:
        """Why ``submit`` would refuse ``request`` (filter or position rule named), or None.
        Pure: the order ticket's preview asks the same question without placing anything."""
        rules = self.rules.get(request.symbol)
        if rules is None:
            return f"SYMBOL: {request.symbol} is not traded"
        position = self._account.position_qty(request.symbol)
        ref = request.price or request.stop_price or self._marks.get(request.symbol)
        equity = self.account().equity
        return (validate.check_shape(request)
                or rules.check(request, reference_price=self._marks.get(request.symbol))
                or validate.check_bracket_grid(request, rules)
                or validate.check_reduce_only(request, position)
                or validate.check_margin(request, position, ref, equity))

    def _release(self, now: int) -> None:
        while self._pending and self._pending[0].arrival_ms <= now:
            w = self._pending.pop(0)
            if w.order.id in self._working:
                self._arrive(w, w.arrival_ms)

    def _arrive(self, w: _Working, now: int) -> None:
        """The order reaches the book: market/limit execute, stops start watching trades."""
        request = w.order.request
        if request.type in _STOPS:
            stop = w.order.stop_price or request.stop_price
            if request.type is OrderType.TRAILING_STOP and stop is None:
                stop = self._trail_from(w, self._last.get(request.symbol)
                                        or self._marks.get(request.symbol))
            self._update(w, now, status=OrderStatus.OPEN, stop_price=stop)
            return
        if request.type is OrderType.MARKET:
            self._take(w, None, now)
            if w.order.id in self._working:
                self._finish(w, OrderStatus.EXPIRED, self._unfilled("book depth exhausted", w), now)
            return
        self._limit_arrives(w, now)

    def _limit_arrives(self, w: _Working, now: int) -> None:
        """A limit (or triggered stop-limit) meets the book: post-only refuses to cross, the
        crossing part takes liquidity, the rest rests (GTC) or expires (IOC)."""
        request = w.order.request
        price = request.price
        assert price is not None  # validated: limit orders carry a price
        best = self._best(request.symbol, "sell" if request.side == "buy" else "buy")
        if request.time_in_force is TimeInForce.POST_ONLY and best is not None and crosses(
                request.side, best, price):
            side = "ask" if request.side == "buy" else "bid"
            self._finish(w, OrderStatus.REJECTED,
                         f"POST_ONLY: price {price} would cross best {side} {best}", now)
            return
        self._take(w, price, now)
        if w.order.id not in self._working:
            return
        if request.time_in_force is TimeInForce.IOC:
            self._finish(w, OrderStatus.EXPIRED, self._unfilled("IOC remainder", w), now)
            return
        w.queue_ahead = self._queue_at(request.symbol, request.side, price)
        if w.order.status is OrderStatus.PENDING:
            self._update(w, now, status=OrderStatus.OPEN)

    # --- internals: execution ------------------------------------------------------------
    def _take(self, w: _Working, limit: Decimal | None, now: int) -> None:
        """Take liquidity from the current book up to ``limit``, one fill per level."""
        request = w.order.request
        book = self._books.get(request.symbol)
        rules = self.rules[request.symbol]
        qty = self._allowed(w)
        if book is None or qty <= ZERO:
            return
        raw = book.asks if request.side == "buy" else book.bids
        opposite = "sell" if request.side == "buy" else "buy"
        consumed = self._consumed.setdefault(request.symbol, {})
        view = {price: used for (side, price), used in consumed.items() if side == opposite}
        took = ZERO
        for price, take in walk(request.side, levels(raw, rules.tick, rules.step), qty, limit,
                                view):
            key = (opposite, price)
            consumed[key] = consumed.get(key, ZERO) + take
            self._fill(w, price, take, Liquidity.TAKER, now, protect=False)
            took += take
            if w.order.id not in self._working:
                break
        if took > ZERO and request.bracket is not None:
            # The bracket once for the whole walk: a child placed between two levels could
            # fill before the next level (a target below the bid) and churn against the entry.
            self._protect(w.order, took, now)

    def _on_stop(self, w: _Working, price: Decimal, now: int) -> None:
        """Check the trigger against the last trade, then let a trailing stop follow it."""
        request = w.order.request
        stop = w.order.stop_price
        if stop is None:  # a trailing stop that had no reference price yet
            self._update(w, now, stop_price=self._trail_from(w, price))
            return
        if (price >= stop) if request.side == "buy" else (price <= stop):
            w.triggered = True
            self._update(w, now, reason=f"triggered at {price}")
            if request.type is OrderType.STOP_LIMIT:
                self._limit_arrives(w, now)
            else:
                self._take(w, None, now)
                if w.order.id in self._working:
                    self._finish(w, OrderStatus.EXPIRED,
                                 self._unfilled("book depth exhausted", w), now)
            return
        if request.type is OrderType.TRAILING_STOP:
            moved = self._trail_from(w, price)
            if moved is not None and ((moved < stop) if request.side == "buy" else (moved > stop)):
                self._update(w, now, stop_price=moved)

    def _on_resting(self, w: _Working, price: Decimal, amount: Decimal, aggressor: str,
                    now: int) -> None:
        """A trade through the limit fills the rest at the limit; a trade at the limit (by an
        aggressor from the other side) first eats the estimated queue ahead."""
        limit = w.resting_limit
        if limit is None:
            return
        side = w.order.request.side
        through = price < limit if side == "buy" else price > limit
        if through:
            self._fill(w, limit, self._allowed(w), Liquidity.MAKER, now)
            return
        if price != limit or aggressor == side:
            return
        if w.queue_ahead is None:
            w.queue_ahead = self._queue_at(w.order.request.symbol, side, limit)
        if amount <= w.queue_ahead:
            w.queue_ahead -= amount
            return
        excess = amount - w.queue_ahead
        w.queue_ahead = ZERO
        self._fill(w, limit, min(excess, self._allowed(w)), Liquidity.MAKER, now)

    def _fill(self, w: _Working, price: Decimal, qty: Decimal, liquidity: Liquidity,
              now: int, *, protect: bool = True) -> None:
        """Book one execution: order, account, events, then brackets (unless ``protect`` is
        False: the caller protects after its walk) and OCO siblings."""
        if qty <= ZERO:
            if w.order.request.reduce_only:
                self._finish(w, OrderStatus.CANCELED, "REDUCE_ONLY: position is flat", now)
            return
        request = w.order.request
        rate = self.settings.taker_fee if liquidity is Liquidity.TAKER else self.settings.maker_fee
        cost = fee(price, qty, rate)
        fill = Fill(id=self._next_id("F"), order_id=w.order.id, symbol=request.symbol,
                    side=request.side, price=price, quantity=qty, fee=cost, liquidity=liquidity,
                    timestamp=now, strategy=request.strategy)
        w.notional += price * qty
        filled = w.order.filled_quantity + qty
        done = filled >= request.quantity
        w.order = replace(
            w.order, filled_quantity=filled, average_price=ratio(w.notional, filled),
            fees=w.order.fees + cost, updated_ms=now,
            status=OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED)
        if done:
            del self._working[w.order.id]
        bracket = request.bracket
        closed = self._account.apply(fill, bracket.stop_loss if bracket else None,
                                     bracket.take_profit if bracket else None)
        self._emit(OrderFilled(now, fill, w.order))
        if closed is not None:
            self._emit(PositionClosed(now, closed))
        leg = leg_of(request.client_id)
        if leg is not None and w.order.parent_id in self._leg_fills:
            fills = self._leg_fills[w.order.parent_id]
            fills[leg] = fills.get(leg, ZERO) + qty
        if bracket is not None and protect:
            self._protect(w.order, qty, now)
        if w.order.oco_group is not None:
            self._shrink_siblings(w.order, qty, now)
        if closed is not None:
            self._cancel_orphans(request.symbol, w.order.id, now)

    def _protect(self, entry: Order, qty: Decimal, now: int) -> None:
        """Bracket children for ``qty`` more of the entry: grow the working pair, or place one."""
        children = [w for w in self._working.values() if w.order.parent_id == entry.id]
        if entry.request.bracket is not None and entry.request.bracket.legs:
            self._protect_legs(entry, children, now)
            return
        if children:
            for child in children:
                grown = replace(child.order.request, quantity=child.order.request.quantity + qty)
                self._update(child, now, request=grown)
            return
        bracket = entry.request.bracket
        assert bracket is not None
        side: Side = "sell" if entry.request.side == "buy" else "buy"
        group = f"oco-{entry.id}-{self._seq}"
        specs = []
        if bracket.stop_loss is not None:
            specs.append(OrderRequest(entry.request.symbol, side, OrderType.STOP_MARKET, qty,
                                      stop_price=bracket.stop_loss, reduce_only=True,
                                      strategy=entry.request.strategy))
        if bracket.take_profit is not None:
            specs.append(OrderRequest(entry.request.symbol, side, OrderType.LIMIT, qty,
                                      price=bracket.take_profit, reduce_only=True,
                                      strategy=entry.request.strategy))
        self._place_children(entry, specs, group if len(specs) > 1 else None, now)

    def _protect_legs(self, entry: Order, children: list[_Working], now: int) -> None:
        """A scale-out bracket: a stop for all that the entry filled and one reduce-only
        take-profit per leg (``core.scale_out.plan_legs`` of the filled quantity); placed on
        the first fill, amended to the new split on the next ones. What a leg already filled
        counts, also by an order of it that filled and left: the stop covers the position and a
        leg is placed again for the rest of its new size only."""
        bracket = entry.request.bracket
        assert bracket is not None
        request = entry.request
        rules = self.rules[request.symbol]
        filled = entry.filled_quantity
        got = self._leg_fills.setdefault(entry.id, {}) if entry.id in self._working else (
            self._leg_fills.pop(entry.id, {}))  # the entry's last fill: nothing to count later
        taken = sum(got.values(), ZERO)
        prices = [leg.price for leg in bracket.legs]
        plan = plan_legs(filled, [leg.weight for leg in bracket.legs], prices, step=rules.step,
                         min_qty=rules.min_qty, min_notional=rules.min_notional)
        sizes = _net_of_overfill(list(plan.quantities), got)
        side: Side = "sell" if request.side == "buy" else "buy"
        group = next((c.order.oco_group for c in children if c.order.oco_group),
                     f"oco-{entry.id}-{self._seq}")
        wanted: list[tuple[str | None, OrderRequest]] = []
        if bracket.stop_loss is not None:
            wanted.append((None, OrderRequest(
                request.symbol, side, OrderType.STOP_MARKET, filled - taken,
                stop_price=bracket.stop_loss, reduce_only=True, strategy=request.strategy)))
        for n, (price, qty) in enumerate(zip(prices, sizes, strict=True), start=1):
            if price is not None:
                # this leg's orders still to fill: its size less what its gone orders filled
                rest = qty - got.get(n, ZERO) + sum(
                    (c.order.filled_quantity for c in children
                     if c.order.request.client_id == leg_client_id(entry.id, n)), ZERO)
                wanted.append((leg_client_id(entry.id, n), OrderRequest(
                    request.symbol, side, OrderType.LIMIT, rest, price=price, reduce_only=True,
                    strategy=request.strategy, client_id=leg_client_id(entry.id, n))))
        new: list[OrderRequest] = []
        for client_id, spec in wanted:
            child = next((c for c in children if c.order.request.client_id == client_id
                          and (client_id is not None or c.order.request.type in _STOPS)), None)
            if child is not None:
                if spec.quantity <= child.order.filled_quantity:
                    self._finish(child, OrderStatus.CANCELED, "scale-out: leg merged", now)
                elif spec.quantity != child.order.request.quantity:
                    self._update(child, now, request=replace(child.order.request,
                                                             quantity=spec.quantity))
                continue
            if spec.quantity > ZERO:
                new.append(spec)
        self._place_children(entry, new, group, now)

    def _place_children(self, entry: Order, specs: list[OrderRequest], group: str | None,
                        now: int) -> None:
        """Place ``entry``'s protective orders: all registered first, then each arrives in
        turn (one that fills on arrival cancels its OCO siblings, which then never arrive)."""
        placed = []
        for spec in specs:
            order = Order(id=self._next_id("P"), request=spec, status=OrderStatus.PENDING,
                          created_ms=now, updated_ms=now, parent_id=entry.id, oco_group=group)
            w = _Working(order, now)
            self._working[order.id] = w
            placed.append(w)
        for w in placed:
            if w.order.id in self._working:
                self._arrive(w, now)

    def _shrink_legs(self, order: Order, siblings: list[_Working], qty: Decimal,
                     now: int) -> None:
        """A scale-out bracket's fill: a take-profit leg's shrinks the stop to what is left of
        the position (amended in place, the reason says so); the stop's takes the legs off,
        the last first."""
        leg = leg_of(order.request.client_id)
        if leg is not None:
            for w in siblings:
                if w.order.request.type not in _STOPS:
                    continue
                before = w.order.request.quantity
                smaller = before - qty
                if smaller <= w.order.filled_quantity:
                    self._finish(w, OrderStatus.CANCELED, f"OCO: target {leg} filled", now)
                else:
                    self._update(w, now, request=replace(w.order.request, quantity=smaller),
                                 reason=f"amended: target {leg} filled {qty}, "
                                        f"stop quantity {before} -> {smaller}")
            return
        left = qty
        legs = sorted((w for w in siblings if leg_of(w.order.request.client_id) is not None),
                      key=lambda w: -(leg_of(w.order.request.client_id) or 0))
        for w in legs:
            if left <= ZERO:
                break
            open_qty = w.order.remaining
            take = min(open_qty, left)
            left -= take
            if take >= open_qty:
                self._finish(w, OrderStatus.CANCELED, f"OCO: {order.id} filled", now)
            else:
                self._update(w, now, request=replace(w.order.request,
                                                     quantity=w.order.request.quantity - take))

    def _shrink_siblings(self, order: Order, qty: Decimal, now: int) -> None:
        """OCO: a child's fill reduces its siblings by the same amount; at zero they cancel."""
        siblings = self._siblings(order)
        if leg_of(order.request.client_id) is not None or any(
                leg_of(w.order.request.client_id) is not None for w in siblings):
            self._shrink_legs(order, siblings, qty, now)
            return
        for w in siblings:
            smaller = w.order.request.quantity - qty
            if smaller <= w.order.filled_quantity:
                self._finish(w, OrderStatus.CANCELED, f"OCO: {order.id} filled", now)
            else:
                self._update(w, now, request=replace(w.order.request, quantity=smaller))

    def _cancel_orphans(self, symbol: str, closing_id: str, now: int) -> None:
        """A closed position takes its protective orders with it: a stop or target left working
        after a manual close, a flatten or a strategy's exit would otherwise act on the next
        position in the symbol (they are reduce-only, not tied to one position)."""
        for w in list(self._working.values()):
            order = w.order
            if (order.parent_id is not None and order.request.symbol == symbol
                    and order.parent_id != closing_id and order.id in self._working):
                self._finish(w, OrderStatus.CANCELED, "position closed", now)

    def _cancel_siblings(self, order: Order, now: int, reason: str) -> None:
        for w in self._siblings(order):
            self._finish(w, OrderStatus.CANCELED, reason, now)

    def _siblings(self, order: Order) -> list[_Working]:
        if order.oco_group is None:
            return []
        return [w for w in self._working.values()
                if w.order.oco_group == order.oco_group and w.order.id != order.id]

    # --- internals: helpers --------------------------------------------------------------
    def _allowed(self, w: _Working) -> Decimal:
        """What may still fill: the remainder, clipped so reduce-only never grows or flips."""
        remaining = w.order.remaining
        if not w.order.request.reduce_only:
            return remaining
        position = self._account.position_qty(w.order.request.symbol)
        opposes = position < ZERO if w.order.request.side == "buy" else position > ZERO
        return min(remaining, abs(position)) if opposes else ZERO

    def _trail_from(self, w: _Working, price: Decimal | None) -> Decimal | None:
        trail = w.order.request.trail
        if price is None or trail is None:
            return None
        return price + trail if w.order.request.side == "buy" else price - trail

    def _best(self, symbol: str, side: str) -> Decimal | None:
        book = self._books.get(symbol)
        if book is None:
            return None
        raw = book.bids if side == "buy" else book.asks
        rules = self.rules[symbol]
        return next((price for price, _ in levels(raw, rules.tick, rules.step)), None)

    def _queue_at(self, symbol: str, side: str, price: Decimal) -> Decimal:
        book = self._books.get(symbol)
        if book is None:
            return ZERO
        rules = self.rules[symbol]
        return size_at(levels(book.bids if side == "buy" else book.asks, rules.tick, rules.step),
                       price)

    def _unfilled(self, why: str, w: _Working) -> str:
        return f"{why}: {w.order.remaining} of {w.order.request.quantity} unfilled"

    def _update(self, w: _Working, now: int, **changes: object) -> None:
        w.order = replace(w.order, updated_ms=now, **changes)  # type: ignore[arg-type]
        self._emit(OrderUpdated(now, w.order))

    def _finish(self, w: _Working, status: OrderStatus, reason: str, now: int) -> None:
        self._working.pop(w.order.id, None)
        self._leg_fills.pop(w.order.id, None)
        self._update(w, now, status=status, reason=reason)

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _next_id(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}{self._run}-{self._seq}"


def _net_of_overfill(sizes: list[Decimal], got: dict[int, Decimal]) -> list[Decimal]:
    """The legs' sizes (1-based in ``got``) after a leg that already filled more than its new
    size: the excess comes off the other legs, the last first, so that the legs still add up
    to what the entry filled."""
    excess = sum((max(got.get(n, ZERO) - q, ZERO) for n, q in enumerate(sizes, 1)), ZERO)
    out = [max(q, got.get(n, ZERO)) for n, q in enumerate(sizes, 1)]
    for i in reversed(range(len(out))):
        if excess <= ZERO:
            break
        spare = max(out[i] - got.get(i + 1, ZERO), ZERO)
        cut = min(spare, excess)
        out[i] -= cut
        excess -= cut
    return out
