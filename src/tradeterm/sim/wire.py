"""Binance JSON shapes built from the market model (pure functions: easy to test, one place to
check against ccxt). Numbers are strings, times are ms."""

from __future__ import annotations

from typing import Any

from tradeterm.sim.bars import Bars
from tradeterm.sim.book import DepthBatch
from tradeterm.sim.candles import Candle
from tradeterm.sim.market import Print, SymbolMarket
from tradeterm.sim.spec import INTERVAL_MS, SymbolSpec, fmt


def kline_rows(spec: SymbolSpec, bars: Bars, interval_ms: int) -> list[list[Any]]:
    tick, step = spec.tick, spec.step
    rows = []
    for i in range(len(bars)):
        t = int(bars.t[i])
        rows.append([
            t, fmt(int(bars.o[i]) * tick), fmt(int(bars.h[i]) * tick),
            fmt(int(bars.l[i]) * tick), fmt(int(bars.c[i]) * tick), fmt(int(bars.v[i]) * step),
            t + interval_ms - 1, f"{float(bars.q[i]):.8f}", int(bars.n[i]),
            fmt(int(bars.bv[i]) * step), f"{float(bars.bq[i]):.8f}", "0",
        ])
    return rows


def kline_event(spec: SymbolSpec, interval: str, c: Candle, now_ms: int, closed: bool) -> dict:
    tick, step = spec.tick, spec.step
    return {
        "e": "kline", "E": now_ms, "s": spec.symbol,
        "k": {
            "t": c.t, "T": c.close_time, "s": spec.symbol, "i": interval,
            "f": c.first_id, "L": c.last_id,
            "o": fmt(c.o * tick), "c": fmt(c.c * tick), "h": fmt(c.h * tick),
            "l": fmt(c.l * tick), "v": fmt(c.v * step), "n": c.n, "x": closed,
            "q": f"{c.q:.8f}", "V": fmt(c.bv * step), "Q": f"{c.bq:.8f}", "B": "0",
        },
    }


def depth_levels(spec: SymbolSpec, levels: dict[int, int], descending: bool) -> list[list[str]]:
    prices = sorted(levels, reverse=descending)
    return [[spec.price_str(p), spec.qty_str(levels[p])] for p in prices]


def depth_event(spec: SymbolSpec, batch: DepthBatch, now_ms: int) -> dict:
    return {
        "e": "depthUpdate", "E": now_ms, "s": spec.symbol,
        "U": batch.first_id, "u": batch.last_id,
        "b": depth_levels(spec, batch.bids, True), "a": depth_levels(spec, batch.asks, False),
    }


def depth_snapshot(m: SymbolMarket, limit: int) -> dict:
    spec = m.spec
    return {
        "lastUpdateId": m.book.last_update_id,
        "bids": [[spec.price_str(p), spec.qty_str(q)] for p, q in m.book.bids.levels(limit)],
        "asks": [[spec.price_str(p), spec.qty_str(q)] for p, q in m.book.asks.levels(limit)],
    }


def trade_event(spec: SymbolSpec, p: Print, now_ms: int) -> dict:
    return {"e": "trade", "E": now_ms, "s": spec.symbol, "t": p.id,
            "p": spec.price_str(p.price), "q": spec.qty_str(p.qty), "T": p.time,
            "m": p.buyer_maker, "M": True}


def agg_trade(spec: SymbolSpec, p: Print) -> dict:
    """One aggregate trade per print: every print is its own price level of one taker order."""
    return {"a": p.id, "p": spec.price_str(p.price), "q": spec.qty_str(p.qty), "f": p.id,
            "l": p.id, "T": p.time, "m": p.buyer_maker, "M": True}


def agg_trade_event(spec: SymbolSpec, p: Print, now_ms: int) -> dict:
    return {"e": "aggTrade", "E": now_ms, "s": spec.symbol, **agg_trade(spec, p)}


