"""Display decimals for a journal's markets, read from the journal itself.

Why inferred: the journal stores prices and quantities exactly but not the market's tick and
step (they come from the exchange at run time, and ``tradeterm journal`` runs offline). A
market's recent fills are on its grid (the paper broker fills at book levels, quantities are
stepped), so the most decimals among them that a grid can have (at most 8) are the tick's and
the step's. A value off every grid (a weighted average price with 28 digits) is ignored; a
market without fills falls back to decimals chosen from each value's magnitude
(``core/display.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol

from tradeterm.core.display import places_of

MAX_GRID_PLACES = 8
SAMPLE = 200


class _Fills(Protocol):
    def recent_fills(self, symbol: str, limit: int = SAMPLE) -> list[tuple[str, str]]: ...


def grid_unit(values: Iterable[str]) -> Decimal | None:
    """The finest grid unit ``values`` show (``0.01`` for ``["1.5", "2.25"]``), ignoring values
    with more than :data:`MAX_GRID_PLACES` decimals; None when nothing is left."""
    places = [p for p in map(places_of, values) if p is not None and p <= MAX_GRID_PLACES]
    return Decimal(1).scaleb(-max(places)) if places else None


def quote_of(symbol: str | None) -> str | None:
    """``BTC/USDT`` (or ``BTC/USDT:USDT``) -> ``USDT``; None if the symbol has no quote."""
    if not symbol or "/" not in symbol:
        return None
    return symbol.split("/", 1)[1].split(":", 1)[0] or None


class MarketDisplay:
    """Tick and step per symbol, inferred once per symbol from the journal's fills."""

    def __init__(self, fills: _Fills) -> None:
        self._fills = fills
        self._units: dict[str, tuple[Decimal | None, Decimal | None]] = {}

    def _grid(self, symbol: str) -> tuple[Decimal | None, Decimal | None]:
        units = self._units.get(symbol)
        if units is None:
            recent = self._fills.recent_fills(symbol, SAMPLE)
            units = (grid_unit(p for p, _ in recent), grid_unit(q for _, q in recent))
            self._units[symbol] = units
        return units

    def tick(self, symbol: str) -> Decimal | None:
        return self._grid(symbol)[0]

    def step(self, symbol: str) -> Decimal | None:
        return self._grid(symbol)[1]
