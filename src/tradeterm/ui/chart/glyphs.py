"""Glyphs and styles shared by the chart and the indicator pane.

Lines are drawn with Braille dots: a cell holds four dot rows, so a line has four times the
row resolution (twice the candles' half blocks), and several lines crossing one cell merge into
one character by OR-ing their dots. A solid line lights both dots of a dot row, a dotted one
only the left dot.
"""

from __future__ import annotations

from functools import lru_cache

from rich.style import Style

BRAILLE_BASE = 0x2800
SOLID_DOTS = (0x09, 0x12, 0x24, 0xC0)  # dot row 0..3 (top to bottom), both columns
DOTTED_DOTS = (0x01, 0x02, 0x04, 0x40)  # left column only


def dots(quarter: int, dotted: bool = False) -> int:
    """Braille bits of a line at dot row ``quarter`` (0-3) of a cell."""
    return (DOTTED_DOTS if dotted else SOLID_DOTS)[quarter]


def braille(bits: int) -> str:
    return chr(BRAILLE_BASE + bits)


def quarter_row(value: float, lo: float, hi: float, rows: int) -> int | None:
    """Dot row (0 = top, ``4 * rows - 1`` = bottom) of ``value``, None outside [lo, hi]."""
    if not lo <= value <= hi or hi <= lo:  # also False for NaN
        return None
    return min(4 * rows - 1, int((hi - value) / (hi - lo) * 4 * rows))


@lru_cache(maxsize=512)
def style(color: str | None = None, bgcolor: str | None = None, bold: bool = False) -> Style:
    """One shared Style per combination: equal cells get the identical object, which lets the
    renderers join runs of cells by identity."""
    return Style(color=color, bgcolor=bgcolor, bold=bold or None)
