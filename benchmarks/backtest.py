"""Backtest runner speed on 1,000,000 generated one-minute bars, and results on real candles.

    uv run python benchmarks/backtest.py [--bars 1000000] [--runs 3]

For ``ema_cross`` with its stop and target_1 (the issue's budget: well under a second), prints
the strategy's ``evaluate`` time, the event pass time, the total, bars per second, the number of
trades and the final balance, for two accounts:

- ``paper defaults``: the ``[paper]``/``[risk]`` defaults (0.1 % taker fees, 1 tick slippage):
  the account shrinks, so later entries fall under the 5 USDT minimum notional and are skipped;
- ``no costs``: fees and slippage 0, so (almost) every signal becomes a trade: the heaviest case
  for the event pass.

Times are the best of ``--runs`` (the least disturbed by other load). Where ``../shared/data``
exists it also backtests ``confluence`` and ``smc_order_blocks`` on the real BTC/USDT candles.
vectorbt and backtesting.py are not project dependencies; when importable they are named, not
run (a side-by-side on the same signals is future work).
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from decimal import Decimal
from pathlib import Path

import polars as pl

from tradeterm.backtest.metrics import result_metrics
from tradeterm.backtest.runner import BacktestConfig, rules_for, simulate
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.loader import load_directory

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def _best(fn, runs: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def speed(bars: int, runs: int) -> None:
    strategies = load_directory(ROOT / "strategies").strategies
    strategy = strategies["ema_cross"].cls()
    candles = synthetic_candles(bars, seed=1)
    t_eval, frame = _best(lambda: strategy.evaluate(candles), runs)
    rules = rules_for("BTC/USDT")
    accounts = {
        "paper defaults": BacktestConfig(rules=rules),
        "no costs": BacktestConfig(rules=rules, taker_fee=Decimal(0), maker_fee=Decimal(0),
                                   slippage_ticks=0),
    }
    print(f"ema_cross on {bars:,} generated 1m bars (best of {runs})")
    print(f"  evaluate: {t_eval * 1000:7.1f} ms")
    for label, cfg in accounts.items():
        t_pass, result = _best(lambda cfg=cfg: simulate(frame, cfg, 60_000, strategy="ema_cross"),
                               runs)
        total = t_eval + t_pass
        print(f"  {label:15s} event pass {t_pass * 1000:7.1f} ms, total {total * 1000:7.1f} ms, "
              f"{bars / total:,.0f} bars/s, {len(result.trades):,} trades, "
              f"final balance {result.final_balance:,.2f}, skipped {result.skipped}")
    for name in ("vectorbt", "backtesting"):
        found = importlib.util.find_spec(name) is not None
        print(f"  {name}: {'installed' if found else 'not installed'}")


def real(runs: int) -> None:
    files = sorted(SHARED.glob("binance_spot_BTCUSDT_1m_*.parquet"))
    if not files:
        return
    strategies = load_directory(ROOT / "strategies").strategies
    for path in files:
        frame = pl.read_parquet(path)
        if "timestamp_ms" in frame.columns:
            frame = frame.rename({"timestamp_ms": "open_time"})
        candles = frame.select("open_time", "open", "high", "low", "close", "volume").cast(
            {"open_time": pl.Int64, "open": pl.Float64, "high": pl.Float64, "low": pl.Float64,
             "close": pl.Float64, "volume": pl.Float64}
        )
        rules = rules_for("BTC/USDT")
        accounts = {"paper": BacktestConfig(rules=rules),
                    "no costs": BacktestConfig(rules=rules, taker_fee=Decimal(0),
                                               maker_fee=Decimal(0), slippage_ticks=0)}
        for name, (label, cfg) in (
            (n, a) for n in ("confluence", "smc_order_blocks", "ema_cross") for a in accounts.items()
        ):
            evaluated = strategies[name].cls().evaluate(candles)
            result = simulate(evaluated, cfg, 60_000, strategy=name, symbol="BTC/USDT")
            m = result_metrics(result)
            s = m.stats
            pf = f"{s.profit_factor:.2f}" if s.profit_factor is not None else "-"
            wr = f"{s.win_rate * 100:.1f} %" if s.win_rate is not None else "-"
            print(f"  {path.name[13:36]} {name:17s} {label:8s} {s.trades:5d} trades, win {wr:>7s}, "
                  f"PF {pf:>5s}, max DD {m.drawdown.depth_pct:5.2f} %, "
                  f"return {m.return_pct:6.2f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-real", action="store_true", help="skip the real-candle backtests")
    args = parser.parse_args()
    speed(args.bars, args.runs)
    if not args.no_real:
        print("real BTC/USDT candles (../shared/data): paper defaults, and without costs")
        real(args.runs)


if __name__ == "__main__":
    main()
