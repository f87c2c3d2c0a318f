"""Hand-built signal frames for the backtest runner tests: every price is chosen so the
expected fills, fees and PnL can be worked out on paper."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from tradeterm.backtest.runner import BacktestConfig
from tradeterm.broker.rules import MarketRules

MINUTE = 60_000
HOUR = 3_600_000
START = 1_704_067_200_000  # 2024-01-01 00:00 UTC

RULES = MarketRules("TEST/USDT", tick=Decimal("0.01"), step=Decimal("0.001"))


def config(**overrides: object) -> BacktestConfig:
    values: dict[str, object] = {
        "rules": RULES,
        "starting_balance": Decimal(10000),
        "taker_fee": Decimal("0.001"),
        "maker_fee": Decimal("0.0005"),
        "slippage_ticks": 1,
        "risk_per_trade_pct": Decimal(1),
        "max_position_pct": Decimal(100),
        "max_position_quote": Decimal(1000000000),
        "daily_loss_limit_pct": Decimal(3),
    }
    values.update(overrides)
    return BacktestConfig(**values)  # type: ignore[arg-type]


def signal_frame(
    bars: list[tuple[float, float, float, float]],
    entries: dict[int, tuple[str, float, float | None]] | None = None,
    exits: dict[int, str] | None = None,
    interval_ms: int = MINUTE,
) -> pl.DataFrame:
    """A frame as ``Strategy.evaluate`` returns it: ``bars`` are (open, high, low, close);
    ``entries`` maps a bar to (long|short, stop, target_1); ``exits`` a bar to long|short."""
    entries, exits = entries or {}, exits or {}
    n = len(bars)
    return pl.DataFrame({
        "open_time": [START + i * interval_ms for i in range(n)],
        "open": [b[0] for b in bars], "high": [b[1] for b in bars],
        "low": [b[2] for b in bars], "close": [b[3] for b in bars],
        "volume": [1.0] * n,
        "entry_long": [entries.get(i, ("",))[0] == "long" for i in range(n)],
        "entry_short": [entries.get(i, ("",))[0] == "short" for i in range(n)],
        "exit_long": [exits.get(i) == "long" for i in range(n)],
        "exit_short": [exits.get(i) == "short" for i in range(n)],
        "stop": [entries[i][1] if i in entries else None for i in range(n)],
        "target_1": [entries[i][2] if i in entries else None for i in range(n)],
    }, schema_overrides={"stop": pl.Float64, "target_1": pl.Float64})
