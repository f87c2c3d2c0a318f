"""Stream health: statuses, events on status changes only, stale marking."""

from tradeterm.core.events import FeedStatusChanged
from tradeterm.core.models import FeedStatus
from tradeterm.exchange.health import FeedHealth


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def test_lifecycle_publishes_each_status_change_once():
    clock, events = Clock(), []
    h = FeedHealth(clock, events.append)
    key = h.register("book", "BTC/USDT")
    h.message(key, event_ms=clock.now - 25)
    h.message(key)
    h.failed(key, "socket closed", reconnecting=True)
    h.message(key)
    h.remove(key)
    statuses = [e.status for e in events if isinstance(e, FeedStatusChanged)]
    assert statuses == [
        FeedStatus.CONNECTING,
        FeedStatus.CONNECTED,
        FeedStatus.RECONNECTING,
        FeedStatus.CONNECTED,
        FeedStatus.STOPPED,
    ]
    assert h.streams() == ()


def test_health_records_latency_reconnects_and_errors():
    clock = Clock()
    h = FeedHealth(clock, lambda e: None)
    key = h.register("trades", "ETH/USDT")
    h.message(key, event_ms=clock.now - 40)
    h.failed(key, "boom", reconnecting=True)
    h.failed(key, "gap", reconnecting=False)
    (s,) = h.streams()
    assert s.latency_ms == 40.0 and s.reconnects == 1 and s.last_error == "gap"


def test_silent_connected_stream_goes_stale_and_recovers():
    clock, events = Clock(), []
    h = FeedHealth(clock, events.append)
    key = h.register("ohlcv", "BTC/USDT")
    h.check_stale(1000)  # CONNECTING streams are not stale: nothing arrived yet
    h.message(key)
    clock.now += 1000
    h.check_stale(1000)
    assert h.get(key).status is FeedStatus.CONNECTED
    clock.now += 1
    h.check_stale(1000)
    assert h.get(key).status is FeedStatus.STALE
    h.check_stale(1000)  # no duplicate event
    h.message(key)
    statuses = [e.status for e in events]
    assert statuses[-2:] == [FeedStatus.STALE, FeedStatus.CONNECTED]
    assert statuses.count(FeedStatus.STALE) == 1


def test_version_grows_on_every_change():
    h = FeedHealth(Clock(), lambda e: None)
    v0 = h.version
    key = h.register("book", "X/Y")
    h.message(key)
    assert h.version > v0
    snap = h.streams()
    assert h.streams() is snap
