"""The market model of one symbol: fair price, makers' book, takers' trades, live candles.

Independent of HTTP/WebSocket: the server calls :meth:`SymbolMarket.advance` with the simulated
clock and turns what it returns into wire events. A later matching engine for signed REST orders
plugs in here (:meth:`SymbolMarket.sweep` already fills against the book and prints trades).

Each 100 ms step: the fair price moves (GARCH-like volatility, rare jumps; or, in replay, the
scheduled path); arbitrageurs sweep levels the fair price has crossed; Poisson takers hit the
book (one trade per level consumed); makers cancel stale quotes, requote the touch around the
fair price, churn a few random levels and keep ~1,000 levels per side. Every trade updates the
live candles of all intervals, so book, tape and candles agree.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from tradeterm.sim.bars import Bars
from tradeterm.sim.book import Book, DepthBatch
from tradeterm.sim.candles import Candle, IntervalCandles
from tradeterm.sim.history import SyntheticHistory
from tradeterm.sim.liquidity import LEVELS_PER_SIDE, STEP_MS, LiquidityModel
from tradeterm.sim.spec import INTERVAL_MS, SymbolSpec
from tradeterm.sim.warmup import FileHistory

TAPE_KEPT = 1_000
TAKER_RATE_PER_S = 4.0


@dataclass(frozen=True, slots=True)
class Print:
    """One trade: ``buyer_maker`` is Binance's ``m`` (True = the taker sold)."""

    id: int
    time: int
    price: int
    qty: int
    buyer_maker: bool


@dataclass(slots=True)
class StepOutput:
    """What one call to advance produced, for the wire layer."""

    trades: list[Print]
    closed: list[Candle]


class PriceDriver(Protocol):
    """Where the fair price comes from (synthetic process or replay)."""

    def scheduled(self, until_ms: int) -> list[tuple[int, int, int, bool]]:
        """(time, price ticks, qty steps, taker buys) trades due up to ``until_ms``."""
        ...