def rest_trade(spec: SymbolSpec, p: Print) -> dict:
    quote = fmt(p.price * spec.tick * p.qty * spec.step)
    return {"id": p.id, "price": spec.price_str(p.price), "qty": spec.qty_str(p.qty),
            "quoteQty": quote, "time": p.time, "isBuyerMaker": p.buyer_maker,
            "isBestMatch": True}


def _top(m: SymbolMarket, is_bid: bool) -> tuple[str, str]:
    side = m.book.side(is_bid)
    best = side.best()
    if best is None:
        return "0.00000000", "0.00000000"
    return m.spec.price_str(best), m.spec.qty_str(side.qty[best])


def book_ticker(m: SymbolMarket) -> dict:
    (bp, bq), (ap, aq) = _top(m, True), _top(m, False)
    return {"symbol": m.spec.symbol, "bidPrice": bp, "bidQty": bq, "askPrice": ap, "askQty": aq}


def book_ticker_event(m: SymbolMarket) -> dict:
    (bp, bq), (ap, aq) = _top(m, True), _top(m, False)
    return {"u": m.book.last_update_id, "s": m.spec.symbol, "b": bp, "B": bq, "a": ap, "A": aq}


def ticker_24h(m: SymbolMarket, now_ms: int) -> dict:
    """Rolling 24 h statistics from the 1m candles (history and live)."""
    spec = m.spec
    bars = m.klines("1m", now_ms - 86_400_000 + 60_000, None, 1440)
    last = m.last_price()
    if len(bars):
        o, h, lo = int(bars.o[0]), int(bars.h.max()), int(bars.l.min())
        v, q, n = int(bars.v.sum()), float(bars.q.sum()), int(bars.n.sum())
    else:
        o = h = lo = last
        v, q, n = 0, 0.0, 0
    tape = m.tape
    last_qty = tape[-1].qty if tape else 0
    (bp, bq), (ap, aq) = _top(m, True), _top(m, False)
    change = (last - o) * spec.tick
    pct = float(change) / float(o * spec.tick) * 100 if o else 0.0
    wavg = q / float(v * spec.step) if v else float(last * spec.tick)
    return {
        "symbol": spec.symbol, "priceChange": fmt(change), "priceChangePercent": f"{pct:.3f}",
        "weightedAvgPrice": f"{wavg:.8f}", "prevClosePrice": fmt(o * spec.tick),
        "lastPrice": fmt(last * spec.tick), "lastQty": spec.qty_str(last_qty),
        "bidPrice": bp, "bidQty": bq, "askPrice": ap, "askQty": aq,
        "openPrice": fmt(o * spec.tick), "highPrice": fmt(h * spec.tick),
        "lowPrice": fmt(lo * spec.tick), "volume": fmt(v * spec.step), "quoteVolume": f"{q:.8f}",
        "openTime": now_ms - 86_400_000, "closeTime": now_ms,
        "firstId": tape[0].id if tape else -1, "lastId": tape[-1].id if tape else -1, "count": n,
    }


def ticker_event(m: SymbolMarket, now_ms: int) -> dict:
    t = ticker_24h(m, now_ms)
    return {
        "e": "24hrTicker", "E": now_ms, "s": t["symbol"], "p": t["priceChange"],
        "P": t["priceChangePercent"], "w": t["weightedAvgPrice"], "x": t["prevClosePrice"],
        "c": t["lastPrice"], "Q": t["lastQty"], "b": t["bidPrice"], "B": t["bidQty"],
        "a": t["askPrice"], "A": t["askQty"], "o": t["openPrice"], "h": t["highPrice"],
        "l": t["lowPrice"], "v": t["volume"], "q": t["quoteVolume"], "O": t["openTime"],
        "C": t["closeTime"], "F": t["firstId"], "L": t["lastId"], "n": t["count"],
    }


KLINE_INTERVALS = tuple(INTERVAL_MS)
