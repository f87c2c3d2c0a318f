"""A small stand-in for ``tradeterm.engine.Engine``: same interface, made-up market.

Prices follow a seeded random walk, so tests are deterministic; ``step()`` advances the market
by hand, and ``run()`` (started by the app as a worker) steps it on its own when ``auto`` is set.

Its trading parts are the real ones, not copies: a real :class:`PaperBroker` fed the fake book
and a real :class:`RiskEngine`, and the preview is the desk's own function
(:func:`tradeterm.desk.preview_against`). With ``trading`` it also carries out the trading
commands through them. ``tests/integration/test_fake_engine_contract.py`` runs this fake and
the real ``Engine`` (against the simulator) through the same previews and commands and
requires the same results, so the fake cannot drift from the desk.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from tradeterm.broker.paper import PaperBroker
from tradeterm.broker.rules import MarketRules
from tradeterm.config import Settings
from tradeterm.core.commands import (
    AddToWatchlist,
    CancelOrder,
    ClosePosition,
    Command,
    PlaceOrder,
    Shutdown,
    SwitchSymbol,
    SwitchTimeframe,
    SwitchToDemo,
)
from tradeterm.core.events import Event
from tradeterm.core.models import (
    BookSnapshot,
    Candle,
    EnginePhase,
    EngineSnapshot,
    FeedStatus,
    MarketSnapshot,
    StreamHealth,
    Trade,
    timeframe_ms,
)
from tradeterm.core.money import dec
from tradeterm.core.preview import OrderPreview, TicketDraft
from tradeterm.core.trading import OrderRequest, OrderStatus
from tradeterm.desk import preview_against
from tradeterm.risk import RiskContext, RiskEngine, flatten_requests

T0 = 1_700_000_000_000 - 1_700_000_000_000 % 86_400_000  # a UTC midnight

VENUE = ("ADA/USDT", "DOGE/USDT", "ETH/BTC", "PEPE/USDT")
"""Symbols the fake venue lists beyond the settings' watchlist (the palette, the scanner)."""


