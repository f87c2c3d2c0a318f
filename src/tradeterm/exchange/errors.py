"""What a failed watch/fetch call means for the stream that made it.

ccxt 4.5.x reports every problem as an exception out of the pending ``watch_*`` call (see
``docs/feed.md``). The supervisor only needs to know which of four things happened; the mapping
lives here, in one place. ccxt is imported lazily (it is already loaded when a stream runs).
"""

from __future__ import annotations

import json
from enum import Enum


class FailureKind(Enum):
    RESYNC = "resync"  # order book sequence gap: ccxt dropped the book, the next watch resnapshots
    MALFORMED = "malformed"  # an unusable message killed the socket's reader; we reconnected it
    NETWORK = "network"  # socket or request lost: back off, reconnect, refetch what was missed
    SKIPPED = "skipped"  # an unusable answer or message: skip it and carry on
    UNEXPECTED = "unexpected"  # a bug (ours or ccxt's): logged with its traceback, then as SKIPPED


def _malformed_class() -> type[Exception]:
    from tradeterm.exchange.wsguard import MalformedMessage

    return MalformedMessage


def classify(exc: BaseException) -> FailureKind:
    """Map an exception from a ccxt call (or from our own parsing of its result) to a kind."""
    import ccxt

    if isinstance(exc, _malformed_class()):
        return FailureKind.MALFORMED
    # ChecksumError is a NetworkError subclass in ccxt (via InvalidNonce): test it first.
    if isinstance(exc, ccxt.ChecksumError):
        return FailureKind.RESYNC
    if isinstance(exc, ccxt.NetworkError | ConnectionError | TimeoutError):
        return FailureKind.NETWORK
    if isinstance(exc, ccxt.BaseError | ValueError | json.JSONDecodeError):
        return FailureKind.SKIPPED  # BadResponse, ExchangeError, our ValueError from parsing
    return FailureKind.UNEXPECTED


def one_line(exc: BaseException, limit: int = 200) -> str:
    """A short, single-line description of ``exc`` for status bars and events."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def with_cause(exc: BaseException, limit: int = 240) -> str:
    """``one_line(exc)`` plus its direct cause: ccxt's "binance GET <url>" only says *what*
    failed, the aiohttp error it was raised from says *why* ("Cannot connect to host ...")."""
    cause = exc.__cause__
    text = one_line(exc, limit)
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}: {one_line(cause, limit)}"
    return one_line(ValueError(text), limit)

