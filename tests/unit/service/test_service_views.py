"""View updates: what the engine sends one client is only what changed, and the client's
mirror (``RemoteEngine``) rebuilds exactly the engine's view from them, through the real codec.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from msgspec import UNSET

from tradeterm.core.models import (
    BookSnapshot,
    Candle,
    EnginePhase,
    EngineSnapshot,
    MarketPrecision,
    MarketSnapshot,
    Trade,
)
from tradeterm.core.trading import AccountSnapshot
from tradeterm.service.views import ViewState, next_view
from tradeterm.wire.messages import ENCODER, SERVER_DECODER, View
from tradeterm.wire.remote import RemoteEngine

BTC, ETH = "BTC/USDT", "ETH/USDT"


def candles(first: int, n: int, base: float = 100.0) -> tuple[Candle, ...]:
    return tuple(Candle(60_000 * (first + i), base + i, base + i + 1, base + i - 1,
                        base + i + 0.5, 1.0 + i) for i in range(n))


class FakeMarkets:
    """What the engine's market state would answer, per (symbol, timeframe)."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], MarketSnapshot] = {}

    def __call__(self, symbol: str, timeframe: str) -> MarketSnapshot:
        return self.data.get((symbol, timeframe), MarketSnapshot(symbol, timeframe))


def snap(**changes: object) -> EngineSnapshot:
    base = EngineSnapshot(seq=1, phase=EnginePhase.RUNNING, exchange="binance", mode="paper",
                          demo=True, symbols=(BTC, ETH), symbol=BTC, timeframe="1m",
                          market=MarketSnapshot(BTC, "1m"))
    return replace(base, **changes)  # type: ignore[arg-type]


def wire(view: View | None) -> View | None:
    """Through msgpack and back, as on the socket."""
    return None if view is None else SERVER_DECODER.decode(ENCODER.encode(view))


def test_the_mirror_follows_candles_trades_and_book_with_only_changes_sent() -> None:
    markets = FakeMarkets()
    state = ViewState(BTC, "1m", book_depth=2, trades_kept=5, book_every_s=0.25)
    mirror = RemoteEngine(Path("/nonexistent"), symbol=BTC, timeframe="1m", trades=5)
    book = BookSnapshot(BTC, ((99.0, 1.0), (98.0, 2.0), (97.0, 3.0)), ((101.0, 1.0),), 7)
    trades = tuple(Trade(str(i), i, 100.0 + i, 0.1, "buy") for i in range(8))
    history = candles(0, 500)
    markets.data[(BTC, "1m")] = MarketSnapshot(BTC, "1m", history, book, trades)
    engine = snap()

    first = wire(next_view(state, engine, markets, now=0.0))
    assert first is not None and first.candles == history and first.symbol == BTC
    assert first.trades == trades[-5:]  # the client's tape keeps 5
    assert first.book is not None and first.book.bids == book.bids[:2]  # cut to its depth
    mirror._apply(first)
    view = mirror.snapshot()
    assert view.market.candles == history and view.market.trades == trades[-5:]
    assert view.phase is EnginePhase.RUNNING and view.symbols == (BTC, ETH)

    assert next_view(state, engine, markets, now=0.1) is None  # nothing changed: nothing sent

    # the live candle moves, a new one opens and the oldest is dropped (the store keeps 500)
    live = replace(history[-1], close=150.0)
    moved = history[1:-1] + (live, candles(500, 1)[0])
    more = trades + (Trade("8", 8, 108.0, 0.2, "sell"), Trade("9", 9, 109.0, 0.3, "buy"))
    markets.data[(BTC, "1m")] = MarketSnapshot(BTC, "1m", moved, book, more)
    update = wire(next_view(state, engine, markets, now=0.2))
    assert update is not None
    assert update.candles_tail == moved[-2:] and update.candles_kept == 500  # not 500 candles
    assert update.trades_new == more[-2:]  # only the new prints
    assert update.book is UNSET and update.candles is UNSET  # unchanged: not in the update
    mirror._apply(update)
    assert mirror.snapshot().market.candles == moved
    assert mirror.snapshot().market.trades == more[-5:]

    # the book changes twice within book_every_s: only the first goes, the next waits
    book2 = replace(book, nonce=8, bids=((99.5, 1.0),))
    markets.data[(BTC, "1m")] = MarketSnapshot(BTC, "1m", moved, book2, more)
    assert next_view(state, engine, markets, now=0.21) is None  # due at 0.25 (0 + 0.25)
    sent = wire(next_view(state, engine, markets, now=0.3))
    assert sent is not None and sent.book == book2
    mirror._apply(sent)
    assert mirror.snapshot().market.book == book2


def test_shared_parts_go_when_they_change_and_money_stays_exact() -> None:
    markets = FakeMarkets()
    state = ViewState(BTC, "1m")
    mirror = RemoteEngine(Path("/nonexistent"), symbol=BTC, timeframe="1m")
    account = AccountSnapshot("USDT", Decimal("10000.00"), Decimal("10000.10"),
                              Decimal("0.10"), Decimal("-0.00000001"))
    precision = {BTC: MarketPrecision(Decimal("0.01"), Decimal("0.00001"), "BTC", "USDT")}
    engine = snap(account=account, markets=precision, daily_loss_limit=Decimal("300.000"))
    mirror._apply(wire(next_view(state, engine, markets, now=0.0)))
    got = mirror.snapshot()
    assert got.account == account and str(got.account.realized_pnl_today) == "-1E-8"
    assert got.daily_loss_limit == Decimal("300.000") and str(got.daily_loss_limit) == "300.000"
    assert got.precision(BTC) == precision[BTC]

    halted = replace(engine, trading_state="halted", trading_reason="kill switch (K)")
    update = wire(next_view(state, halted, markets, now=1.0))
    assert update is not None and update.trading_state == "halted"
    assert update.account is UNSET and update.markets is UNSET  # unchanged: not sent again
    mirror._apply(update)
    assert mirror.snapshot().trading_state == "halted"
    assert mirror.snapshot().trading_reason == "kill switch (K)"


def test_a_new_subscription_resends_the_whole_market_and_stale_updates_are_ignored() -> None:
    markets = FakeMarkets()
    markets.data[(BTC, "1m")] = MarketSnapshot(BTC, "1m", candles(0, 10))
    markets.data[(ETH, "5m")] = MarketSnapshot(ETH, "5m", candles(0, 20, base=3000.0))
    state = ViewState(BTC, "1m")
    mirror = RemoteEngine(Path("/nonexistent"), symbol=BTC, timeframe="1m")
    mirror._apply(wire(next_view(state, snap(), markets, now=0.0)))
    assert len(mirror.snapshot().market.candles) == 10

    mirror._symbol, mirror._timeframe = ETH, "5m"  # what submit(SwitchSymbol...) sets
    mirror._reset_market()
    # an update still for BTC (sent before the engine saw the new subscription) is ignored
    markets.data[(BTC, "1m")] = MarketSnapshot(BTC, "1m", candles(0, 11))
    mirror._apply(wire(next_view(state, snap(), markets, now=0.1)))
    assert mirror.snapshot().market.candles == ()
    state.resubscribe(ETH, "5m", 20, 60)
    mirror._apply(wire(next_view(state, snap(), markets, now=0.2)))
    got = mirror.snapshot()
    assert (got.symbol, got.timeframe) == (ETH, "5m")
    assert got.market.candles == candles(0, 20, base=3000.0)