class FakeEngine:
    def __init__(
        self,
        settings: Settings,
        *,
        phase: EnginePhase = EnginePhase.RUNNING,
        error: str | None = None,
        auto: bool = False,
        seed: int = 7,
        bars: int = 150,
        panels: bool = False,
        trading: bool = False,
        rules: MarketRules | None = None,
    ) -> None:
        """``panels``: also an account with positions and orders, tickers, sparklines, signals
        and strategy health (see :func:`panel_data`). ``trading``: PlaceOrder, CancelOrder and
        ClosePosition are carried out by the real broker, whose account the snapshot shows.
        ``rules``: the market rules of every symbol (default tick 0.01, step 0.0001, min
        notional 5)."""
        self.settings = settings
        self.commands: list[Command] = []
        self.listeners: list[Callable[[Event], None]] = []
        self._answerer = None
        self.auto = auto
        self.bars = bars
        self.panels = panels
        self._rng = random.Random(seed)
        self._stop = asyncio.Event()
        self.trading = trading
        self.clock = lambda: T0
        self.risk = RiskEngine(settings.risk, self.clock)
        self.broker = PaperBroker({}, settings.paper, self.clock)
        for symbol in settings.symbols:
            self.broker.rules[symbol] = rules if rules is not None else MarketRules(
                symbol, Decimal("0.01"), Decimal("0.0001"), min_notional=Decimal(5))
        self._snap = EngineSnapshot(
            seq=1,
            phase=phase,
            exchange=settings.exchange,
            mode=settings.mode,
            demo=settings.demo,
            symbols=tuple(settings.symbols),
            symbol=settings.symbols[0],
            timeframe=settings.timeframe,
            market=MarketSnapshot(settings.symbols[0], settings.timeframe),
            error=error,
        )
        if phase is EnginePhase.RUNNING:
            self._load()

    # -- the Engine interface ---------------------------------------------------------------

    async def run(self) -> None:
        while not self._stop.is_set():
            if self.auto and self._snap.phase is EnginePhase.RUNNING:
                self.step()
            try:
                await asyncio.wait_for(self._stop.wait(), 0.05)
            except TimeoutError:
                pass

    def snapshot(self) -> EngineSnapshot:
        return self._snap

    def submit(self, command: Command) -> None:
        self.commands.append(command)
        match command:
            case SwitchTimeframe(timeframe=tf):
                self._snap = replace(self._snap, timeframe=tf)
                self._load()
            case SwitchSymbol(symbol=symbol):
                self._snap = replace(self._snap, symbol=symbol)
                self._load()
            case SwitchToDemo():
                self._snap = replace(self._snap, phase=EnginePhase.RUNNING, demo=True, error=None)
                self._load()
            case Shutdown():
                self._stop.set()
            case AddToWatchlist(symbol=symbol) if symbol not in self._snap.symbols:
                self._snap = replace(self._snap, seq=self._snap.seq + 1,
                                     symbols=(*self._snap.symbols, symbol))
            case PlaceOrder() | CancelOrder() | ClosePosition() if self.trading:
                self.handle(command)

    def add_listener(self, callback: Callable[[Event], None]) -> None:
        self.listeners.append(callback)

    async def ask(self, kind: str, args: dict | None = None):
        """Requests answered by the engine's own handler table (``service/requests.py``, as the
        real engine in-process and over the socket): journal pages from the settings' journal,
        backtests run in a child process, their events published to this fake's listeners."""
        from tradeterm.service.local import local_answerer

        if self._answerer is None:
            self._answerer = local_answerer(self)
        return await self._answerer(kind, args or {})

    def publish(self, event: Event) -> None:
        self.emit(event)

    def listed_symbols(self) -> tuple[str, ...]:
        """What ``market.symbols`` answers: the watchlist and :data:`VENUE`."""
        return tuple(sorted({*self._snap.symbols, *VENUE}))

    async def venue_ticker_rows(self):
        """What ``market.scan`` sorts: a made-up 24 h ticker per listed symbol (the i-th
        symbol: last 10*(i+1), change i-2 %, volume 1000*(n-i), range (3i mod 5)+1 %)."""
        from tradeterm.core.scan import VenueTicker

        symbols = self.listed_symbols()
        rows = []
        for i, symbol in enumerate(symbols):
            last = Decimal(10 * (i + 1))
            span = last * Decimal((3 * i) % 5 + 1) / 100
            rows.append(VenueTicker(symbol, last, high=last + span, low=last,
                                    change_pct=Decimal(i - 2),
                                    quote_volume=Decimal(1000 * (len(symbols) - i))))
        return tuple(rows)

    def preview(self, draft: TicketDraft) -> OrderPreview:
        """The desk's own preview (:func:`preview_against`) with the real risk engine and the
        real broker on the fake book (``self.risk.kill(...)`` makes it deny)."""
        book = self._snap.market.book
        if book is None or not book.bids or not book.asks:
            return OrderPreview(None, False, f"no price for {draft.symbol} yet")
        bid, ask = dec(book.bids[0][0]), dec(book.asks[0][0])
        return preview_against(draft, risk=self.risk, broker=self.broker,
                               touch=ask if draft.side == "buy" else bid, mid=(bid + ask) / 2,
                               taker_fee=self.settings.paper.taker_fee)

    def handle(self, command: Command) -> str | None:
        """A trading command as the desk carries it out (risk, then the broker); the reason
        when it cannot be."""
        match command:
            case PlaceOrder(request=request):
                self._place(request)
            case CancelOrder(order_id=order_id, keep_other_leg=keep):
                try:
                    self.broker.cancel(order_id, siblings=not keep)
                except KeyError:
                    return f"no working order {order_id}"
            case ClosePosition(symbol=symbol):
                requests = flatten_requests(tuple(
                    p for p in self.broker.positions() if p.symbol == symbol))
                if not requests:
                    return f"no open position on {symbol}"
                self._place(requests[0])
        self.broker.drain_events()
        if self.trading:
            self._snap = replace(self._snap, seq=self._snap.seq + 1,
                                 account=self.broker.account())
        return None

    def _place(self, request: OrderRequest) -> str | None:
        book = self._snap.market.book
        mid = None if book is None or book.mid is None else dec(book.mid)
        decision = self.risk.check(request, RiskContext.of(self.broker.account(), request, mid))
        if not decision.approved:
            return decision.reason
        order = self.broker.submit(request)
        return order.reason if order.status is OrderStatus.REJECTED else None

    def set_book(self, book: BookSnapshot) -> None:
        """Show ``book`` (and hand it to the broker, as the feed does)."""
        self._snap = replace(self._snap, seq=self._snap.seq + 1,
                             market=replace(self._snap.market, book=book))
        self.broker.on_book(book.symbol, book)

    # -- test helpers -----------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        for callback in self.listeners:
            callback(event)

    def _load(self) -> None:
        """Fresh history for the current symbol/timeframe."""
        tf = timeframe_ms(self._snap.timeframe)
        price = 100.0 * (1 + self._snap.symbols.index(self._snap.symbol)) if (
            self._snap.symbol in self._snap.symbols) else 100.0
        candles = []
        for i in range(self.bars):
            o = price
            c = max(1.0, o + self._rng.gauss(0, 0.5))
            h = max(o, c) + abs(self._rng.gauss(0, 0.2))
            lo = min(o, c) - abs(self._rng.gauss(0, 0.2))
            candles.append(Candle(T0 + i * tf, o, h, lo, c, abs(self._rng.gauss(10, 4))))
            price = c
        self._publish(tuple(candles), ())

    def step(self) -> None:
        """One tick: the live candle moves, a trade prints, the book follows."""
        candles = list(self._snap.market.candles)
        last = candles[-1]
        close = max(1.0, last.close + self._rng.gauss(0, 0.1))
        candles[-1] = replace(last, close=close, high=max(last.high, close),
                              low=min(last.low, close), volume=last.volume + 0.5)
        side = "buy" if self._rng.random() < 0.5 else "sell"
        trades = self._snap.market.trades[-49:] + (
            Trade(str(self._snap.seq), last.open_time + 1000 * (self._snap.seq % 60), close,
                  round(abs(self._rng.gauss(0.5, 0.3)), 4), side),
        )
        self._publish(tuple(candles), trades)

    def _publish(self, candles: tuple[Candle, ...], trades: tuple[Trade, ...]) -> None:
        close = candles[-1].close
        book = BookSnapshot(
            symbol=self._snap.symbol,
            bids=tuple((round(close - 0.01 - i * 0.01, 2), 1.0 + i) for i in range(20)),
            asks=tuple((round(close + 0.01 + i * 0.01, 2), 0.5 + i) for i in range(20)),
        )
        now = int(time.time() * 1000)
        streams = tuple(
            StreamHealth(name, self._snap.symbol, FeedStatus.CONNECTED, now, latency_ms=12.0)
            for name in ("ohlcv", "book", "trades")
        )
        self._snap = replace(
            self._snap,
            seq=self._snap.seq + 1,
            market=MarketSnapshot(self._snap.symbol, self._snap.timeframe, candles, book, trades),
            streams=streams,
        )
        self.broker.on_book(book.symbol, book)
        if self.trading:
            self._snap = replace(self._snap, account=self.broker.account())
        if self.panels:
            self._snap = replace(self._snap, **panel_data(self._snap))


