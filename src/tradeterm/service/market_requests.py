"""The venue beyond the watchlist: ``market.symbols`` and ``market.scan``.

* ``market.symbols``: ``{"symbols": [...], "watchlist": [...]}``, every symbol the venue lists
  (sorted, ccxt form) and the engine's watchlist: what the command palette searches.
* ``market.scan`` ``{sort: change|volume|volatility, quote?, limit?}``: ``{"rows": [...],
  "markets": n, "sort": ..., "quote": ...}``, each row ``{symbol, last, change_pct,
  quote_volume, volatility}`` as exact decimal strings (``core/scan.py``), largest first. The
  engine fetches the venue's tickers only when asked, at most every 15 s
  (``exchange/venue_tickers.py``), so an open scanner costs Binance weight 80 per 15 s and a
  closed one nothing.

Both only read; a read-only client may ask them. Adding a symbol to the watchlist is the
``AddToWatchlist`` command (a trader's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tradeterm.core.scan import SORT_KEYS, scan
from tradeterm.service.asking import Asker, RequestRefused

if TYPE_CHECKING:
    from tradeterm.engine import Engine

MAX_ROWS = 5_000
"""The most rows one scan answers (Binance lists ~3,000 spot markets)."""


async def symbols(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    return {"symbols": list(engine.listed_symbols()),
            "watchlist": list(engine.snapshot().symbols)}


async def scan_request(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    from tradeterm.exchange.venue_tickers import TickersUnavailable

    sort = args.get("sort", "change")
    if sort not in SORT_KEYS:
        raise RequestRefused(f"sort: one of {', '.join(SORT_KEYS)}")
    quote = args.get("quote")
    if quote is not None and (not isinstance(quote, str) or not quote):
        raise RequestRefused("quote: a currency such as USDT, or absent for every market")
    limit = args.get("limit", MAX_ROWS)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_ROWS:
        raise RequestRefused(f"limit: a number of rows from 1 to {MAX_ROWS}")
    try:
        tickers = await engine.venue_ticker_rows()
    except TickersUnavailable as exc:
        raise RequestRefused(str(exc)) from None
    rows = scan(tickers, sort, quote.upper() if quote else None, limit)
    return {"rows": [row.plain() for row in rows], "markets": len(tickers), "sort": sort,
            "quote": quote}
