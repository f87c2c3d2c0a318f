"""Watchlist sparklines: the last 24 hourly closes of every watchlist symbol.

Why REST and not a stream: 24 points per symbol move once an hour, so a kline subscription per
symbol would buy nothing. One ``fetch_ohlcv(symbol, "1h", limit=24)`` per symbol when the engine
connects and every :data:`REFRESH_S` after that, plus the tickers stream's last price as the
newest point, keeps each line current for one REST call per symbol per five minutes.

The newest point is the forming hour's close, replaced by the ticker's last price at read time
(:meth:`Sparklines.snapshot`). When an hour rolls over, the line shows the new price in the old
hour's slot until the next refresh (at most :data:`REFRESH_S`): no clock is needed, so a bar
replay on simulated time draws correctly too.

A failed fetch is logged and leaves the symbol's previous line in place; nothing here can
raise into the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from tradeterm.core.models import Ticker
from tradeterm.exchange.errors import one_line
from tradeterm.market.convert import candles_from_ccxt

log = logging.getLogger(__name__)

POINTS = 24
"""Closes per line: a day of hourly bars."""
TIMEFRAME = "1h"
REFRESH_S = 300.0
"""Seconds between two refetches of every line."""

Lines = tuple[tuple[str, tuple[float, ...]], ...]


class Sparklines:
    """Closes per symbol, refreshed by a task the engine starts on connect and stops on
    disconnect. ``version`` grows whenever a fetched line differs from the one it replaces."""

    def __init__(
        self, *, points: int = POINTS, timeframe: str = TIMEFRAME, refresh_s: float = REFRESH_S
    ) -> None:
        self.points = points
        self.timeframe = timeframe
        self.refresh_s = refresh_s
        self.version = 0
        self._closes: dict[str, tuple[float, ...]] = {}
        self._task: asyncio.Task[None] | None = None
        self._cache: tuple[Any, Lines] | None = None

    # -- writers (the engine's loop) ------------------------------------------------------------

    def set_closes(self, symbol: str, closes: Sequence[float]) -> None:
        """Replace ``symbol``'s line with the newest :attr:`points` of ``closes`` (oldest first)."""
        line = tuple(closes[-self.points :])
        if line and self._closes.get(symbol) != line:
            self._closes[symbol] = line
            self.version += 1

    async def refresh(self, exchange: Any, symbols: Iterable[str]) -> None:
        """Fetch every symbol's line; a failure is logged and keeps that symbol's old line."""
        for symbol in symbols:
            try:
                rows = await exchange.fetch_ohlcv(symbol, self.timeframe, limit=self.points)
                candles = sorted(candles_from_ccxt(rows), key=lambda c: c.open_time)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("sparkline %s %s: %s", symbol, self.timeframe, one_line(exc))
                continue
            self.set_closes(symbol, [c.close for c in candles])

    async def _run(self, exchange: Any, symbols: tuple[str, ...]) -> None:
        while True:
            await self.refresh(exchange, symbols)
            await asyncio.sleep(self.refresh_s)

    def start(self, exchange: Any, symbols: Iterable[str]) -> None:
        """Fetch now and then every :attr:`refresh_s` until :meth:`stop` (one task at a time)."""
        if self._task is not None:
            self._task.cancel()
        self._task = asyncio.create_task(
            self._run(exchange, tuple(symbols)), name="engine:sparklines"
        )

    async def stop(self) -> None:
        """Cancel the refresh task (the lines are kept: they are still the best we know)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- reader -----------------------------------------------------------------------------

    def snapshot(self, symbols: Sequence[str], tickers: Iterable[Ticker] = ()) -> Lines:
        """``(symbol, closes)`` for each of ``symbols`` with a line, in that order; a ticker's
        last price replaces the newest close. The same tuple while nothing it shows changed."""
        last = {t.symbol: t.last for t in tickers if t.last is not None}
        key = (tuple(symbols), self.version, tuple(last.get(s) for s in symbols))
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        lines = []
        for symbol in symbols:
            closes = self._closes.get(symbol)
            if not closes:
                continue
            price = last.get(symbol)
            lines.append((symbol, closes[:-1] + (price,) if price is not None else closes))
        result = tuple(lines)
        self._cache = (key, result)
        return result
