"""The chart's geometry: price scale, candle and volume columns, price and time axis labels.

Pure functions of data. A candle's column depends only on the candle and the
:class:`PriceScale`, which is what lets the renderer cache columns; the scale is snapped to a
coarse grid so that it changes only when the visible range really changes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tradeterm.core.models import Candle
from tradeterm.ui.fmt import nice_step, step_decimals

# Cell kinds of one sub-row (half a cell): empty, wick, body.
_EMPTY, _WICK, _BODY = 0, 1, 2
# (top half, bottom half) -> character.
HALF_CHARS: dict[tuple[int, int], str] = {
    (_EMPTY, _EMPTY): " ",
    (_BODY, _BODY): "█",
    (_BODY, _EMPTY): "▀",
    (_EMPTY, _BODY): "▄",
    (_WICK, _WICK): "│",
    (_WICK, _EMPTY): "╹",
    (_EMPTY, _WICK): "╻",
    (_BODY, _WICK): "▀",
    (_WICK, _BODY): "▄",
}
VOLUME_CHARS = " ▁▂▃▄▅▆▇█"

# Intervals the time axis may label, in ms (candle boundaries are crossed at these).
_TIME_STEPS_MS = tuple(
    m * 60_000
    for m in (1, 5, 15, 30, 60, 120, 240, 360, 720, 1440, 2880, 10_080, 20_160, 40_320,
              131_040, 262_080, 524_160)  # ... 4 weeks, 13 weeks, 26 weeks, 52 weeks
)
_DAY_MS = 86_400_000
_MONTH_MS = 40_320 * 60_000  # steps longer than 4 weeks label months
_MIN_LABEL_GAP = 10  # columns between time labels at least
_LABEL_ROWS = 3  # rows between price labels, about
_SLACK_STEPS = 2  # grid steps a kept scale may be wider than a fresh one, each side


@dataclass(frozen=True, slots=True)
class PriceScale:
    """Maps prices to sub-rows of the candle area (``2 * rows`` of them, 0 at the top).

    With ``log`` the rows are even in the logarithm of the price (equal percentage moves are
    equal heights); :meth:`position` is the one place a price becomes a height, so candles,
    overlays, marks, axis labels and the last-price marker all map the same way.
    """

    lo: float
    hi: float
    rows: int
    log: bool = False

    def position(self, price: float) -> float:
        """How far down the scale ``price`` is: 0 at ``hi``, 1 at ``lo`` (outside: beyond)."""
        if self.log:
            if price <= 0:
                return math.inf
            return math.log(self.hi / price) / math.log(self.hi / self.lo)
        return (self.hi - price) / (self.hi - self.lo)

    def price_at(self, position: float) -> float:
        """The price at ``position`` (the inverse of :meth:`position`)."""
        if self.log:
            return self.hi * (self.lo / self.hi) ** position
        return self.hi - position * (self.hi - self.lo)

    def sub_row(self, price: float) -> int:
        subs = 2 * self.rows
        frac = self.position(price)
        if frac != frac or frac == math.inf:  # NaN, or a non-positive price on a log scale
            return subs - 1
        return min(subs - 1, max(0, int(frac * subs)))

    def row(self, price: float) -> int:
        return self.sub_row(price) // 2

    def price_at_row(self, row: int) -> float:
        """The price in the middle of ``row``."""
        return self.price_at((row + 0.5) / self.rows)

    def contains(self, price: float) -> bool:
        return self.lo <= price <= self.hi


def make_scale(
    candles: Sequence[Candle],
    rows: int,
    extra: Sequence[float] = (),
    *,
    log: bool = False,
    previous: PriceScale | None = None,
) -> PriceScale:
    """A scale covering the candles' lows and highs (and the ``extra`` prices: overlays, price
    lines), snapped outward to a grid of about a twentieth of the range, so small moves of the
    last price leave it unchanged. ``log``: a logarithmic scale, if every price is positive
    (else a linear one).

    ``previous`` (the scale drawn last) is kept while it still covers every price and is at
    most :data:`_SLACK_STEPS` grid steps wider than the fresh one: a last price wobbling
    across a grid line then rescales the chart once, not on every crossing (a rescale redraws
    every column of the chart, the costliest frame there is)."""
    lo = min(min(c.low for c in candles), *extra) if extra else min(c.low for c in candles)
    hi = max(max(c.high for c in candles), *extra) if extra else max(c.high for c in candles)
    span = hi - lo
    if span <= 0:
        span = abs(hi) * 0.002 or 1.0
    grid = nice_step(span, 20)
    lo_s = math.floor(lo / grid) * grid
    hi_s = math.ceil(hi / grid) * grid
    if hi_s - lo_s < span:  # rounding in floor/ceil of an exact multiple
        hi_s += grid
    if hi_s == lo_s:
        lo_s, hi_s = lo_s - grid, hi_s + grid
    if log and lo > 0:
        if lo_s <= 0:  # the grid reaches zero: snap the low end on a finer one
            fine = nice_step(lo, 20)
            lo_s = math.floor(lo / fine) * fine or lo
        fresh = PriceScale(lo_s, hi_s, rows, True)
    else:
        fresh = PriceScale(lo_s, hi_s, rows)
    if (
        previous is not None
        and (previous.rows, previous.log) == (rows, fresh.log)
        and previous.lo <= lo
        and hi <= previous.hi
        and previous.lo >= fresh.lo - _SLACK_STEPS * grid
        and previous.hi <= fresh.hi + _SLACK_STEPS * grid
    ):
        return previous
    return fresh


def candle_column(candle: Candle, scale: PriceScale) -> tuple[str, ...]:
    """The characters of one candle, top to bottom, ``scale.rows`` long."""
    subs = [_EMPTY] * (2 * scale.rows)
    for i in range(scale.sub_row(candle.high), scale.sub_row(candle.low) + 1):
        subs[i] = _WICK
    top = scale.sub_row(max(candle.open, candle.close))
    bottom = scale.sub_row(min(candle.open, candle.close))
    for i in range(top, bottom + 1):
        subs[i] = _BODY
    return tuple(HALF_CHARS[(subs[2 * r], subs[2 * r + 1])] for r in range(scale.rows))


def nice_ceiling(value: float) -> float:
    """The smallest 1/2/5 x 10^k not below ``value`` (volume scale: changes rarely)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for mult in (1, 2, 5, 10):
        if value <= mult * magnitude * (1 + 1e-12):
            return mult * magnitude
    return 10 * magnitude


