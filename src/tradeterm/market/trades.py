"""Recent public trades of one symbol: a bounded tape, deduplicated by trade id.

ccxt hands each watch_trades call the trades that are new to it, but a reconnect (or a REST
backfill) can deliver a trade twice; the tape remembers the ids it holds and drops repeats.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from tradeterm.core.models import Trade


class TradeTape:
    """The newest ``max_len`` trades, oldest first, each id at most once."""

    def __init__(self, max_len: int) -> None:
        if max_len < 1:
            raise ValueError("max_len must be at least 1")
        self._trades: deque[Trade] = deque()
        self._ids: set[str] = set()
        self.max_len = max_len
        self._frozen: tuple[Trade, ...] | None = ()

    def __len__(self) -> int:
        return len(self._trades)

    def add(self, trades: Iterable[Trade]) -> bool:
        """Append the trades not seen yet; True if any was new."""
        changed = False
        for trade in trades:
            if trade.id in self._ids:
                continue
            self._trades.append(trade)
            self._ids.add(trade.id)
            if len(self._trades) > self.max_len:
                self._ids.discard(self._trades.popleft().id)
            changed = True
        if changed:
            self._frozen = None
        return changed

    def trades(self) -> tuple[Trade, ...]:
        """The tape as an immutable tuple, newest last (cached until the next change)."""
        if self._frozen is None:
            self._frozen = tuple(self._trades)
        return self._frozen
