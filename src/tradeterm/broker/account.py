"""The paper account: quote balance, net positions per symbol (long or short), exact PnL.

Margin-style at leverage 1: buying or selling moves no cash; the balance changes only by fees
and realised PnL, and equity is the balance plus unrealised PnL at the mark (the book mid).

Exactness: a position is kept as FIFO lots ``(signed qty, price)``. Realised PnL is
``closed_qty * (exit - lot_price)`` summed over the lots a fill closes: products and sums of
exact Decimals, never a division, so the balance is exact to the last digit after any number
of fills. Divisions appear only in display values (average prices, the R multiple), computed in
a separate context so they never leak into the money path.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from decimal import Context, Decimal

from tradeterm.core.money import ZERO
from tradeterm.core.trading import ClosedTrade, Fill, Position

DAY_MS = 86_400_000
_DISPLAY = Context(prec=28)  # for averages and ratios only; Inexact is never trapped here


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    """A display value (average price, R multiple): rounded to 28 digits, never money."""
    return _DISPLAY.divide(numerator, denominator)


@dataclass(slots=True)
class _Open:
    """One open position's working state (mutable; snapshots are ``Position``)."""

    symbol: str
    opened_ms: int
    strategy: str | None
    long: bool
    lots: deque[list[Decimal]] = field(default_factory=deque)  # [signed qty, price], FIFO
    stop: Decimal | None = None
    target: Decimal | None = None
    initial_risk: Decimal | None = None
    realized: Decimal = ZERO  # gross, of partial closes
    fees: Decimal = ZERO  # entry and exit fees charged to this position
    max_adverse: Decimal = ZERO
    max_favorable: Decimal = ZERO
    entry_qty: Decimal = ZERO  # everything ever opened (for ClosedTrade)
    entry_cost: Decimal = ZERO
    exit_qty: Decimal = ZERO
    exit_value: Decimal = ZERO
    entry_order: str | None = None  # the order whose fill opened the position

    @property
    def quantity(self) -> Decimal:
        return sum((lot[0] for lot in self.lots), ZERO)

    @property
    def cost(self) -> Decimal:
        """Signed cost of the open lots: qty * price summed (exact)."""
        return sum((lot[0] * lot[1] for lot in self.lots), ZERO)

    def unrealized(self, mark: Decimal) -> Decimal:
        return self.quantity * mark - self.cost

    def snapshot(self) -> Position:
        qty = self.quantity
        return Position(
            symbol=self.symbol,
            quantity=qty,
            average_entry=ratio(self.cost, qty) if qty else ZERO,
            opened_ms=self.opened_ms,
            strategy=self.strategy,
            stop=self.stop,
            target=self.target,
            initial_risk=self.initial_risk,
            realized_pnl=self.realized,
            fees=self.fees,
            max_adverse=self.max_adverse,
            max_favorable=self.max_favorable,
            entry_order_id=self.entry_order,
        )


