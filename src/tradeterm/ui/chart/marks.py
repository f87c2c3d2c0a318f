"""Trading marks on the chart: signal and fill markers, position and order price lines.

:func:`chart_marks` reduces the engine's signals, fills, positions and orders to what the chart
draws for its symbol, as plain floats (Decimal prices are exact for the broker; on screen a
float is plenty). The renderer places them in columns and rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from tradeterm.core.models import Side, Signal
from tradeterm.core.scale_out import leg_of
from tradeterm.core.trading import Fill, Order, Position

LineRole = Literal["entry", "stop", "target", "order"]


@dataclass(frozen=True, slots=True)
class SignalMark:
    bar_time: int
    kind: str  # "entry" or "exit"
    side: Side


@dataclass(frozen=True, slots=True)
class FillMark:
    timestamp: int
    price: float
    side: Side


@dataclass(frozen=True, slots=True)
class PriceLine:
    """A horizontal line with its axis tag (``ENTRY``, ``SL``, ``TP``, ``TP1`` .. ``TP3`` for
    a scale-out's legs, ``BUY``, ``SELL``)."""

    price: float
    tag: str
    role: LineRole


@dataclass(frozen=True, slots=True)
class Marks:
    signals: tuple[SignalMark, ...] = ()
    fills: tuple[FillMark, ...] = ()
    lines: tuple[PriceLine, ...] = ()


def _order_lines(orders: Iterable[Order]) -> Iterable[PriceLine]:
    for order in orders:
        if not order.status.is_working:
            continue
        price = order.request.price
        if price is None:  # stop orders: where they trigger
            price = order.stop_price if order.stop_price is not None else order.request.stop_price
        if price is not None:
            yield PriceLine(float(price), order.request.side.upper(), "order")


def _leg_lines(symbol: str, orders: Iterable[Order]) -> list[PriceLine]:
    """``TP1`` .. ``TP3``: the working take-profit legs of a scale-out on ``symbol`` (told by
    their client ids, ``core.scale_out.leg_of``), in leg order; a filled leg is gone."""
    legs = sorted(
        (n, o.request.price) for o in orders
        if o.request.symbol == symbol and o.status.is_working and o.parent_id is not None
        and o.request.price is not None and (n := leg_of(o.request.client_id)) is not None
    )
    return [PriceLine(float(price), f"TP{n}", "target") for n, price in legs]


def chart_marks(
    symbol: str,
    signals: Iterable[Signal],
    fills: Iterable[Fill],
    positions: Iterable[Position],
    orders: Iterable[Order],
) -> Marks:
    """Everything of ``symbol`` the chart marks; the other symbols' are left out."""
    lines: list[PriceLine] = []
    orders = tuple(orders)
    for p in positions:
        if p.symbol != symbol or not p.quantity:
            continue
        lines.append(PriceLine(float(p.average_entry), "ENTRY", "entry"))
        if p.stop is not None:
            lines.append(PriceLine(float(p.stop), "SL", "stop"))
        legs = _leg_lines(symbol, orders)
        if legs:  # a scale-out: one line per take-profit leg still working, not the first only
            lines.extend(legs)
        elif p.target is not None:
            lines.append(PriceLine(float(p.target), "TP", "target"))
    held = bool(lines)
    # A position's bracket children are its SL/TP lines already: not drawn twice.
    lines.extend(_order_lines(
        o for o in orders
        if o.request.symbol == symbol and not (held and o.parent_id is not None)
    ))
    return Marks(
        signals=tuple(
            SignalMark(s.bar_time, s.kind, s.side) for s in signals if s.symbol == symbol
        ),
        fills=tuple(
            FillMark(f.timestamp, float(f.price), f.side) for f in fills if f.symbol == symbol
        ),
        lines=tuple(lines),
    )
