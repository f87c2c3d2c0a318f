"""The journal's filters (symbol, strategy, a UTC date range), one type for the CLI's
``--symbol --strategy --from --to`` and the journal screen's request arguments.

Why one parser: the screen sends what the user typed (``2024-05-01``) and the engine reads it
here, so a date means the same on the screen and in ``tradeterm journal``. ``to`` is inclusive
for a plain date (the whole day: up to the next midnight) and exact for a date-time; the SQL
gets ``since_ms <= t < until_ms`` as parameters, never spliced text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

DATE_HELP = "a UTC date like 2024-05-01 or a date-time like 2024-05-01T12:00"


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"expected {DATE_HELP}, got {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _is_plain_date(text: str) -> bool:
    return len(text.strip()) == 10  # YYYY-MM-DD: no time part


def start_ms(text: str) -> int:
    """``from``: the moment itself (a plain date: its midnight UTC), epoch ms."""
    return int(_moment(text).timestamp() * 1000)


def end_ms(text: str) -> int:
    """``to`` as an exclusive bound: a plain date includes its whole day."""
    moment = _moment(text)
    if _is_plain_date(text):
        moment += timedelta(days=1)
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class JournalFilter:
    """What rows to show; None: no filter on that field."""

    symbol: str | None = None
    strategy: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None  # exclusive

    @property
    def empty(self) -> bool:
        return self == JournalFilter()

    def query(self) -> dict[str, Any]:
        """Keyword arguments of the reader's ``rows``, ``count``, ``columns`` and ``stats``."""
        return {"symbol": self.symbol, "until_ms": self.until_ms}


_TEXT_LIMIT = 100


def _text(args: dict[str, Any], key: str) -> str | None:
    value = args.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > _TEXT_LIMIT:
        raise ValueError(f"{key}: a short text")
    return value.strip() or None


def _bound(key: str, parse: Callable[[str], int], text: str) -> int:
    try:
        return parse(text)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


def filter_of(args: dict[str, Any]) -> JournalFilter:
    """The filter a request's ``symbol``, ``strategy``, ``from`` and ``to`` ask for (texts,
    as typed); ValueError with one line saying what is wrong."""
    symbol = _text(args, "symbol")
    since_text, until_text = _text(args, "from"), _text(args, "to")
    since = None if since_text is None else _bound("from", start_ms, since_text)
    until = None if until_text is None else _bound("to", end_ms, until_text)
    if since is not None and until is not None and until <= since:
        raise ValueError(f"to ({until_text}) is before from ({since_text})")
    return JournalFilter(symbol.upper() if symbol else None, _text(args, "strategy"),
                         since, until)