class Account:
    """Balance and positions; :meth:`apply` books one fill and returns the trade it closes."""

    def __init__(self, balance: Decimal) -> None:
        self.balance = balance
        self.realized_today = ZERO  # realised PnL net of fees since 00:00 UTC
        self._day: int | None = None
        self._open: dict[str, _Open] = {}

    # --- queries -------------------------------------------------------------------------
    def position_qty(self, symbol: str) -> Decimal:
        pos = self._open.get(symbol)
        return pos.quantity if pos else ZERO

    def positions(self) -> tuple[Position, ...]:
        return tuple(pos.snapshot() for pos in self._open.values())

    def unrealized(self, marks: dict[str, Decimal]) -> Decimal:
        """Unrealised PnL of every position with a mark (positions without one count 0)."""
        return sum(
            (pos.unrealized(marks[sym]) for sym, pos in self._open.items() if sym in marks), ZERO
        )

    def roll_day(self, now_ms: int) -> None:
        """Reset ``realized_today`` when the UTC day changed since the last booking."""
        day = now_ms // DAY_MS
        if self._day is not None and day != self._day:
            self.realized_today = ZERO
        self._day = day

    # --- marks ---------------------------------------------------------------------------
    def mark(self, symbol: str, price: Decimal) -> None:
        """Track MAE/MFE of the open position in ``symbol`` at ``price``."""
        pos = self._open.get(symbol)
        if pos is None:
            return
        pnl = pos.unrealized(price)
        if pnl < pos.max_adverse:
            pos.max_adverse = pnl
        if pnl > pos.max_favorable:
            pos.max_favorable = pnl

    # --- booking -------------------------------------------------------------------------
    def apply(self, fill: Fill, stop: Decimal | None = None, target: Decimal | None = None,
              ) -> ClosedTrade | None:
        """Book ``fill``: fees, realised PnL, the position. ``stop``/``target`` come from the
        order's bracket and set the initial risk of what the fill opens.

        Returns the ``ClosedTrade`` when the fill brings the position to flat (or through it:
        a flip closes the old position and opens the rest on the other side).
        """
        self.roll_day(fill.timestamp)
        self.balance -= fill.fee
        self.realized_today -= fill.fee
        signed = fill.quantity if fill.side == "buy" else -fill.quantity
        pos = self._open.get(fill.symbol)
        if pos is None or pos.quantity == ZERO or (pos.quantity > 0) == (signed > 0):
            self._add(fill, signed, fill.fee, stop, target)
            return None
        self.mark(fill.symbol, fill.price)  # the exit price is part of the trade's path
        closing = min(abs(signed), abs(pos.quantity))
        close_fee = fill.fee if closing == fill.quantity else _split_fee(fill, closing)
        self._close(pos, fill, closing, close_fee)
        rest = fill.quantity - closing
        trade = None
        if pos.quantity == ZERO:
            trade = self._finish(pos, fill.timestamp)
        if rest > ZERO:
            self._add(fill, rest if signed > 0 else -rest, fill.fee - close_fee, stop, target)
        return trade

    def _add(self, fill: Fill, signed: Decimal, fee: Decimal, stop: Decimal | None,
             target: Decimal | None) -> None:
        pos = self._open.get(fill.symbol)
        if pos is None:
            pos = _Open(fill.symbol, fill.timestamp, fill.strategy, signed > 0, stop=stop,
                        target=target, entry_order=fill.order_id)
            self._open[fill.symbol] = pos
        qty = abs(signed)
        pos.lots.append([signed, fill.price])
        pos.fees += fee
        pos.entry_qty += qty
        pos.entry_cost += qty * fill.price
        if stop is not None:
            pos.stop = stop
            risk = abs(fill.price - stop) * qty
            pos.initial_risk = risk if pos.initial_risk is None else pos.initial_risk + risk
        if target is not None:
            pos.target = target

    def _close(self, pos: _Open, fill: Fill, closing: Decimal, fee: Decimal) -> None:
        left = closing
        gross = ZERO
        while left > ZERO:
            lot = pos.lots[0]
            take = min(left, abs(lot[0]))
            # long lot closed by a sell: (exit - entry) * qty; short lot: (entry - exit) * qty
            gross += (fill.price - lot[1]) * take if lot[0] > 0 else (lot[1] - fill.price) * take
            lot[0] = lot[0] - take if lot[0] > 0 else lot[0] + take
            if lot[0] == ZERO:
                pos.lots.popleft()
            left -= take
        pos.realized += gross
        pos.fees += fee
        pos.exit_qty += closing
        pos.exit_value += closing * fill.price
        self.balance += gross
        self.realized_today += gross

    def _finish(self, pos: _Open, now_ms: int) -> ClosedTrade:
        del self._open[pos.symbol]
        pnl = pos.realized - pos.fees
        return ClosedTrade(
            symbol=pos.symbol,
            side="buy" if pos.long else "sell",
            quantity=pos.entry_qty,
            entry_price=ratio(pos.entry_cost, pos.entry_qty),
            exit_price=ratio(pos.exit_value, pos.exit_qty),
            opened_ms=pos.opened_ms,
            closed_ms=now_ms,
            pnl=pnl,
            fees=pos.fees,
            r_multiple=ratio(pnl, pos.initial_risk) if pos.initial_risk else None,
            mae=pos.max_adverse,
            mfe=pos.max_favorable,
            strategy=pos.strategy,
            initial_risk=pos.initial_risk,
            entry_order_id=pos.entry_order,
        )

    # --- restart -------------------------------------------------------------------------
    def restore(self, balance: Decimal, positions: tuple[Position, ...] | list[Position],
                realized_today: Decimal, now_ms: int) -> None:
        """Reload state after a restart. Each position becomes one lot at its average entry."""
        self.balance = balance
        self.realized_today = realized_today
        self._day = now_ms // DAY_MS
        self._open = {}
        for p in positions:
            if p.quantity == ZERO:
                continue
            self._open[p.symbol] = _Open(
                symbol=p.symbol, opened_ms=p.opened_ms, strategy=p.strategy, long=p.quantity > 0,
                lots=deque([[p.quantity, p.average_entry]]), stop=p.stop, target=p.target,
                initial_risk=p.initial_risk, realized=p.realized_pnl, fees=p.fees,
                max_adverse=p.max_adverse, max_favorable=p.max_favorable,
                entry_qty=abs(p.quantity), entry_cost=abs(p.quantity) * p.average_entry,
                entry_order=p.entry_order_id,
            )


def _split_fee(fill: Fill, closing: Decimal) -> Decimal:
    """The part of ``fill.fee`` for ``closing`` of its quantity: price * closing * rate.

    The rate is recovered as fee / (price * qty); that quotient is exact because the fee is that
    product times a short decimal rate, so the split is exact too.
    """
    rate = ratio(fill.fee, fill.price * fill.quantity) if fill.quantity and fill.price else ZERO
    return fill.price * closing * rate
