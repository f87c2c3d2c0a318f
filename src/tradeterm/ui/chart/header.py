"""The chart's header: symbol, timeframe, the bar's readout (time, O, H, L, C, V), the overlay
legend, flags (zoom, log scale, history) and the crosshair's price.

The readout is what a trader reads the chart with, so it is never dropped: a narrow chart
abbreviates it instead, in :data:`READOUT_LEVELS` steps (the change % goes, then the volume
becomes ``26.1K``, the date goes from the time, the labels lose their space, prices keep five
significant digits), and the symbol shrinks (``BTC``) or goes before any readout field does.
The legend folds to a second header line instead of vanishing when the first one is full.

The layout (:func:`plan_header`) is chosen from widths *reserved* for the widest prices in
view, not from the bar under the crosshair, so moving the crosshair never changes the number
of header lines (which would move the candle area under the mouse).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tradeterm.core.display import fmt_pct, places_of
from tradeterm.core.display import fmt_price as display_price
from tradeterm.core.models import Candle
from tradeterm.ui.chart.glyphs import style
from tradeterm.ui.chart.overlays import BOLLINGER
from tradeterm.ui.chart.paint import Palette
from tradeterm.ui.fmt import fmt_price, fmt_size

Piece = tuple[str, str]  # (text, role)

READOUT_LEVELS = 4  # 0: the most verbose readout ... 3: the most compact
SHORT_DIGITS = 4  # significant digits of an abbreviated price (never fewer integer digits)
_DAY_MS = 86_400_000
_PCT_WIDTH = len(" +100.00%")
_VOLUME_WIDTH = 10  # fmt_size's width for the full volume (at most)
_COMPACT_VOLUME_WIDTH = len("0.0123")
HISTORY_FLAG = "  history (0 = live)"


def compact_volume(volume: float) -> str:
    """A volume in at most 6 characters (from 0.001 up): ``9.088``, ``261.5``, ``26.1K``,
    ``1.23M``."""
    if volume < 999.5:
        return f"{volume:.4g}" if volume >= 1 else f"{volume:.3g}"
    for divisor, suffix in ((1e3, "K"), (1e6, "M"), (1e9, "G"), (1e12, "T")):
        scaled = volume / divisor
        if scaled < 999.5:
            return f"{scaled:.3g}{suffix}"
    return f"{volume:.2g}"


def short_tick(price: float, tick: Decimal | None) -> Decimal:
    """The grid an abbreviated price is shown on: :data:`SHORT_DIGITS` significant digits, never
    finer than the market's ``tick`` and never rounding the integer part (``65002.9`` on a 0.1
    tick -> ``65003``, ``100.19`` -> ``100.2``; ``99.99`` on 0.01 stays ``99.99``)."""
    exponent = math.floor(math.log10(abs(price))) if price else 0
    places = max(0, SHORT_DIGITS - 1 - exponent)
    grid = Decimal(1).scaleb(-places)
    if tick is not None and places_of(tick) is not None and tick >= grid:
        return tick  # a coarser tick than the abbreviation: the tick's grid already
    return grid


def bar_time(open_time: int, timeframe_ms: int, short: bool) -> str:
    """The bar's open time (UTC): ``12-07 14:30`` (short ``14:30``) for intraday bars,
    ``2026-12-07`` (short ``12-07``) for daily and longer ones."""
    when = datetime.fromtimestamp(open_time / 1000, UTC)
    if timeframe_ms >= _DAY_MS:
        return when.strftime("%m-%d" if short else "%Y-%m-%d")
    return when.strftime("%H:%M" if short else "%m-%d %H:%M")


@dataclass(frozen=True, slots=True)
class ReadoutFormat:
    """How one bar is read out at one abbreviation ``level`` (see the module docstring)."""

    level: int
    tick: Decimal | None
    step: Decimal | None
    timeframe_ms: int

    @property
    def _spaced(self) -> bool:
        return self.level < 2

    def price(self, value: float, short: Decimal | None) -> str:
        return display_price(value, short) if self.level >= 3 else fmt_price(value, self.tick)

    def volume(self, value: float) -> str:
        return fmt_size(value, _VOLUME_WIDTH, self.step) if self.level == 0 else compact_volume(value)

    def time(self, open_time: int) -> str:
        return bar_time(open_time, self.timeframe_ms, short=self.level >= 2)

    def label(self, name: str) -> str:
        return f" {name} " if self._spaced else f" {name}"

    def pieces(self, candle: Candle) -> list[Piece]:
        """``(text, role)`` pieces: time, O, H, L, C (and the change % at level 0), V."""
        role = "up" if candle.close >= candle.open else "down"
        short = short_tick(candle.high, self.tick) if self.level >= 3 else None
        parts: list[Piece] = [(" " + self.time(candle.open_time), "label")]
        for name, value in (("O", candle.open), ("H", candle.high), ("L", candle.low)):
            parts += [(self.label(name), "label"), (self.price(value, short), "plain")]
        parts += [(self.label("C"), "label"), (self.price(candle.close, short), role)]
        if self.level == 0:
            change = (candle.close / candle.open - 1) * 100 if candle.open else 0.0
            parts.append((f" {fmt_pct(change, signed=True)}%", role))
        parts += [(self.label("V"), "label"), (self.volume(candle.volume), "plain")]
        return parts

    def reserved(self, lo: float, hi: float, vmax: float = 1e9) -> int:
        """Width that any bar with prices in ``[lo, hi]`` and a volume up to ``vmax`` fits in
        (lays out the header)."""
        short = short_tick(hi, self.tick) if self.level >= 3 else None
        price = max(len(self.price(lo, short)), len(self.price(hi, short)))
        labels = 5 * len(self.label("O"))
        volume = len(self.volume(vmax)) if self.level == 0 else _COMPACT_VOLUME_WIDTH
        width = 1 + len(self.time(0)) + labels + 4 * price + volume
        return width + (_PCT_WIDTH if self.level == 0 else 0)


def header_text(
    symbol: str, timeframe: str, candle: Candle | None, tick: Decimal | None = None,
    step: Decimal | None = None, timeframe_ms: int = 60_000, level: int = 0,
) -> list[Piece]:
    """(text, role) pieces of a one-line header: title and, with a ``candle``, its readout at
    abbreviation ``level``. Roles: title, label, up, down, plain."""
    parts: list[Piece] = [(f" {symbol} {timeframe} ", "title")]
    if candle is not None:
        parts += ReadoutFormat(level, tick, step, timeframe_ms).pieces(candle)
    return parts


def title_variants(symbol: str, timeframe: str, flags: str) -> list[str]:
    """The title, longest first: ``BTC/USDT 1m``, ``BTC 1m``, then only the flags."""
    base = symbol.partition("/")[0]
    out = [f" {symbol} {timeframe}{flags}"]
    if base != symbol:
        out.append(f" {base} {timeframe}{flags}")
    out.append(flags)
    return out


@dataclass(frozen=True, slots=True)
class HeaderPlan:
    """What the header shows at one width: title variant, readout level, lines (1 to 3);
    ``title_below``: the title opens the second line (before the legend), the readout has the
    first to itself; ``wrap``: the readout itself wraps (a chart too narrow for it)."""

    title: int
    level: int
    lines: int
    title_below: bool = False
    wrap: bool = False
    reserved: int = 0  # the readout's reserved width (0: not known yet)


def plan_header(
    width: int,
    titles: Sequence[str],
    readout_widths: Sequence[int],
    extra: int,
    *,
    two_lines: bool,
) -> HeaderPlan:
    """The most verbose title and readout that fit ``width`` (the readout keeps every field).

    ``extra`` is the width of what follows (legend, history flag). In order of preference:
    all on one line, abbreviating the readout; the legend on a second line (if ``two_lines``);
    the title moved down to the legend's line; one line with a shorter title. Narrower than
    the most compact readout, the readout wraps onto the second line and what follows goes to
    a third (if allowed).
    """
    levels = range(len(readout_widths))
    last = len(readout_widths) - 1
    full = len(titles[0])
    if extra:
        for level in levels:
            if full + readout_widths[level] + extra <= width:
                return HeaderPlan(0, level, 1)
    if two_lines or not extra:
        for level in levels:
            if full + readout_widths[level] <= width:
                return HeaderPlan(0, level, 2 if extra else 1)
    if two_lines and extra:
        for level in levels:
            if readout_widths[level] <= width:
                title = next((t for t, text in enumerate(titles) if len(text) <= width), 0)
                return HeaderPlan(title, level, 2, title_below=True)
    for title in range(len(titles)):
        if len(titles[title]) + readout_widths[last] <= width:
            return HeaderPlan(title, last, 1)
    return HeaderPlan(0, last, (3 if extra else 2) if two_lines else 1, wrap=True)


def legend_parts(
    series_names: Sequence[str], smc: bool, palette: Palette, short: bool = False
) -> list[Piece]:
    """``EMA 9 21 50  BB 20 2  VWAP  SMC`` with each entry in its line's colour; ``short``:
    ``E 9 21 50 BB VW SMC``."""
    out: list[Piece] = []
    emas = [n for n in series_names if n.startswith("ema_")]
    if emas:
        out.append((" E" if short else " EMA", "label"))
        out += [(f" {n[4:]}", palette.series[n]) for n in emas]
    if "bb_upper" in series_names:
        text = " BB" if short else f" BB {BOLLINGER[0]} {BOLLINGER[1]:g}"
        out.append((text, palette.series["bb_upper"]))
    if "vwap" in series_names:
        out.append((" VW" if short else " VWAP", palette.series["vwap"]))
    if smc:
        out.append((" SMC", palette.colors.up))
    return out


def _width(pieces: Sequence[Piece]) -> int:
    return sum(len(text) for text, _ in pieces)


@dataclass(frozen=True, slots=True)
class HeaderInput:
    """Everything the header shows; :func:`header_lines` lays it out."""

    symbol: str
    timeframe: str
    candle: Candle | None
    timeframe_ms: int = 60_000
    tick: Decimal | None = None
    step: Decimal | None = None
    lo: float = 0.0  # the prices in view (the readout's reserved width)
    hi: float = 0.0
    vmax: float = 0.0  # the largest volume in view
    per_column: int = 1
    log: bool = False
    history: bool = False
    cursor_price: float | None = None
    legend: tuple[Piece, ...] = ()
    short_legend: tuple[Piece, ...] = ()


def _titles(h: HeaderInput) -> list[str]:
    flags = (f" ×{h.per_column}" if h.per_column > 1 else "") + (" log" if h.log else "")
    return title_variants(h.symbol, h.timeframe, flags)


def _formats(h: HeaderInput) -> list[ReadoutFormat]:
    return [ReadoutFormat(level, h.tick, h.step, h.timeframe_ms) for level in range(READOUT_LEVELS)]


def _history(h: HeaderInput) -> list[Piece]:
    return [(HISTORY_FLAG, "accent")] if h.history else []


def plan_for(h: HeaderInput, width: int, *, two_lines: bool) -> HeaderPlan:
    """The header's layout for ``width`` columns (:func:`plan_header` on ``h``'s widths)."""
    if h.candle is None:
        return HeaderPlan(0, 0, 1)
    extra = _width(h.legend) + _width(_history(h))
    widths = [f.reserved(h.lo, h.hi, h.vmax) for f in _formats(h)]
    plan = plan_header(width, _titles(h), widths, extra, two_lines=two_lines)
    return replace(plan, reserved=widths[plan.level])


def header_lines(h: HeaderInput, width: int, plan: HeaderPlan) -> list[list[Piece]]:
    """The header's ``plan.lines`` lines of ``(text, role)`` pieces for ``width`` columns."""
    titles = _titles(h)
    if h.candle is None:
        return [[(titles[0], "title")]]
    fmt = _formats(h)[plan.level]
    title: list[Piece] = [(titles[plan.title], "title")]
    first: list[Piece] = [*([] if plan.title_below else title), *fmt.pieces(h.candle)]
    reserved = plan.reserved or fmt.reserved(h.lo, h.hi, h.vmax)
    pad = _width(title) * (not plan.title_below) + reserved - _width(first)
    if pad > 0 and not plan.wrap:  # the legend stays put while the crosshair moves
        first.append((" " * pad, "plain"))
    if plan.wrap and plan.lines >= 2:
        lines = _wrap(first, width) + [[]] * (plan.lines - 2)
    elif plan.lines == 2:
        lines = [first, title if plan.title_below else []]
    else:
        lines = [first]
    rest = lines[-1]
    room = width - _width(rest)
    legend = list(h.legend)
    if legend and _width(legend) > room:
        legend = list(h.short_legend)
    cursor = [(" @ ", "label"), (fmt_price(h.cursor_price, h.tick), "accent")] \
        if h.cursor_price is not None else []
    for group in (_history(h), legend, cursor):
        if group and _width(group) <= room:
            rest += group
            room -= _width(group)
    return lines


def _wrap(pieces: list[Piece], width: int) -> list[list[Piece]]:
    """Title and readout on two lines: a field (label and value) is never split."""
    atoms: list[list[Piece]] = [pieces[:2]]  # title and time
    rest = pieces[2:]
    while rest:  # (label, value) pairs; the change % sticks to the close
        take = 3 if len(rest) > 2 and rest[2][0].endswith("%") else 2
        atoms.append(rest[:take])
        rest = rest[take:]
    lines: list[list[Piece]] = [[], []]
    line = 0
    for atom in atoms:
        if line == 0 and lines[0] and _width(lines[0]) + _width(atom) > width:
            line = 1
        lines[line] += atom
    return lines


def header_strip(pieces: Sequence[Piece], roles: dict[str, Style], width: int) -> Strip:
    """One header line, cropped or padded to ``width``. ``roles`` maps role names to styles;
    any other role is a colour."""
    segments = [Segment(text, roles.get(role) or style(role)) for text, role in pieces if text]
    return Strip(segments).crop_extend(0, width, None)
