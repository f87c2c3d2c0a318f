"""The streams' health and the account in a client's view updates: a state change goes at
once; a latency-only change of the streams at most once a second, a mark-only change of the
account (equity, unrealised PnL, excursions) at most ``book_fps`` times a second. Both change
with every message or tick and were the largest share of the socket's bytes after the book
(benchmarks/service.py)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import msgspec

from tradeterm.core.models import (
    EnginePhase,
    EngineSnapshot,
    FeedStatus,
    MarketSnapshot,
    StreamHealth,
)
from tradeterm.core.trading import (
    AccountSnapshot,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
)
from tradeterm.service.views import STREAMS_EVERY_S, ViewState, next_view

BTC = "BTC/USDT"


def _snap(*streams: StreamHealth) -> EngineSnapshot:
    return EngineSnapshot(seq=1, phase=EnginePhase.RUNNING, exchange="binance", mode="paper",
                          demo=True, symbols=(BTC,), symbol=BTC, timeframe="1m",
                          market=MarketSnapshot(BTC, "1m"), streams=streams)


def _market(symbol: str, timeframe: str) -> MarketSnapshot:
    return MarketSnapshot(symbol, timeframe)


def _book(latency: float, status: FeedStatus = FeedStatus.CONNECTED,
          reconnects: int = 0) -> StreamHealth:
    return StreamHealth("book", BTC, status, last_message_ms=int(latency * 1000),
                        reconnects=reconnects, latency_ms=latency)


def _streams(state: ViewState, snap: EngineSnapshot, now: float) -> object:
    """The streams the update carries (None: it carries none)."""
    view = next_view(state, snap, _market, now)
    return None if view is None or view.streams is msgspec.UNSET else view.streams


def test_latency_only_changes_go_at_most_once_a_second() -> None:
    state = ViewState(BTC, "1m")
    first = _snap(_book(3.0))
    assert _streams(state, first, 100.0) == first.streams  # the first update has them
    assert _streams(state, _snap(_book(4.0)), 100.1) is None  # held back
    later = _snap(_book(5.0))
    assert _streams(state, later, 100.1 + STREAMS_EVERY_S) == later.streams  # the newest


def test_a_stream_state_change_goes_at_once() -> None:
    state = ViewState(BTC, "1m")
    _streams(state, _snap(_book(3.0)), 100.0)
    _streams(state, _snap(_book(4.0)), 100.05)  # latency only: held back
    for changed in (_book(4.0, FeedStatus.RECONNECTING), _book(4.0, reconnects=1),
                    replace(_book(4.0), last_error="ws closed")):
        state = ViewState(BTC, "1m")
        _streams(state, _snap(_book(3.0)), 100.0)
        assert _streams(state, _snap(changed), 100.05) == (changed,), changed
    # a stream appearing is a change too
    state = ViewState(BTC, "1m")
    _streams(state, _snap(_book(3.0)), 100.0)
    trades = StreamHealth("trades", BTC, FeedStatus.CONNECTED)
    assert _streams(state, _snap(_book(3.0), trades), 100.05) == (_book(3.0), trades)



# -- the account: marks to the book at most book_fps times a second, the rest at once ---------

def _account(equity: str, *, quantity: str = "0.01", stop: str | None = None,
             orders: tuple[Order, ...] = (), balance: str = "10000") -> AccountSnapshot:
    position = Position(BTC, Decimal(quantity), Decimal("65000"), 1, stop=None if stop is None
                        else Decimal(stop), max_adverse=Decimal(equity) - Decimal("10000"))
    return AccountSnapshot("USDT", Decimal(balance), Decimal(equity),
                           Decimal(equity) - Decimal(balance), Decimal(0), (position,), orders)


def _with(account: AccountSnapshot) -> EngineSnapshot:
    return replace(_snap(), account=account)


def _account_of(state: ViewState, snap: EngineSnapshot, now: float) -> object:
    view = next_view(state, snap, _market, now)
    return None if view is None or view.account is msgspec.UNSET else view.account


def test_mark_only_account_changes_go_at_most_book_fps_times_a_second() -> None:
    state = ViewState(BTC, "1m", book_every_s=0.25)
    assert _account_of(state, _with(_account("10001")), 100.0) == _account("10001")
    assert _account_of(state, _with(_account("10002")), 100.1) is None  # a mark: held back
    # the pump's next tick after the interval sends the newest, though nothing changed since
    assert _account_of(state, _with(_account("10002")), 100.26) == _account("10002")


def test_what_a_fill_an_order_or_a_stop_changes_goes_at_once() -> None:
    order = Order("o1", OrderRequest(BTC, "sell", OrderType.STOP_MARKET, Decimal("0.01"),
                                     stop_price=Decimal("64000")), OrderStatus.OPEN, 1, 1)
    for changed in (_account("10002", quantity="0.02"), _account("10002", stop="64000"),
                    _account("10002", orders=(order,)), _account("10002", balance="9999")):
        state = ViewState(BTC, "1m", book_every_s=0.25)
        _account_of(state, _with(_account("10001")), 100.0)
        assert _account_of(state, _with(changed), 100.05) == changed, changed
