"""The market scanner's arithmetic: the venue's 24 h tickers as exact rows, sorted.

Pure and exact: a ticker's numbers are the decimals the venue wrote (``Decimal(repr(float))``
of ccxt's parsed values gives back the string on the wire for every price Binance sends), and
the change and volatility are computed in ``Decimal``, never in float. The engine fetches the
tickers (``exchange/venue_tickers.py``), the ``market.scan`` request (``service/
market_requests.py``) sorts them here, and the scanner screen only formats the strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Literal

SortKey = Literal["change", "volume", "volatility"]
SORT_KEYS: tuple[SortKey, ...] = ("change", "volume", "volatility")

_CONTEXT = Context(prec=28)
_PLACES = Decimal("1e-8")


@dataclass(frozen=True, slots=True)
class VenueTicker:
    """One market's rolling 24 h statistics, as the venue stated them (None: not stated)."""

    symbol: str  # ccxt form, BASE/QUOTE
    last: Decimal | None
    high: Decimal | None = None
    low: Decimal | None = None
    open: Decimal | None = None
    change_pct: Decimal | None = None  # the venue's own figure when it sends one
    quote_volume: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ScanRow:
    """One row of the scanner: every number exact (its string is what a client receives)."""

    symbol: str
    last: Decimal
    change_pct: Decimal | None
    quote_volume: Decimal | None
    volatility: Decimal | None  # (high - low) / last: the day's range as a fraction of price

    def plain(self) -> dict[str, str | None]:
        """The row as the request answers it: decimal strings, None where unknown."""
        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {"symbol": self.symbol, "last": str(self.last),
                "change_pct": text(self.change_pct), "quote_volume": text(self.quote_volume),
                "volatility": text(self.volatility)}


def scan_row(ticker: VenueTicker) -> ScanRow | None:
    """The scanner's row of ``ticker``; None without a positive last price (nothing to show)."""
    last = ticker.last
    if last is None or last <= 0:
        return None
    change = ticker.change_pct
    if change is None and ticker.open is not None and ticker.open > 0:
        change = _CONTEXT.divide(_CONTEXT.multiply(last - ticker.open, Decimal(100)),
                                 ticker.open).quantize(_PLACES, context=_CONTEXT)
    volatility = None
    if ticker.high is not None and ticker.low is not None:
        volatility = _CONTEXT.divide(ticker.high - ticker.low, last).quantize(
            _PLACES, context=_CONTEXT)
    return ScanRow(ticker.symbol, last, change, ticker.quote_volume, volatility)


def quote_of(symbol: str) -> str:
    """``USDT`` of ``BTC/USDT`` (a derivative's ``:SETTLE`` suffix dropped)."""
    return symbol.partition("/")[2].partition(":")[0]


def scan(tickers: Iterable[VenueTicker], sort: SortKey, quote: str | None = None,
         limit: int | None = None) -> list[ScanRow]:
    """The rows, largest first by ``sort`` (a row without that figure last), ties by symbol;
    only markets quoted in ``quote`` when given."""
    if sort not in SORT_KEYS:
        raise ValueError(f"sort: one of {', '.join(SORT_KEYS)}, not {sort!r}")
    rows = [row for t in tickers
            if (quote is None or quote_of(t.symbol) == quote) and (row := scan_row(t)) is not None]
    field = {"change": "change_pct", "volume": "quote_volume", "volatility": "volatility"}[sort]

    def key(row: ScanRow) -> tuple[bool, Decimal, str]:
        value = getattr(row, field)
        return (value is None, -(value if value is not None else Decimal(0)), row.symbol)

    rows.sort(key=key)
    return rows if limit is None else rows[:limit]