def volume_column(volume: float, vmax: float, rows: int) -> tuple[str, ...]:
    """Eighth-block bar of ``volume`` against ``vmax``, top to bottom, ``rows`` long."""
    eighths = round(volume / vmax * rows * 8) if vmax > 0 else 0
    if volume > 0:
        eighths = max(1, eighths)
    cells = []
    for r in range(rows - 1, -1, -1):  # r counts from the bottom
        fill = min(8, max(0, eighths - 8 * r))
        cells.append(VOLUME_CHARS[fill])
    return tuple(cells)


def _on_tick(step: float, tick: float | None) -> float:
    """``step`` grown to a multiple of the market's ``tick`` (0.25 on a 0.1 tick -> 0.3)."""
    if tick is not None and tick > 0:
        units = step / tick
        if abs(units - round(units)) > 1e-9 * units or units < 1:
            step = round(max(1, math.ceil(units - 1e-9)) * tick, step_decimals(tick))
    return step


def axis_labels(scale: PriceScale, tick: float | None = None) -> dict[int, str]:
    """Row -> label for round prices inside the scale (about one label every 3 rows). With the
    market's ``tick`` the labels are prices on its grid: a step finer than it, or not a multiple
    of it (0.25 on a 0.1 tick), grows to the next multiple of the tick."""
    if scale.log:
        return _log_axis_labels(scale, tick)
    step = _on_tick(nice_step(scale.hi - scale.lo, max(1, scale.rows // 3)), tick)
    decimals = step_decimals(step)
    labels: dict[int, str] = {}
    price = math.ceil(scale.lo / step) * step
    while price <= scale.hi + step * 1e-9:
        row = scale.row(price)
        labels.setdefault(row, f"{price:.{decimals}f}")
        price += step
    return labels


def _log_axis_labels(scale: PriceScale, tick: float | None) -> dict[int, str]:
    """Labels of a log scale: rows are even in percent, not in price, so the round step is
    chosen near each label (finer at the bottom) and labels keep at least a row between them."""
    labels: dict[int, str] = {}
    previous = -_LABEL_ROWS
    for r in range(0, scale.rows, _LABEL_ROWS):
        top = scale.price_at_row(max(0, r - 1))
        bottom = scale.price_at_row(min(scale.rows - 1, r + 1))
        step = _on_tick(nice_step(top - bottom, 1), tick)
        price = round(scale.price_at_row(r) / step) * step
        row = scale.row(price)
        if row - previous < 2 or not scale.contains(price) or row in labels:
            continue
        labels[row] = f"{price:.{step_decimals(step)}f}"
        previous = row
    return labels


def time_step_ms(column_ms: int) -> int:
    """The smallest label interval leaving at least ``_MIN_LABEL_GAP`` columns between labels
    (``column_ms``: the time one column shows, the timeframe times the zoom)."""
    for step in _TIME_STEPS_MS:
        if step >= column_ms * _MIN_LABEL_GAP:
            return step
    return _TIME_STEPS_MS[-1]


def time_axis(columns: Sequence[Candle | None], column_ms: int) -> str:
    """One line of time labels: a label where a candle crosses a round interval boundary.

    Labels never overlap (two columns at least between them). Intraday steps label times
    (``14:30``) and the first label of a new day with its date (``12-07``), so a view spanning
    days reads as dates; steps of a day or more label dates, steps of months ``2026-12``.
    """
    step = time_step_ms(column_ms)
    fmt = "%Y-%m" if step > _MONTH_MS else "%m-%d" if step >= _DAY_MS else "%H:%M"
    line = [" "] * len(columns)
    free_from = 0
    previous: int | None = None
    previous_day: int | None = None
    for x, candle in enumerate(columns):
        if candle is None:
            continue
        bucket = candle.open_time // step
        day = candle.open_time // _DAY_MS
        if previous is not None and bucket != previous and x >= free_from:
            when = datetime.fromtimestamp(candle.open_time / 1000, UTC)
            new_day = fmt == "%H:%M" and day != previous_day
            text = when.strftime("%m-%d" if new_day else fmt)
            if x + len(text) <= len(line):
                line[x : x + len(text)] = text
                free_from = x + len(text) + 2
        previous, previous_day = bucket, day
    return "".join(line)