class SymbolMarket:
    """All live state of one symbol."""

    def __init__(self, spec: SymbolSpec, seed: int, index: int, start_ms: int,
                 driver: PriceDriver | None = None, start_price: float | None = None,
                 warmup: FileHistory | None = None, history_days: int | None = None) -> None:
        self.spec = spec
        self.rng = np.random.default_rng([seed, index, 0x11FE])
        self.liq = LiquidityModel(spec, self.rng)
        self.driver = driver
        self.history: SyntheticHistory | FileHistory | None = warmup  # a replay's --from past
        if driver is None:
            self.history = SyntheticHistory(spec, seed, index, start_ms,
                                            *(() if history_days is None else (history_days,)))
            start_ticks = self.history.last_close_ticks
        else:
            start_ticks = spec.to_ticks(start_price or spec.start_price)
        self.fair = float(start_ticks)
        self.var = self.liq.step_sigma**2
        self.book = Book(first_update_id=10_000_000 * (index + 1))
        self.tape: deque[Print] = deque(maxlen=TAPE_KEPT)
        self.next_trade_id = 100_000_000 * (index + 1)
        self.now_ms = start_ms
        self.candles = {
            name: IntervalCandles(ms, start_ms, start_ticks,
                                  self.history.partial(ms) if self.history else Bars.empty())
            for name, ms in INTERVAL_MS.items()
        }
        self._build_book()
        self.book.take_batch()  # the initial book is the first snapshot, not a diff
        self._skip_pending = False

    # ---- book construction -------------------------------------------------------------
    def _build_book(self) -> None:
        for is_bid in (True, False):
            sign = -1 if is_bid else 1
            price = int(round(self.fair)) + sign * self.liq.half_spread
            for i in range(LEVELS_PER_SIDE):
                self.book.set(is_bid, price, self.liq.size(i, price))
                price += sign * self.liq.gap(i)
                if price <= 0:
                    break

    # ---- stepping ------------------------------------------------------------------------
    def advance(self, now_ms: int) -> StepOutput:
        """Move the market to ``now_ms`` in 100 ms steps (at most 50 steps per call)."""
        out = StepOutput([], [])
        if now_ms <= self.now_ms:
            return out
        n_steps = min(50, max(1, (now_ms - self.now_ms) // STEP_MS))
        t0 = self.now_ms
        for k in range(1, n_steps + 1):
            t = now_ms if k == n_steps else t0 + k * (now_ms - t0) // n_steps
            self._roll(t, out)
            if self.driver is None:
                self._synthetic_step(t, out)
            else:
                for when, price, qty, buys in self.driver.scheduled(t):
                    self._roll(when, out)
                    self._replay_trade(when, price, qty, buys, out)
            self._requote()
        self.now_ms = now_ms
        self._roll(now_ms, out)
        return out

    def _roll(self, t: int, out: StepOutput) -> None:
        for ic in self.candles.values():
            if t >= ic.current.t + ic.interval:
                out.closed.extend(ic.roll_to(t))

    def _synthetic_step(self, t: int, out: StepOutput) -> None:
        rng = self.rng
        base = self.liq.step_sigma**2
        r = math.sqrt(self.var) * rng.standard_normal()
        if rng.random() < 2e-4:
            r += rng.choice((-1.0, 1.0)) * self.liq.step_sigma * rng.uniform(20, 60)
        self.var = 0.01 * base + 0.04 * r * r + 0.95 * self.var
        self.fair = max(self.fair * math.exp(r), 100.0)
        self._arbitrage(t, out)
        for _ in range(rng.poisson(TAKER_RATE_PER_S * STEP_MS / 1000)):
            mid = self.mid()
            lean = (self.fair - mid) / (4 * self.liq.top_spacing) if mid else 0.0
            buys = rng.random() < 0.5 + max(-0.4, min(0.4, lean))
            out.trades.extend(self.sweep(buys, self.liq.taker_qty(), None, t))

    def _arbitrage(self, t: int, out: StepOutput) -> None:
        """Takers lift quotes the fair price has moved through (at most 3 levels a step)."""
        hs = self.liq.half_spread
        ask = self.book.asks.best()
        if ask is not None and ask < self.fair - hs:
            out.trades.extend(self.sweep(True, 10**15, int(self.fair) - hs, t, max_levels=3))
        bid = self.book.bids.best()
        if bid is not None and bid > self.fair + hs:
            out.trades.extend(self.sweep(False, 10**15, int(self.fair) + hs, t, max_levels=3))

    def sweep(self, buys: bool, qty: int, limit: int | None, t: int,
              max_levels: int = 10**9) -> list[Print]:
        """An aggressive order of ``qty`` steps: one trade per level consumed, best first."""
        side = self.book.side(not buys)
        prints: list[Print] = []
        while qty > 0 and len(side) and len(prints) < max_levels:
            price = side.best()
            assert price is not None
            if limit is not None and (price > limit if buys else price < limit):
                break
            avail = side.qty[price]
            take = min(avail, qty)
            self.book.set(not buys, price, avail - take)
            qty -= take
            prints.append(self._print(t, price, take, buyer_maker=not buys))
        return prints

    def _print(self, t: int, price: int, qty: int, buyer_maker: bool) -> Print:
        self.next_trade_id += 1
        p = Print(self.next_trade_id, t, price, qty, buyer_maker)
        self.tape.append(p)
        quote = price * float(self.spec.tick) * qty * float(self.spec.step)
        for ic in self.candles.values():
            ic.current.add(p.id, price, qty, quote, not buyer_maker)
        return p

    def _replay_trade(self, t: int, price: int, qty: int, buys: bool, out: StepOutput) -> None:
        """Print exactly (price, qty): clear quotes in the way, put liquidity there, take it."""
        self.fair = float(price)
        opposite = self.book.side(not buys)
        while len(opposite) and (opposite.best() < price if buys else opposite.best() > price):  # type: ignore[operator]
            self.book.set(not buys, opposite.best(), 0)  # type: ignore[arg-type]
        same = self.book.side(buys)
        while len(same) and (same.best() >= price if buys else same.best() <= price):  # type: ignore[operator]
            self.book.set(buys, same.best(), 0)  # type: ignore[arg-type]
        self.book.set(not buys, price, opposite.qty.get(price, 0) + qty + self.liq.size(0, price))
        out.trades.extend(self.sweep(buys, qty, price, t))

    # ---- makers ----------------------------------------------------------------------------
    def _requote(self) -> None:
        book, liq, rng = self.book, self.liq, self.rng
        fair = int(round(self.fair))
        hs = liq.half_spread
        # cancel quotes on the wrong side of the fair price
        while len(book.bids) and book.bids.best() > fair - hs:  # type: ignore[operator]
            book.set(True, book.bids.best(), 0)  # type: ignore[arg-type]
        while len(book.asks) and book.asks.best() < fair + hs:  # type: ignore[operator]
            book.set(False, book.asks.best(), 0)  # type: ignore[arg-type]
        # refill the touch toward the fair price
        for is_bid in (True, False):
            side = book.side(is_bid)
            sign = -1 if is_bid else 1
            target = fair + sign * hs
            best = side.best()
            if best is None:
                best = target + sign * liq.gap(0)
            price = target
            i = 0
            while (price > best if is_bid else price < best) and i < 200:
                book.set(is_bid, price, liq.size(i, price))
                price += sign * liq.gap(i)
                i += 1
        # churn: a few random modifications, mostly near the touch
        for _ in range(rng.poisson(6)):
            is_bid = bool(rng.random() < 0.5)
            side = book.side(is_bid)
            if len(side) < 2:
                continue
            i = min(len(side) - 1, int(math.exp(rng.random() * math.log(len(side)))) - 1)
            price = side.nth(i)
            u = rng.random()
            if u < 0.2 and i > 0:
                book.set(is_bid, price, 0)
            elif u < 0.5:
                gap_price = price + (-1 if is_bid else 1) * max(1, liq.gap(i) // 2)
                if gap_price > 0:
                    book.set(is_bid, gap_price, liq.size(i, gap_price))
            else:
                book.set(is_bid, price, liq.size(i, price))
        # keep the depth: extend or trim the far end
        for is_bid in (True, False):
            side = book.side(is_bid)
            sign = -1 if is_bid else 1
            while len(side) < LEVELS_PER_SIDE:
                worst = side.worst()
                n = len(side)
                price = (fair + sign * hs) if worst is None else worst + sign * liq.gap(n)
                if price <= 0:
                    break
                book.set(is_bid, price, liq.size(n, price))
            while len(side) > LEVELS_PER_SIDE + 20:
                book.set(is_bid, side.worst(), 0)  # type: ignore[arg-type]

    # ---- reading -----------------------------------------------------------------------------
    def mid(self) -> float | None:
        bid, ask = self.book.bids.best(), self.book.asks.best()
        if bid is None or ask is None:
            return None
        return (bid + ask) / 2

    def cut_depth(self) -> DepthBatch | None:
        """Close the pending diff batch; apply a requested id gap after it (fault injection)."""
        batch = self.book.take_batch()
        if self._skip_pending and batch is not None:
            self._skip_pending = False
            self.book.skip_ids(10)
        return batch

    def request_gap(self) -> None:
        self._skip_pending = True

    def last_price(self) -> int:
        return self.candles["1m"].current.c

    def klines(self, interval: str, start: int | None, end: int | None, limit: int) -> Bars:
        """Binance semantics: with ``start`` the oldest ``limit`` bars from there, else the
        newest ``limit`` bars up to ``end`` (the open candle included)."""
        ms = INTERVAL_MS[interval]
        live = self.candles[interval]
        newest = live.current.t
        if end is not None:
            newest = min(newest, end - end % ms)
        if start is not None:
            earliest = self.history.start_ms if self.history is not None else live.first_open
            first = max(-(-start // ms) * ms, earliest)
            last = min(newest, first + (limit - 1) * ms)
        else:
            last = newest
            first = last - (limit - 1) * ms
        if last < first:
            return Bars.empty()
        parts = [live.bars(first, last, include_open=True)]
        if self.history is not None:
            parts.insert(0, self.history.bars(ms, first, last))
        return Bars.concat(parts)
