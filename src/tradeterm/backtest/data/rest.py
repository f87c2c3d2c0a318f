"""The newest bars, which the archive does not have yet, paged over ccxt REST ``fetch_ohlcv``.

The client comes from :func:`tradeterm.exchange.client.create_exchange`, so pointed at the
simulator (``sim_base_url``) nothing can reach a real exchange. ccxt is imported only when the
archive left something to fetch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from tradeterm.backtest.data.store import SCHEMA

PAGE_LIMIT = 1000  # Binance's maximum klines per request


class RestError(RuntimeError):
    """REST fetching failed after ccxt's own retries; the message names the exchange and symbol."""


async def fetch_closed_bars(
    exchange: Any, symbol: str, timeframe: str, start_ms: int, end_ms: int, now_ms: int,
    step_ms: int, on_page: Callable[[int], None] | None = None,
) -> pl.DataFrame:
    """Closed bars with ``start_ms <= open_time < end_ms`` (the still-open bar is left out).

    ``symbol`` may be a market id (``BTCUSDT``) or a ccxt symbol; pages of ``PAGE_LIMIT`` bars
    are requested from ``start_ms`` until the end, an empty page or a page that does not advance.
    ``on_page`` gets the number of bars of each page (progress).
    """
    stop = min(end_ms, now_ms - now_ms % step_ms)  # bars opening at or after `stop` are not closed
    rows: list[list[Any]] = []
    since = start_ms
    try:
        await exchange.load_markets()
        market_symbol = exchange.market(symbol)["symbol"]
        while since < stop:
            page = await exchange.fetch_ohlcv(market_symbol, timeframe, since=since,
                                              limit=PAGE_LIMIT)
            if on_page is not None:
                on_page(len(page))
            if not page:
                break
            rows.extend(page)
            nxt = int(page[-1][0]) + step_ms
            if nxt <= since:
                break
            since = nxt
    except Exception as exc:  # ccxt raises its own hierarchy; report one line, keep the cause
        detail = (str(exc).strip().splitlines() or [""])[0][:200]
        raise RestError(f"{getattr(exchange, 'id', 'exchange')} REST fetch_ohlcv {symbol} "
                        f"{timeframe} failed: {type(exc).__name__}: {detail}") from exc
    df = pl.DataFrame(
        [r[:6] for r in rows], schema=list(SCHEMA), orient="row",
    ).cast(SCHEMA) if rows else pl.DataFrame(schema=SCHEMA)  # type: ignore[arg-type]
    return df.filter((pl.col("open_time") >= start_ms) & (pl.col("open_time") < stop))
