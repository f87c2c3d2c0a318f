"""The market state: one writer, many readers, immutable cached snapshots.

Writers are the feed loops, all running on the engine's asyncio loop, so no lock is needed.
Every write that changes something bumps :attr:`MarketState.version`; readers get frozen
``core.models`` values, and :meth:`MarketState.snapshot` rebuilds its ``MarketSnapshot`` only
when the version moved since the last call, so a UI sampling it ten times a second costs nothing
while the market is quiet.

A candle closes when a candle with a later open time arrives for its series (ccxt's OHLCV rows
carry no "closed" flag, Binance's kline ``x`` is not exposed): bar-close listeners then get the
closed candles (all but the newest, still open one). The first history of a series closes
nothing: only an advance seen live (or by a refetch) is a close.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tradeterm.core.models import BookSnapshot, Candle, MarketSnapshot, Ticker, Trade
from tradeterm.market.candles import CandleSeries
from tradeterm.market.trades import TradeTape


BarClosedListener = Callable[[str, str, tuple[Candle, ...]], None]
"""``(symbol, timeframe, closed_candles)``; the last of ``closed_candles`` just closed."""


class MarketState:
    """Candles (per symbol and timeframe), book, trades and ticker per symbol."""

    def __init__(self, *, candles_kept: int = 1000, trades_kept: int = 200) -> None:
        self.candles_kept = candles_kept
        self.trades_kept = trades_kept
        self.version = 0
        self._series: dict[tuple[str, str], CandleSeries] = {}
        self._books: dict[str, BookSnapshot] = {}
        self._tapes: dict[str, TradeTape] = {}
        self._tickers: dict[str, Ticker] = {}
        self._snap: MarketSnapshot | None = None
        self._snap_version = -1
        self._tickers_snap: tuple[tuple[str, ...], int, tuple[Ticker, ...]] | None = None
        self._newest: dict[tuple[str, str], int] = {}  # open time of each series' newest bar
        self._bar_listeners: list[BarClosedListener] = []

    def add_bar_listener(self, callback: BarClosedListener) -> None:
        """Call ``callback`` (on the writer's loop, so keep it cheap) whenever a bar closes."""
        self._bar_listeners.append(callback)

    # -- writers (the engine's loop only) -------------------------------------------------------

    def _changed(self, changed: bool) -> bool:
        if changed:
            self.version += 1
        return changed

    def merge_candles(self, symbol: str, timeframe: str, candles: Iterable[Candle]) -> bool:
        """Merge candles by open time into the series of ``symbol``/``timeframe``."""
        key = (symbol, timeframe)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = CandleSeries(self.candles_kept)
        candles = list(candles)
        changed = self._changed(series.merge(candles))
        newest = max((c.open_time for c in candles), default=None)
        before = self._newest.get(key)
        if newest is not None and (before is None or newest > before):
            self._newest[key] = newest
            if before is not None and self._bar_listeners:
                self._bar_closed(symbol, timeframe, series.candles())
        return changed

    def _bar_closed(self, symbol: str, timeframe: str, candles: tuple[Candle, ...]) -> None:
        closed = candles[:-1]
        if not closed:
            return
        for callback in list(self._bar_listeners):
            callback(symbol, timeframe, closed)

    def set_book(self, book: BookSnapshot) -> bool:
        """Replace the book of ``book.symbol`` (an unchanged book is not a change)."""
        if self._books.get(book.symbol) == book:
            return False
        self._books[book.symbol] = book
        return self._changed(True)

    def clear_book(self, symbol: str) -> bool:
        """Forget a book nobody maintains any more (a stale ladder would mislead)."""
        return self._changed(self._books.pop(symbol, None) is not None)

    def add_trades(self, symbol: str, trades: Iterable[Trade]) -> bool:
        tape = self._tapes.get(symbol)
        if tape is None:
            tape = self._tapes[symbol] = TradeTape(self.trades_kept)
        return self._changed(tape.add(trades))

    def set_tickers(self, tickers: Iterable[Ticker]) -> bool:
        changed = False
        for ticker in tickers:
            if self._tickers.get(ticker.symbol) != ticker:
                self._tickers[ticker.symbol] = ticker
                changed = True
        return self._changed(changed)

    # -- readers --------------------------------------------------------------------------------

    def candles(self, symbol: str, timeframe: str) -> tuple[Candle, ...]:
        series = self._series.get((symbol, timeframe))
        return series.candles() if series is not None else ()

    def book(self, symbol: str) -> BookSnapshot | None:
        return self._books.get(symbol)

    def trades(self, symbol: str) -> tuple[Trade, ...]:
        tape = self._tapes.get(symbol)
        return tape.trades() if tape is not None else ()

    def ticker(self, symbol: str) -> Ticker | None:
        return self._tickers.get(symbol)

    def snapshot(self, symbol: str, timeframe: str) -> MarketSnapshot:
        """Everything about ``symbol`` the UI draws; the same object until something changed."""
        snap = self._snap
        if (
            snap is not None
            and self._snap_version == self.version
            and snap.symbol == symbol
            and snap.timeframe == timeframe
        ):
            return snap
        snap = MarketSnapshot(
            symbol=symbol,
            timeframe=timeframe,
            candles=self.candles(symbol, timeframe),
            book=self._books.get(symbol),
            trades=self.trades(symbol),
            ticker=self._tickers.get(symbol),
        )
        self._snap, self._snap_version = snap, self.version
        return snap

    def tickers(self, symbols: tuple[str, ...]) -> tuple[Ticker, ...]:
        """Tickers of ``symbols`` that are known, in that order (cached like :meth:`snapshot`)."""
        cached = self._tickers_snap
        if cached is not None and cached[0] == symbols and cached[1] == self.version:
            return cached[2]
        found = tuple(t for s in symbols if (t := self._tickers.get(s)) is not None)
        self._tickers_snap = (symbols, self.version, found)
        return found
