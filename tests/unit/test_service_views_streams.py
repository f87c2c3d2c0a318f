"""The streams' health in a client's view updates: a state change goes at once, a latency-only
change at most once a second (it changes with every message and was a quarter of the socket's
bytes; benchmarks/service.py)."""

from __future__ import annotations

from dataclasses import replace

import msgspec

from tradeterm.core.models import (
    EnginePhase,
    EngineSnapshot,
    FeedStatus,
    MarketSnapshot,
    StreamHealth,
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

