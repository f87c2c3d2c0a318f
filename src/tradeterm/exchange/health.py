"""Health of the supervised streams: status, last message, reconnects, latency.

The supervisor reports what happened (a message arrived, the stream failed); this registry turns
that into frozen :class:`StreamHealth` values for the snapshot and publishes a
:class:`FeedStatusChanged` event whenever a status actually changes. The stale check is driven
from outside (the feed's monitor) with the same clock, so tests can run it with a fake clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from tradeterm.core.events import Event, FeedStatusChanged
from tradeterm.core.models import FeedStatus, StreamHealth

StreamKey = tuple[str, str]  # (stream, symbol)


class FeedHealth:
    """One :class:`StreamHealth` per running stream; ``version`` grows on every change."""

    def __init__(self, clock: Callable[[], int], publish: Callable[[Event], None]) -> None:
        self._clock = clock
        self._publish = publish
        self._streams: dict[StreamKey, StreamHealth] = {}
        self.version = 0
        self._frozen: tuple[StreamHealth, ...] | None = ()

    def _store(self, health: StreamHealth, reason: str | None = None) -> None:
        key = (health.stream, health.symbol)
        old = self._streams.get(key)
        self._streams[key] = health
        self.version += 1
        self._frozen = None
        if old is None or old.status is not health.status:
            self._publish(
                FeedStatusChanged(
                    timestamp=self._clock(),
                    stream=health.stream,
                    symbol=health.symbol,
                    status=health.status,
                    reason=reason,
                )
            )

    def get(self, key: StreamKey) -> StreamHealth | None:
        return self._streams.get(key)

    def register(self, stream: str, symbol: str) -> StreamKey:
        """A stream starts: CONNECTING until its first message."""
        self._store(StreamHealth(stream=stream, symbol=symbol, status=FeedStatus.CONNECTING))
        return (stream, symbol)

    def message(self, key: StreamKey, event_ms: int | None = None) -> None:
        """A message arrived; ``event_ms`` is the exchange's event time when known."""
        old = self._streams.get(key)
        if old is None:
            return
        now = self._clock()
        latency = float(now - event_ms) if event_ms is not None else old.latency_ms
        self._store(
            replace(old, status=FeedStatus.CONNECTED, last_message_ms=now, latency_ms=latency)
        )

    def failed(self, key: StreamKey, reason: str, *, reconnecting: bool) -> None:
        """The stream hit an error. A lost connection counts one reconnect, however many
        attempts the reconnection then takes."""
        old = self._streams.get(key)
        if old is None:
            return
        if reconnecting:
            new = replace(
                old,
                status=FeedStatus.RECONNECTING,
                reconnects=old.reconnects + (old.status is not FeedStatus.RECONNECTING),
                last_error=reason,
            )
        else:
            new = replace(old, last_error=reason)
        self._store(new, reason)

    def remove(self, key: StreamKey) -> None:
        """The stream was stopped on purpose: announce STOPPED and forget it."""
        old = self._streams.get(key)
        if old is None:
            return
        self._store(replace(old, status=FeedStatus.STOPPED))
        del self._streams[key]
        self._frozen = None

    def check_stale(self, stale_after_ms: int) -> None:
        """Mark CONNECTED streams silent for longer than ``stale_after_ms`` as STALE."""
        now = self._clock()
        for health in list(self._streams.values()):
            if (
                health.status is FeedStatus.CONNECTED
                and health.last_message_ms is not None
                and now - health.last_message_ms > stale_after_ms
            ):
                silent_s = (now - health.last_message_ms) / 1000
                self._store(
                    replace(health, status=FeedStatus.STALE),
                    f"no message for {silent_s:.0f} s",
                )

    def streams(self) -> tuple[StreamHealth, ...]:
        """All running streams, in start order (cached until the next change)."""
        if self._frozen is None:
            self._frozen = tuple(self._streams.values())
        return self._frozen
