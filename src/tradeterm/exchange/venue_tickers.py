"""Every market's 24 h ticker on the venue, for the market scanner (``market.scan``).

One ``fetch_tickers()`` without symbols is the whole venue in one request (Binance: ``GET
/api/v3/ticker/24hr``, weight 80 of the 6,000 a minute allows), so it is fetched only when a
screen asks and at most every :data:`REFRESH_S` seconds; screens asking meanwhile share the
last answer (and one fetch in flight). Nothing streams while no scanner is open.

ccxt parses the venue's decimal strings into floats, which keep 15-17 significant digits: a
quote volume such as ``1356601011.08120251`` does not survive. So where the raw answer
(``ticker["info"]``) carries Binance's fields (``lastPrice``, ``quoteVolume``, ...; the
simulator's too), their strings are used as sent; for another venue, ``Decimal(repr(x))`` of
ccxt's float, the shortest decimal that gives it back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from tradeterm.core.scan import VenueTicker
from tradeterm.exchange.errors import one_line

REFRESH_S = 15.0
"""The least time between two fetches of the venue's tickers."""


class TickersUnavailable(Exception):
    """The venue's tickers cannot be had now (not connected, or the request failed): why."""


def _exact(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


_BINANCE_FIELDS = {"last": "lastPrice", "high": "highPrice", "low": "lowPrice",
                   "open": "openPrice", "percentage": "priceChangePercent",
                   "quoteVolume": "quoteVolume"}
"""ccxt's unified ticker field -> the Binance 24 h ticker's own field (a decimal string)."""


def venue_ticker(symbol: str, raw: Mapping[str, Any]) -> VenueTicker:
    """A ccxt unified ticker as the scanner's exact :class:`VenueTicker`."""
    info = raw.get("info")
    sent = info if isinstance(info, Mapping) else {}

    def field(name: str) -> Decimal | None:
        text = sent.get(_BINANCE_FIELDS[name])
        if isinstance(text, str) and (exact := _exact(text)) is not None:
            return exact
        value = raw.get(name)
        if value is None and name == "last":
            value = raw.get("close")
        return _exact(value)

    return VenueTicker(
        symbol=symbol, last=field("last"), high=field("high"), low=field("low"),
        open=field("open"), change_pct=field("percentage"), quote_volume=field("quoteVolume"),
    )


class VenueTickers:
    """The venue's tickers, fetched on demand and kept :attr:`refresh_s` seconds."""

    def __init__(self, refresh_s: float = REFRESH_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.refresh_s = refresh_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._cached: tuple[Any, float, tuple[VenueTicker, ...]] | None = None
        self.fetches = 0  # how many times the venue was asked (tests, diagnostics)

    async def get(self, exchange: Any) -> tuple[VenueTicker, ...]:
        """Every market's ticker (the cached ones when fresh enough for this client)."""
        async with self._lock:  # one fetch in flight; the others wait and share it
            cached = self._cached
            if (cached is not None and cached[0] is exchange
                    and self._clock() - cached[1] < self.refresh_s):
                return cached[2]
            try:
                raw = await exchange.fetch_tickers()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                raise TickersUnavailable(f"the venue's tickers: {one_line(exc)}") from None
            self.fetches += 1
            listed = getattr(exchange, "markets", None) or {}
            rows = tuple(venue_ticker(symbol, t) for symbol, t in sorted(raw.items())
                         if not listed or symbol in listed)
            self._cached = (exchange, self._clock(), rows)
            return rows
