"""Stream names: parsing what clients subscribe to into canonical Binance names."""

from __future__ import annotations

from dataclasses import dataclass

from tradeterm.sim.spec import INTERVAL_MS


@dataclass(frozen=True, slots=True)
class StreamName:
    """A parsed stream: ``symbol`` upper case, ``kind`` (kline, depth100, depth1000, trade,
    aggTrade, bookTicker, ticker) and the kline interval."""

    name: str
    symbol: str
    kind: str
    interval: str | None = None


def parse_stream(raw: str, symbols: set[str]) -> StreamName | None:
    """Canonical stream for ``raw`` (``btcusdt@depth@100ms``), or None if not served."""
    sym, sep, rest = raw.partition("@")
    symbol = sym.upper()
    if not sep or symbol not in symbols:
        return None
    low = sym.lower()
    if rest.startswith("kline_"):
        interval = rest[len("kline_"):]
        if interval not in INTERVAL_MS:
            return None
        return StreamName(f"{low}@kline_{interval}", symbol, "kline", interval)
    kinds = {
        "depth": ("depth", "depth1000"),
        "depth@1000ms": ("depth@1000ms", "depth1000"),
        "depth@100ms": ("depth@100ms", "depth100"),
        "trade": ("trade", "trade"),
        "aggtrade": ("aggTrade", "aggTrade"),
        "bookticker": ("bookTicker", "bookTicker"),
        "ticker": ("ticker", "ticker"),
    }
    found = kinds.get(rest.lower())
    if found is None:
        return None
    suffix, kind = found
    return StreamName(f"{low}@{suffix}", symbol, kind)
