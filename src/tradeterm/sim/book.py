"""An L2 order book in integer ticks/steps that spends one update id per level change.

The book is the single source of Binance's diff-depth sequencing: every ``set`` spends one id,
changes accumulate in a pending batch, and ``take_batch`` closes the batch as one
``depthUpdate`` (``U`` = first id, ``u`` = last id). Because ids are spent only by changes and
batches are cut back to back, each event's ``U`` is the previous event's ``u + 1`` and
``last_update_id`` is always the id of the last change applied to what a snapshot shows.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass, field


@dataclass(slots=True)
class DepthBatch:
    """Level changes between two cuts: final quantity per price (0 = level removed)."""

    first_id: int
    last_id: int
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)

    def merge(self, later: DepthBatch) -> None:
        """Fold a later contiguous batch into this one (for the 1000 ms stream)."""
        self.last_id = later.last_id
        self.bids.update(later.bids)
        self.asks.update(later.asks)


class Side:
    """One side: quantity by price, plus the prices kept sorted ascending."""

    __slots__ = ("qty", "prices", "descending")

    def __init__(self, descending: bool) -> None:
        self.qty: dict[int, int] = {}
        self.prices: list[int] = []
        self.descending = descending

    def __len__(self) -> int:
        return len(self.prices)

    def best(self) -> int | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.descending else self.prices[0]

    def worst(self) -> int | None:
        if not self.prices:
            return None
        return self.prices[0] if self.descending else self.prices[-1]

    def levels(self, limit: int | None = None) -> list[tuple[int, int]]:
        """Best first."""
        prices = self.prices[::-1] if self.descending else self.prices
        if limit is not None:
            prices = prices[:limit]
        return [(p, self.qty[p]) for p in prices]

    def nth(self, i: int) -> int:
        """Price of the i-th level from the top."""
        return self.prices[-1 - i] if self.descending else self.prices[i]

    def _set(self, price: int, qty: int) -> None:
        if qty > 0:
            if price not in self.qty:
                insort(self.prices, price)
            self.qty[price] = qty
        elif price in self.qty:
            del self.qty[price]
            del self.prices[bisect_left(self.prices, price)]


class Book:
    """Both sides, the update-id counter and the pending diff batch."""

    def __init__(self, first_update_id: int = 1_000_000) -> None:
        self.bids = Side(descending=True)
        self.asks = Side(descending=False)
        self.last_update_id = first_update_id
        self._pending: DepthBatch | None = None

    def side(self, is_bid: bool) -> Side:
        return self.bids if is_bid else self.asks

    def set(self, is_bid: bool, price: int, qty: int) -> None:
        """Set a level's quantity (0 deletes it). A no-op change spends nothing."""
        side = self.side(is_bid)
        if side.qty.get(price, 0) == qty:
            return
        side._set(price, qty)
        self.last_update_id += 1
        if self._pending is None:
            self._pending = DepthBatch(self.last_update_id, self.last_update_id)
        self._pending.last_id = self.last_update_id
        (self._pending.bids if is_bid else self._pending.asks)[price] = qty

    def take_batch(self) -> DepthBatch | None:
        """Close and return the pending batch (None when nothing changed: no empty events)."""
        batch, self._pending = self._pending, None
        return batch

    def skip_ids(self, count: int) -> None:
        """Spend ``count`` ids with no change (fault injection: the next event shows a gap).

        Call it right after :meth:`take_batch`, so already-applied changes stay contiguous."""
        self.last_update_id += count

    def crossed(self) -> bool:
        bb, ba = self.bids.best(), self.asks.best()
        return bb is not None and ba is not None and bb >= ba
