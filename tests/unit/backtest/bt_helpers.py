"""Hand-built signal frames for the backtest runner tests: every price is chosen so the
expected fills, fees and PnL can be worked out on paper."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
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


BAR_MS = 900_000  # fifteen minutes: a few thousand bars span weeks of daily limits


def random_frame(seed: int, n: int, *, entry_p: float = 0.06, exit_p: float = 0.04,
                 stop_pct: tuple[float, float] = (0.002, 0.02), with_entry: bool = False
                 ) -> pl.DataFrame:
    """Random-walk 15-minute candles on a 0.01 grid with gaps, and random signals: stops and
    targets at random distances, some missing or on the wrong side, some bars with both sides."""
    rng = np.random.default_rng(seed)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.004, n))), 2)
    gap = rng.random(n) < 0.05
    open_ = np.round(np.where(gap, close * (1 + rng.normal(0, 0.01, n)),
                              np.roll(close, 1)), 2)
    open_[0] = 100.0
    high = np.round(np.maximum(open_, close) * (1 + rng.exponential(0.003, n)), 2)
    low = np.round(np.minimum(open_, close) * (1 - rng.exponential(0.003, n)), 2)
    long = rng.random(n) < entry_p
    short = rng.random(n) < entry_p
    sign = np.where(long, 1.0, -1.0)
    risk = close * rng.uniform(*stop_pct, n)
    stop = close - sign * risk
    stop[rng.random(n) < 0.05] = np.nan
    wrong = rng.random(n) < 0.05
    stop[wrong] = close[wrong] + sign[wrong] * risk[wrong]
    target = close + sign * risk * rng.uniform(0.5, 3.0, n)
    target[rng.random(n) < 0.2] = np.nan
    columns = {
        "open_time": START + np.arange(n, dtype=np.int64) * BAR_MS,
        "open": open_, "high": high, "low": low, "close": close, "volume": np.ones(n),
        "entry_long": long, "entry_short": short,
        "exit_long": rng.random(n) < exit_p, "exit_short": rng.random(n) < exit_p,
        "stop": np.where(long | short, stop, np.nan),
        "target_1": np.where(long | short, target, np.nan),
    }
    if with_entry:  # the signal's own reference price, sometimes missing (the close then)
        entry = np.round(close * (1 + rng.normal(0, 0.001, n)), 2)
        columns["entry"] = np.where(rng.random(n) < 0.3, np.nan, entry)
    return pl.DataFrame(columns).with_columns(
        pl.col("stop").fill_nan(None), pl.col("target_1").fill_nan(None))


def one_price_path(frame: pl.DataFrame) -> pl.DataFrame:
    """Lower-timeframe candles: each bar walked open -> low -> high -> close (bearish: high
    first) as one-price one-minute bars."""
    o, h, low, c = (frame[k].to_numpy() for k in ("open", "high", "low", "close"))
    bull = c >= o
    path = np.column_stack((o, np.where(bull, low, h), np.where(bull, h, low), c)).ravel()
    times = (frame["open_time"].to_numpy()[:, None] + np.arange(4) * 60_000).ravel()
    return pl.DataFrame({"open_time": times, "open": path, "high": path, "low": path,
                         "close": path, "volume": np.ones(path.size)})
