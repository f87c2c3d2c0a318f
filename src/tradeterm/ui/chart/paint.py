"""Colours and the decorated candle column: what one chart column looks like, cell by cell.

A column is composed from layers, bottom to top: the SMC zone bands and the crosshair column
(background colours), the candle (half blocks, wick and body), overlay dots (over empty and
wick cells, never over a body), and markers (signals beside the bar, fills at their price).
:func:`compose_column` is pure and its result depends only on its arguments, so the renderer
caches it by them: on a tick only the live column (and a moved crosshair) is recomposed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.style import Style

from tradeterm.ui.chart.glyphs import braille, dots, style
from tradeterm.ui.chart.overlays import BEAR_FVG, BEAR_OB, BULL_FVG, BULL_OB, EMA_PERIODS
from tradeterm.ui.themes import TradingColors, blend

BODY_CHARS = frozenset("█▀▄")
SIGNAL_GLYPHS = {("entry", "buy"): "▲", ("entry", "sell"): "▼", ("exit", "buy"): "×",
                 ("exit", "sell"): "×"}
FILL_GLYPH = "◆"
# Second and third EMA colours: TradingColors has one accent; these read on dark and light.
_EMA_EXTRA = ("#42a5f5", "#ab47bc")
_VWAP = "#ff9800"


@dataclass(frozen=True, slots=True)
class Palette:
    """Colour strings for every role on the chart, derived once per theme."""

    colors: TradingColors
    series: dict[str, str] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)
    cross: str = ""

    @classmethod
    def of(cls, c: TradingColors) -> Palette:
        ema = (c.accent, *_EMA_EXTRA)
        series = {f"ema_{n}": ema[i % len(ema)] for i, n in enumerate(EMA_PERIODS)}
        series |= {"vwap": _VWAP, "bb_upper": c.muted, "bb_lower": c.muted, "bb_middle": c.muted}
        zones = {
            BULL_OB: blend(c.up, c.background, 0.30),
            BEAR_OB: blend(c.down, c.background, 0.30),
            BULL_FVG: blend(c.up, c.background, 0.15),
            BEAR_FVG: blend(c.down, c.background, 0.15),
        }
        return cls(c, series, zones, blend(c.muted, c.background, 0.25))


# One overlay dot in a column: (dot row from the top of the candle area, series name, dotted).
Dot = tuple[int, str, bool]
# A zone band in a column: (top row, bottom row, zone kind).
Band = tuple[int, int, str]
# A marker: ("signal", kind, side) beside the bar, or ("fill", row, side) at its price.
Marker = tuple[str, str | int, str]


def compose_column(
    base: tuple[str, ...],
    up: bool,
    bar_rows: tuple[int, int],
    dots_: tuple[Dot, ...],
    bands: tuple[Band, ...],
    markers: tuple[Marker, ...],
    cross: bool,
    palette: Palette,
) -> tuple[tuple[str, ...], tuple[Style | None, ...]]:
    """Characters and styles of one column, top to bottom. ``bar_rows`` are the rows of the
    bar's high and low (signal markers go just outside them)."""
    c = palette.colors
    rows = len(base)
    chars = list(base)
    fg: list[str | None] = [None if ch == " " else (c.up if up else c.down) for ch in base]
    bg: list[str | None] = [palette.cross if cross else None] * rows
    bold = [False] * rows
    for top, bottom, kind in bands:
        for r in range(max(0, top), min(rows - 1, bottom) + 1):
            bg[r] = palette.zones[kind]
    bits = [0] * rows
    for quarter, name, dotted in dots_:
        r = quarter // 4
        if chars[r] in BODY_CHARS:
            continue
        if not bits[r]:
            fg[r] = palette.series[name]
        bits[r] |= dots(quarter % 4, dotted)
        chars[r] = braille(bits[r])
    high_row, low_row = bar_rows
    above, below = high_row - 1, low_row + 1
    for kind, where, side in markers:
        if kind == "fill":
            r = int(where)
            chars[r], fg[r], bold[r] = FILL_GLYPH, c.up if side == "buy" else c.down, True
            continue
        glyph = SIGNAL_GLYPHS[(str(where), side)]
        color = c.accent if where == "exit" else (c.up if side == "buy" else c.down)
        if side == "buy":  # below the bar, stacking downwards
            r, below = min(rows - 1, below), below + 1
        else:
            r, above = max(0, above), above - 1
        chars[r], fg[r], bold[r] = glyph, color, True
    styles = tuple(
        style(f, b, o) if (f or b) else None for f, b, o in zip(fg, bg, bold, strict=True)
    )
    return tuple(chars), styles