def panel_data(snap: EngineSnapshot) -> dict:
    """Made-up trading state for the panels: a long on the chart's symbol (entry 1 below the
    last close, stop 2 below, so uPnL = +1 x 0.5 at the close) protected by its bracket (the stop
    and target legs of entry P1-3, an OCO pair), a short on the next symbol with no stop, a
    working limit order placed 140 min after T0 (10m old on the snapshot clock), tickers and
    24-point sparklines for every symbol, two signals."""
    from tradeterm.core.models import Signal, StrategyHealth, StrategyState, Ticker
    from tradeterm.core.trading import (
        AccountSnapshot, Order, OrderStatus, OrderType, Position,
    )

    close = dec(round(snap.market.candles[-1].close, 2))
    other = next((s for s in snap.symbols if s != snap.symbol), snap.symbol)
    positions = (
        Position(snap.symbol, Decimal("0.5"), close - 1, T0, "ema_cross", stop=close - 2,
                 target=close + 4, initial_risk=Decimal(1)),
        Position(other, Decimal("-2"), Decimal(250), T0, None),
    )
    order = Order("P1-7", OrderRequest(snap.symbol, "buy", OrderType.LIMIT, Decimal("0.25"),
                                       price=close - 5), OrderStatus.OPEN, T0 + 140 * 60_000,
                  T0 + 140 * 60_000)
    half = Decimal("0.5")
    stop = Order("P1-4", OrderRequest(snap.symbol, "sell", OrderType.STOP_MARKET, half,
                                      stop_price=close - 2), OrderStatus.OPEN, T0, T0,
                 parent_id="P1-3", oco_group="P1-3")
    target = Order("P1-5", OrderRequest(snap.symbol, "sell", OrderType.LIMIT, half,
                                        price=close + 4), OrderStatus.OPEN, T0, T0,
                   parent_id="P1-3", oco_group="P1-3")
    account = AccountSnapshot("USDT", Decimal(10_000), Decimal("10000.50"), Decimal("0.50"),
                              Decimal("-12.40"), positions, (stop, target, order))
    tickers = tuple(Ticker(s, last=100.0 * (i + 1) + 0.5, open_24h=100.0 * (i + 1))
                    for i, s in enumerate(snap.symbols))
    sparklines = tuple((s, tuple(100.0 * (i + 1) + (k % 6) for k in range(24)))
                       for i, s in enumerate(snap.symbols))
    signals = (
        Signal("ema_cross", snap.symbol, snap.timeframe, T0, "entry", "buy", confidence=0.62,
               reasons=("ema 9 > 21",)),
        Signal("rsi_revert", other, snap.timeframe, T0 + 60_000, "entry", "sell",
               confidence=0.4, reasons=("rsi 78",)),
    )
    strategies = (StrategyHealth("ema_cross", StrategyState.ENABLED),
                  StrategyHealth("rsi_revert", StrategyState.ENABLED),
                  StrategyHealth("broken", StrategyState.FAILED, last_error="boom"))
    # the risk engine's limit: 3 % (the default) of the day's start equity (equity - realised)
    limit = (account.equity - account.realized_pnl_today) * 3 / 100
    return {"account": account, "tickers": tickers, "sparklines": sparklines,
            "signals": signals, "strategies": strategies, "daily_loss_limit": limit}
