"""Analysis-layer speed against its budgets, and mark counts on real candles.

    uv run --extra test python benchmarks/indicators.py [--bars 1000000]

Prints, on generated 1-minute candles:
- the default indicator set (``add_default_indicators``) against the same TA-Lib calls made
  directly (budget: 2x);
- candlestick patterns (``add_patterns``: detection and strength) against TA-Lib's own CDL
  functions for the same patterns (budget: 2x);
- Smart Money Concepts detection (``smc`` and ``add_smc``; budget 1 s on 1,000,000 bars);
- the ``confluence`` strategy evaluated at a candle close on a 5,000-bar frame (budget 20 ms);
and, where ``../shared/data`` exists (development machines only), the count of each SMC mark
and candlestick pattern per 10,000 bars of real Binance candles.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import talib

from tradeterm.indicators import (
    CANDLE_SCHEMA,
    PATTERNS,
    add_default_indicators,
    add_patterns,
    add_smc,
    smc,
    synthetic_candles,
)

SHARED = next((p for p in (Path(__file__).resolve().parents[i] / "shared" / "data" for i in (2, 3))
               if p.is_dir()), Path(__file__).resolve().parents[2] / "shared" / "data")


def best_of(fn: Callable[[], object], runs: int = 5) -> float:
    """Best wall time of ``runs`` calls, in seconds (the least disturbed by other load)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def talib_direct(frame: pl.DataFrame) -> None:
    """The TA-Lib calls behind the default set, on ready numpy arrays (the reference speed)."""
    o, h, l, c, v = (frame[name].to_numpy() for name in ("open", "high", "low", "close", "volume"))
    for n in (9, 21, 50, 200):
        talib.EMA(c, n)
    talib.SMA(c, 20)
    talib.RSI(c, 14)
    talib.MACD(c, 12, 26, 9)
    talib.ATR(h, l, c, 14)
    talib.BBANDS(c, 20, 2.0, 2.0)
    talib.STOCH(h, l, c, 14, 3, 0, 3, 0)
    talib.ADX(h, l, c, 14)
    talib.OBV(c, v)


def speed(bars: int) -> None:
    frame = synthetic_candles(bars, seed=1)
    print(f"on {bars:,} generated 1m bars (best of 5):")
    direct = best_of(lambda: talib_direct(frame))
    ours = best_of(lambda: add_default_indicators(frame))
    print(f"  default indicator set   {ours * 1e3:8.1f} ms   TA-Lib direct {direct * 1e3:.1f} ms"
          f"   ratio {ours / direct:.2f}x (budget 2x)")
    o, h, l, c = (frame[name].to_numpy() for name in ("open", "high", "low", "close"))
    cdl = sorted({p.talib_function for p in PATTERNS})
    talib_patterns = best_of(lambda: [getattr(talib, fn)(o, h, l, c) for fn in cdl])
    patterns = best_of(lambda: add_patterns(frame))
    print(f"  candlestick patterns    {patterns * 1e3:8.1f} ms   TA-Lib's {len(cdl)} CDL functions "
          f"{talib_patterns * 1e3:.1f} ms   ratio {patterns / talib_patterns:.2f}x (budget 2x; "
          f"{len(PATTERNS)} columns with strengths)")
    print(f"  SMC smc() event tables  {best_of(lambda: smc(frame), 3) * 1e3:8.1f} ms   (budget 1000 ms)")
    print(f"  SMC add_smc() columns   {best_of(lambda: add_smc(frame), 3) * 1e3:8.1f} ms   (budget 1000 ms)")


def confluence_at_close() -> None:
    """One live evaluation of ``confluence`` as the engine does it at a candle close: the
    closed candles become a frame, then ``evaluate`` runs on its 5,000 bars."""
    from tradeterm.core.models import Candle
    from tradeterm.indicators import candles_frame
    from tradeterm.strategy.loader import load_directory

    strategies_dir = Path(__file__).resolve().parents[1] / "strategies"
    loaded = load_directory(strategies_dir).strategies.get("confluence")
    if loaded is None:
        print("  confluence strategy not found in strategies/")
        return
    frame = synthetic_candles(5_000, seed=2)
    candles = tuple(Candle(*row) for row in frame.iter_rows())
    instance = loaded.cls()
    evaluate = best_of(lambda: instance.evaluate(frame), 20)
    with_frame = best_of(lambda: instance.evaluate(candles_frame(candles)), 20)
    print(f"  confluence at a close, 5,000 bars: evaluate {evaluate * 1e3:.1f} ms, "
          f"with the frame built from candles {with_frame * 1e3:.1f} ms   (budget 20 ms)")


def real_counts() -> None:
    files = sorted(SHARED.glob("binance_spot_*_1m_*.parquet")) + sorted(
        SHARED.glob("binance_spot_*_5m_*.parquet")
    )
    if not files:
        print("(no ../shared/data here: real-data counts skipped)")
        return
    print("marks per 10,000 bars of real Binance candles:")
    pattern_cols = [p.column for p in PATTERNS]
    for path in files:
        raw = pl.read_parquet(path).rename({"timestamp_ms": "open_time"}, strict=False)
        frame = raw.select(pl.col(name).cast(kind) for name, kind in CANDLE_SCHEMA.items())
        per = 10_000 / frame.height
        marks = smc(frame)
        kinds = marks.structure["kind"]
        counts = {
            "swings": marks.swings.height,
            "BOS": int((kinds == "bos").sum()),
            "CHoCH": int((kinds == "choch").sum()),
            "OB": marks.order_blocks.height,
            "FVG": marks.fvgs.height,
            "sweeps": marks.sweeps.height,
        }
        pats = add_patterns(frame).select(pattern_cols)
        for col in pattern_cols:
            counts[col.removeprefix("cdl_")] = int((pats[col].fill_null(0) != 0).sum())
        text = "  ".join(f"{k} {v * per:.0f}" for k, v in counts.items())
        name = path.stem.removeprefix("binance_spot_")
        print(f"  {name:<40} {frame.height:>7,} bars: {text}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=1_000_000)
    args = parser.parse_args()
    np.random.seed(0)
    speed(args.bars)
    confluence_at_close()
    real_counts()


if __name__ == "__main__":
    main()
