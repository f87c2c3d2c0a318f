"""Notifications that never hide work: a bounded log of every notice, and bursts folded into one.

Fast replay or a strategy firing on every bar can raise dozens of fills, denials or signals a
second; one toast each would cover the screen. :class:`Coalescer` groups them by kind: the
first of a burst is shown at once, the rest fold into one summary ("12 fills: BTC/USDT, ...")
that the app keeps updating while the burst lasts (a burst ends after ``window_s`` without a
new one). :class:`NoticeLog` keeps every notice, folded or not, for the notification log screen.
Nothing here imports Textual: the app owns the toasts, this module only decides.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

LOG_SIZE = 500  # the notification log keeps this many, the oldest dropped first
BURST_WINDOW_S = 1.0  # a notice of the same kind within this of the last one joins its burst
SUMMARY_SYMBOLS = 3  # symbols named in a summary before "+N more"

# kind -> the plural a summary counts in
KINDS = {"fill": "fills", "denial": "denials", "signal": "signals"}
_SEVERITY_RANK = {"information": 0, "warning": 1, "error": 2}


@dataclass(frozen=True, slots=True)
class Notice:
    """One notification as shown: wall time (s), severity, title and text."""

    at: float
    severity: str
    title: str
    text: str


class NoticeLog:
    """The last ``size`` notices, newest first when listed."""

    def __init__(self, size: int = LOG_SIZE) -> None:
        self._notices: deque[Notice] = deque(maxlen=size)

    def add(self, notice: Notice) -> None:
        self._notices.append(notice)

    def newest_first(self) -> list[Notice]:
        return list(reversed(self._notices))

    def __len__(self) -> int:
        return len(self._notices)


@dataclass(slots=True)
class Burst:
    """Notices of one kind arriving less than the window apart."""

    kind: str
    count: int = 0
    symbols: list[str] = field(default_factory=list)
    last_text: str = ""
    last_at: float = 0.0
    severity: str = "information"
    timeout: float = 0.0

    def summary(self) -> str:
        """``12 fills: BTC/USDT, ETH/USDT`` and the last one's text on the next line."""
        named = ", ".join(self.symbols[:SUMMARY_SYMBOLS])
        more = len(self.symbols) - SUMMARY_SYMBOLS
        if more > 0:
            named += f" +{more} more"
        head = f"{self.count} {KINDS.get(self.kind, self.kind)}" + (f": {named}" if named else "")
        return f"{head}\nlast: {self.last_text}"


class Coalescer:
    """Decides, per kind, whether a notice starts a burst (shown as it is) or folds into the
    burst's summary. ``offer`` gets a monotonic time, so tests and the app share the logic."""

    def __init__(self, window_s: float = BURST_WINDOW_S) -> None:
        self.window_s = window_s
        self.bursts: dict[str, Burst] = {}

    def offer(self, kind: str, symbol: str, text: str, severity: str, timeout: float,
              now: float) -> Burst:
        """Count the notice into its kind's burst (a new one after a quiet window) and return
        the burst: ``count == 1`` means show this notice itself, more means show the summary."""
        burst = self.bursts.get(kind)
        if burst is None or now - burst.last_at > self.window_s:
            burst = self.bursts[kind] = Burst(kind)
        burst.count += 1
        if symbol and symbol not in burst.symbols:
            burst.symbols.append(symbol)
        burst.last_text = text
        burst.last_at = now
        if _SEVERITY_RANK.get(severity, 0) > _SEVERITY_RANK.get(burst.severity, 0):
            burst.severity = severity
        burst.timeout = max(burst.timeout, timeout)
        return burst
