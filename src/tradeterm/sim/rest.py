"""Public REST endpoints of Binance spot (``/api/v3/...``) over the market model.

Errors are Binance's: HTTP 400 with ``{"code": -N, "msg": ...}`` so ccxt raises the same
exception classes it raises against the real exchange (``-1121`` -> BadSymbol, ...).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tradeterm.sim import wire
from tradeterm.sim.spec import INTERVAL_MS, exchange_info

if TYPE_CHECKING:
    from tradeterm.sim.market import SymbolMarket
    from tradeterm.sim.server import SimServer


def _compact(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


class BinanceError(Exception):
    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status = code, msg, status

    def response(self) -> web.Response:
        return web.json_response({"code": self.code, "msg": self.msg}, status=self.status)


def _int(query: Any, name: str, default: int | None = None) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(float(raw))
    except ValueError:
        raise BinanceError(-1100, f"Illegal characters found in parameter '{name}'; legal range "
                           "is '^[0-9]{1,20}$'.") from None


def _limit(query: Any, default: int, maximum: int) -> int:
    value = _int(query, "limit", default)
    assert value is not None
    if value <= 0:
        raise BinanceError(-1100, "Illegal characters found in parameter 'limit'; legal range "
                           "is '^[0-9]{1,20}$'.")
    return min(value, maximum)


class RestApi:
    """Route handlers bound to a :class:`SimServer`."""

    def __init__(self, server: SimServer) -> None:
        self.server = server

    def routes(self) -> list[web.RouteDef]:
        h = self._wrap
        return [
            web.get("/api/v3/ping", h(lambda r: {})),
            web.get("/api/v3/time", h(lambda r: {"serverTime": self.server.now_ms()})),
            web.get("/api/v3/exchangeInfo", h(self.exchange_info)),
            web.get("/api/v3/klines", h(self.klines)),
            web.get("/api/v3/uiKlines", h(self.klines)),
            web.get("/api/v3/depth", h(self.depth)),
            web.get("/api/v3/trades", h(self.trades)),
            web.get("/api/v3/historicalTrades", h(self.trades)),
            web.get("/api/v3/aggTrades", h(self.agg_trades)),
            web.get("/api/v3/ticker/24hr", h(self.ticker_24h, every_market=True)),
            web.get("/api/v3/ticker/bookTicker", h(self.book_ticker, every_market=True)),
            web.get("/api/v3/ticker/price", h(self.ticker_price, every_market=True)),
        ]

    def _wrap(self, fn: Any, every_market: bool = False) -> Any:
        """``every_market``: an endpoint that may read every listed market builds the quiet
        ones not built yet first, one per turn of the loop (the market keeps ticking)."""
        async def handler(request: web.Request) -> web.Response:
            if every_market and "symbol" not in request.query:
                await self.server.build_listed()
            try:
                return web.json_response(fn(request), dumps=_compact)
            except BinanceError as e:
                return e.response()
        return handler

    def _market(self, request: web.Request) -> SymbolMarket:
        symbol = request.query.get("symbol")
        if not symbol:
            raise BinanceError(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, "
                               "or malformed.")
        market = self.server.active_market(symbol)
        if market is None:
            raise BinanceError(-1121, "Invalid symbol.")
        return market

    def _markets(self, request: web.Request) -> list[SymbolMarket] | None:
        """For endpoints taking one symbol, a JSON list ``symbols``, or none (all, as a list)."""
        if "symbol" in request.query:
            return None
        raw = request.query.get("symbols")
        if raw is None:
            return self.server.all_markets()
        try:
            names = json.loads(raw)
        except ValueError:
            raise BinanceError(-1100, "Illegal characters found in parameter 'symbols'.") from None
        out = []
        for name in names:
            m = self.server.listed_market(str(name))
            if m is None:
                raise BinanceError(-1121, "Invalid symbol.")
            out.append(m)
        return out

    def exchange_info(self, request: web.Request) -> dict:
        return exchange_info(self.server.listed, self.server.now_ms())

    def klines(self, request: web.Request) -> list:
        market = self._market(request)
        interval = request.query.get("interval")
        if not interval:
            raise BinanceError(-1102, "Mandatory parameter 'interval' was not sent, was "
                               "empty/null, or malformed.")
        if interval not in INTERVAL_MS:
            raise BinanceError(-1120, "Invalid interval.")
        limit = _limit(request.query, 500, 1000)
        start, end = _int(request.query, "startTime"), _int(request.query, "endTime")
        if start is not None and end is not None and start > end:
            raise BinanceError(-1023, "Start time is greater than end time.")
        bars = market.klines(interval, start, end, limit)
        return wire.kline_rows(market.spec, bars, INTERVAL_MS[interval])

    def depth(self, request: web.Request) -> dict:
        market = self._market(request)
        return wire.depth_snapshot(market, _limit(request.query, 100, 5000))

    def trades(self, request: web.Request) -> list:
        market = self._market(request)
        limit = _limit(request.query, 500, 1000)
        tape = list(market.tape)[-limit:]
        return [wire.rest_trade(market.spec, p) for p in tape]

    def agg_trades(self, request: web.Request) -> list:
        market = self._market(request)
        limit = _limit(request.query, 500, 1000)
        from_id = _int(request.query, "fromId")
        start, end = _int(request.query, "startTime"), _int(request.query, "endTime")
        tape = list(market.tape)
        if from_id is not None:
            tape = [p for p in tape if p.id >= from_id][:limit]
        elif start is not None or end is not None:
            lo, hi = start or 0, end or 2**62
            tape = [p for p in tape if lo <= p.time <= hi][:limit]
        else:
            tape = tape[-limit:]
        return [wire.agg_trade(market.spec, p) for p in tape]

    def ticker_24h(self, request: web.Request) -> dict | list:
        many = self._markets(request)
        now = self.server.now_ms()
        if many is None:
            return wire.ticker_24h(self._market(request), now)
        return [wire.ticker_24h(m, now) for m in many]

    def book_ticker(self, request: web.Request) -> dict | list:
        many = self._markets(request)
        if many is None:
            return wire.book_ticker(self._market(request))
        return [wire.book_ticker(m) for m in many]

    def ticker_price(self, request: web.Request) -> dict | list:
        many = self._markets(request)
        ms = [self._market(request)] if many is None else many
        out = [{"symbol": m.spec.symbol, "price": m.spec.price_str(m.last_price())} for m in ms]
        return out[0] if many is None else out
