"""Turn the last row of an evaluated frame into :class:`Signal` values.

Only the last row is read: it is the bar that just closed. Each true entry/exit column is one
signal; side is the order side it asks for (an exit of a long sells).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from tradeterm.core.models import Side, Signal, SignalKind
from tradeterm.strategy.api import CONFIDENCE_COLUMN, REASON_SEPARATOR, REASONS_COLUMN

SIGNAL_COLUMNS: tuple[tuple[str, SignalKind, Side], ...] = (
    ("entry_long", "entry", "buy"),
    ("entry_short", "entry", "sell"),
    ("exit_long", "exit", "sell"),
    ("exit_short", "exit", "buy"),
)


def split_reasons(text: str | None) -> tuple[str, ...]:
    """``"ema9>ema21; close>ema200"`` -> ``("ema9>ema21", "close>ema200")``."""
    if not text:
        return ()
    return tuple(part.strip() for part in text.split(REASON_SEPARATOR) if part.strip())


def _price(row: dict[str, Any], column: str) -> float | None:
    value = row.get(column)
    if value is None or value != value:  # null or NaN: not given
        return None
    return float(value)


def last_bar_signals(
    evaluated: pl.DataFrame, strategy: str, symbol: str, timeframe: str,
    scale_out: tuple[float, ...] = (),
) -> list[Signal]:
    """The signals of ``evaluated``'s last row (an already normalised ``evaluate`` output).
    ``scale_out``: the strategy's shares; an entry then carries (target_i, share) per leg,
    ``target_i`` None where the row has none (the leg rides to the stop or an exit)."""
    if evaluated.is_empty():
        return []
    row = evaluated.row(-1, named=True)
    close = float(row["close"])
    confidence = _price(row, CONFIDENCE_COLUMN)
    reasons = split_reasons(row.get(REASONS_COLUMN))
    out = []
    for column, kind, side in SIGNAL_COLUMNS:
        if not row[column]:
            continue
        entry = kind == "entry"
        targets = tuple(
            t for c in ("target_1", "target_2", "target_3") if (t := _price(row, c)) is not None
        )
        out.append(
            Signal(
                strategy=strategy,
                symbol=symbol,
                timeframe=timeframe,
                bar_time=int(row["open_time"]),
                kind=kind,
                side=side,
                entry=(_price(row, "entry") or close) if entry else close,
                stop=_price(row, "stop") if entry else None,
                targets=targets if entry else (),
                confidence=confidence if confidence is not None else 0.0,
                reasons=reasons,
                scale_out=tuple(
                    (_price(row, f"target_{i + 1}"), float(share))
                    for i, share in enumerate(scale_out)
                ) if entry else (),
            )
        )
    return out
