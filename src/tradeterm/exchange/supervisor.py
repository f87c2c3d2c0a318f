"""The one loop every stream runs in: watch, report, and survive every failure.

A stream body (``streams.py``) knows one ccxt call and how to store its result. This base owns
everything else, in one place (hummingbot's rule): the status of the stream, what each failure
means and how long to wait before trying again. Nothing a stream raises leaves :func:`supervise`
except cancellation, so one failing stream can never take the others or the engine down.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

from tradeterm.core.events import BookResynced, Event, FeedMessageSkipped
from tradeterm.exchange.backoff import Backoff
from tradeterm.exchange.errors import FailureKind, classify, one_line
from tradeterm.exchange.health import FeedHealth

log = logging.getLogger(__name__)


class StreamBody(ABC):
    """One stream's venue-specific part: a ccxt call and where its result goes."""

    stream: str  # "ohlcv", "book", "trades", "tickers"
    symbol: str  # ccxt symbol, or "*" for the watchlist

    async def prepare(self) -> bool:
        """Run before the first step and again after a lost connection (e.g. REST history).

        True if it delivered data (which counts as a message for the stream's health)."""
        return False

    @abstractmethod
    async def step(self) -> int | None:
        """Wait for the next update, store it; return its exchange event time (ms) if known."""

    def reset(self) -> None:  # noqa: B027 - optional hook
        """Forget state the failure made untrustworthy (the book after a gap or a lost socket)."""


async def supervise(
    body: StreamBody,
    *,
    health: FeedHealth,
    publish: Callable[[Event], None],
    backoff: Backoff,
    clock: Callable[[], int],
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> None:
    """Run ``body`` until cancelled. Its health is registered here and removed on the way out."""
    key = health.register(body.stream, body.symbol)
    failures = 0  # consecutive, reset by every good message
    need_prepare = True
    try:
        while True:
            try:
                if need_prepare:
                    if await body.prepare():
                        health.message(key)  # REST data arrived: the stream is up
                    need_prepare = False
                while True:
                    event_ms = await body.step()
                    health.message(key, event_ms)
                    failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure is handled below; none escapes
                failures += 1
                delay = _handle_failure(body, exc, failures, health, key, publish, backoff, clock)
                need_prepare = need_prepare or classify(exc) in (
                    FailureKind.NETWORK,
                    FailureKind.MALFORMED,
                )
            if delay > 0:
                await sleep(delay)
    finally:
        health.remove(key)


def _handle_failure(
    body: StreamBody,
    exc: Exception,
    failures: int,
    health: FeedHealth,
    key: tuple[str, str],
    publish: Callable[[Event], None],
    backoff: Backoff,
    clock: Callable[[], int],
) -> float:
    """Report ``exc`` and return how long to wait before the next attempt."""
    kind = classify(exc)
    reason = one_line(exc)
    now = clock()
    skipped = FeedMessageSkipped(
        timestamp=now, stream=body.stream, symbol=body.symbol, reason=reason
    )
    try:
        body.reset()
    except Exception:  # a reset hook must not break the loop either
        log.exception("%s %s: reset failed", body.stream, body.symbol)
    # A first resync or skipped message is retried at once (ccxt resubscribes and
    # resnapshots on the next watch call); repeated ones back off like network errors.
    immediate = 0.0 if failures == 1 else backoff.delay(failures)
    if kind is FailureKind.RESYNC:
        log.info("%s %s: book resync: %s", body.stream, body.symbol, reason)
        health.failed(key, reason, reconnecting=False)
        publish(BookResynced(timestamp=now, symbol=body.symbol, reason=reason))
        return immediate
    if kind is FailureKind.MALFORMED:
        health.failed(key, reason, reconnecting=True)
        publish(skipped)
        return immediate
    if kind is FailureKind.NETWORK:
        log.info("%s %s: connection lost: %s", body.stream, body.symbol, reason)
        health.failed(key, reason, reconnecting=True)
        return backoff.delay(failures)
    health.failed(key, reason, reconnecting=False)
    publish(skipped)
    if kind is FailureKind.UNEXPECTED:
        log.error("%s %s: unexpected error", body.stream, body.symbol, exc_info=exc)
        return backoff.delay(failures)
    log.warning("%s %s: skipped an unusable message: %s", body.stream, body.symbol, reason)
    return immediate
