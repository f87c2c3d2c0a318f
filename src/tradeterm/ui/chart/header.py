"""The chart's header line: symbol, timeframe, OHLCV, crosshair price, overlay legend, flags.

Pieces are ``(text, role)`` pairs grouped by importance, so a narrow terminal drops the least
important groups (O, H, L first) instead of cutting the line mid-number.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tradeterm.core.display import fmt_pct
from tradeterm.core.models import Candle
from tradeterm.ui.chart.glyphs import style
from tradeterm.ui.chart.overlays import BOLLINGER
from tradeterm.ui.chart.paint import Palette
from tradeterm.ui.fmt import fmt_price, fmt_size

Group = tuple[int, list[tuple[str, str]]]  # (display position, pieces)


def header_text(
    symbol: str, timeframe: str, candle: Candle | None, tick: Decimal | None = None,
    step: Decimal | None = None,
) -> list[tuple[str, str]]:
    """(text, role) pieces of the header line; roles: title, label, up, down, plain. Prices on
    ``tick`` and the volume on the lot ``step`` when known."""
    parts: list[tuple[str, str]] = [(f" {symbol} {timeframe} ", "title")]
    if candle is None:
        return parts
    role = "up" if candle.close >= candle.open else "down"
    change = (candle.close / candle.open - 1) * 100 if candle.open else 0.0
    for label, value in (("O", candle.open), ("H", candle.high), ("L", candle.low)):
        parts += [(f" {label} ", "label"), (fmt_price(value, tick), "plain")]
    parts += [(" C ", "label"), (fmt_price(candle.close, tick), role),
              (f" {fmt_pct(change, signed=True)}%", role)]
    parts += [(" V ", "label"), (fmt_size(candle.volume, 10, step), "plain")]
    return parts


def header_parts(
    symbol: str,
    timeframe: str,
    candle: Candle | None,
    *,
    cursor_price: float | None = None,
    legend: Sequence[tuple[str, str]] = (),
    per_column: int = 1,
    history: bool = False,
    tick: Decimal | None = None,
    step: Decimal | None = None,
) -> list[Group]:
    """The header as (display position, (text, role) pieces) groups, most important first: a
    narrow terminal keeps the first groups only. Roles: title, label, plain, up, down, accent,
    or a colour (``#rrggbb``) for legend entries."""
    parts = header_text(symbol, timeframe, candle, tick, step)
    title = parts[:1]
    if per_column > 1:
        title = [*title, (f"×{per_column} ", "label")]
    groups = [(0, title), (2, parts[7:])]  # C and V before the legend, O, H, L last
    if history:
        groups.append((5, [("  history (0 = live)", "accent")]))
    if cursor_price is not None:
        groups.append((3, [(" @ ", "label"), (fmt_price(cursor_price, tick), "accent")]))
    if legend:
        groups.append((4, [(" ", "plain"), *legend]))
    groups.append((1, parts[1:7]))
    return groups


def legend_parts(series_names: Sequence[str], smc: bool, palette: Palette) -> list[tuple[str, str]]:
    """``EMA 9 21 50  BB 20 2  VWAP  SMC`` with each entry in its line's colour."""
    out: list[tuple[str, str]] = []
    emas = [n for n in series_names if n.startswith("ema_")]
    if emas:
        out.append((" EMA", "label"))
        out += [(f" {n[4:]}", palette.series[n]) for n in emas]
    if "bb_upper" in series_names:
        out.append((f" BB {BOLLINGER[0]} {BOLLINGER[1]:g}", palette.series["bb_upper"]))
    if "vwap" in series_names:
        out.append((" VWAP", palette.series["vwap"]))
    if smc:
        out.append((" SMC", palette.colors.up))
    return out


def header_strip(groups: list[Group], roles: dict[str, Style], width: int) -> Strip:
    """The header groups that fit ``width`` (in priority order), shown in display order.
    ``roles`` maps role names to styles; any other role is a colour."""
    kept: list[Group] = []
    used = 0
    for position, pieces in groups:
        size = sum(len(text) for text, _ in pieces)
        if used + size <= width or not kept:
            kept.append((position, pieces))
            used += size
    segments = [
        Segment(text, roles.get(role) or style(role))
        for _, pieces in sorted(kept, key=lambda g: g[0])
        for text, role in pieces
    ]
    return Strip(segments).crop_extend(0, width, None)
