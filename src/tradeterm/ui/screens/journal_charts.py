"""The journal screen's two charts (plotext, as text) and its filter line.

The engine answers ``journal.curve`` with decimal strings (``service/journal_requests.py``);
they become floats here only to be drawn (a chart's pixels, never money), and the labels the
user reads (the last value, the day's sum) go through ``core/display.py``.

The filter the user types is words: ``symbol:BTC/USDT strategy:ema_cross from:2024-05-01
to:2024-05-02``, or bare words (one with a ``/`` is a symbol, a date is ``from`` then ``to``,
anything else the strategy). The engine reads the dates (``journal/filters.py``), so the
screen and ``tradeterm journal --from --to`` mean the same day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tradeterm.core.display import fmt_quote

FILTER_KEYS = ("symbol", "strategy", "from", "to")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def parse_filter(text: str) -> dict[str, str]:
    """The request arguments the typed words ask for; ValueError naming an unknown key."""
    found: dict[str, str] = {}
    for word in text.split():
        key, sep, value = word.partition(":")
        if sep and key.lower() in FILTER_KEYS:
            if not value:
                raise ValueError(f"{key}: needs a value ({key}:...)")
            found[key.lower()] = value
        elif "/" in key:  # BTC/USDT, or BTC/USDT:USDT (a colon of its own)
            found["symbol"] = word
        elif _DATE.match(word):
            found["to" if "from" in found else "from"] = word
        elif sep:
            raise ValueError(f"unknown filter {key!r} (use {', '.join(FILTER_KEYS)})")
        else:
            found["strategy"] = word
    if "symbol" in found:
        found["symbol"] = found["symbol"].upper()
    return found


def filter_text(flt: dict[str, str]) -> str:
    """The words that ask for ``flt`` again (what the filter input is prefilled with)."""
    return " ".join(f"{k}:{flt[k]}" for k in FILTER_KEYS if flt.get(k))


def describe(flt: dict[str, str]) -> str:
    """The filter line: what is shown, and the keys that change it."""
    if not flt:
        return "all trades · f filter (symbol, strategy, from, to)"
    parts = [flt[k] for k in ("symbol", "strategy") if flt.get(k)]
    if flt.get("from") or flt.get("to"):
        parts.append(f"{flt.get('from', '…')} → {flt.get('to', '…')}")
    return "filter: " + " · ".join(parts) + " · f change · x clear"


@dataclass(frozen=True, slots=True)
class CurveData:
    """``journal.curve``'s answer: (ms, cumulative PnL) and (UTC day, PnL), exact."""

    equity: list[tuple[int, Decimal]]
    daily: list[tuple[str, Decimal]]
    trades: int
    quote: str | None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def curve_of(body: dict[str, object]) -> CurveData:
    equity, daily = _list(body.get("equity")), _list(body.get("daily"))
    trades = body.get("trades")
    quote = body.get("quote")
    return CurveData([(int(ms), Decimal(str(v))) for ms, v in equity],
                     [(str(day), Decimal(str(v))) for day, v in daily],
                     trades if isinstance(trades, int) else 0,
                     quote if isinstance(quote, str) else None)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def _time_ticks(times_ms: list[int], xs: list[int]) -> tuple[list[int], list[str]]:
    """The x axis's labels: the day (``12-07``), or the time of day (``11:25``) when every
    close is on the same UTC day (three ``12-07`` under one day's curve say nothing); a
    label equal to the one before it is dropped."""
    one_day = len({_day(ms) for ms in times_ms}) == 1
    fmt = "%H:%M" if one_day else "%m-%d"
    ticks: list[int] = []
    labels: list[str] = []
    for ms, x in zip(times_ms, xs, strict=True):
        label = datetime.fromtimestamp(ms / 1000, UTC).strftime(fmt)
        if not labels or labels[-1] != label:
            ticks.append(x)
            labels.append(label)
    return ticks, labels


def _figure(width: int, height: int) -> Any:  # plotext is untyped
    import plotext as plt

    plt.terminal.limit(False, False)  # the widget's size, not the (absent) terminal's 80x24
    fig = plt.figure
    fig.clear()
    fig.plot_size(width, height)
    fig.theme("clear")
    return fig


def equity_chart(curve: CurveData, width: int, height: int) -> str:
    """The cumulative PnL from zero at the first close (text)."""
    if not curve.equity:
        return "Equity\nno closed trades for this filter"
    values = [0.0] + [float(v) for _, v in curve.equity]  # drawn only: pixels, not money
    fig = _figure(width, height)
    fig.draw(fig.signal(values).lines())
    # x: the close of each point (index 1 is the zero before the first close)
    picks = sorted({0, len(curve.equity) // 2, len(curve.equity) - 1})
    ticks, labels = _time_ticks([curve.equity[i][0] for i in picks], [i + 2 for i in picks])
    fig.ruler(0).ticks(ticks, labels)
    last = fmt_quote(curve.equity[-1][1], curve.quote, signed=True)
    first, end = _day(curve.equity[0][0]), _day(curve.equity[-1][0])
    span = first if first == end else f"{first} → {end}"
    fig.title(f"Equity {last} {curve.quote or ''} · {curve.trades} trades · {span}")
    return str(fig.build().string())


def daily_chart(curve: CurveData, width: int, height: int) -> str:
    """One bar per UTC day with a closed trade (the newest that fit the width)."""
    if not curve.daily:
        return "Daily PnL\nno closed trades for this filter"
    days = curve.daily[-max(1, (width - 8) // 3):]
    fig = _figure(width, height)
    fig.draw(fig.bar([d[5:] for d, _ in days], [float(v) for _, v in days]))
    day, pnl = days[-1]
    fig.title(f"Daily PnL · {day} {fmt_quote(pnl, curve.quote, signed=True)} "
              f"{curve.quote or ''}".rstrip())
    return str(fig.build().string())
