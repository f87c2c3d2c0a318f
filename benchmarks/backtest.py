"""Backtest runner speed on 1,000,000 generated one-minute bars, and results on real candles.

    uv run python benchmarks/backtest.py [--bars 1000000] [--runs 3]

For ``ema_cross`` with its stop and target_1 (the issue's budget: well under a second), prints
the strategy's ``evaluate`` time, the event pass time (it returns the trades as exact integer
columns, the final balance, the skips and the equity curve), the total, bars per second, the
number of trades and the final balance, and what reading every trade costs afterwards: as one
polars frame of exact columns (``TradeTable.frame()``) and as ``BacktestTrade`` records (built
lazily, when something reads them), for two accounts:

- ``paper defaults``: the ``[paper]``/``[risk]`` defaults (0.1 % taker fees, 1 tick slippage):
  the account shrinks, so later entries fall under the 5 USDT minimum notional and are skipped;
- ``no costs``: fees and slippage 0, so (almost) every signal becomes a trade: the heaviest case
  for the event pass.

The first call in the process is timed apart: it loads the compiled walk from numba's cache (or,
once after an install, compiles it).

Times are the best of ``--runs`` (the least disturbed by other load). Where ``../shared/data``
exists it also backtests ``confluence`` and ``smc_order_blocks`` on the real BTC/USDT candles.

Side by side (``uv sync --extra bench`` installs them): vectorbt's ``Portfolio.from_signals``
and backtesting.py run on the same ``ema_cross`` signals (entries, exits, stop and target_1
of each signal bar), filled at the next bar's open like ours, without fees or slippage (so the
account never runs dry and the trade lists stay comparable to the end), and the same sizing
(5,000 USDT per trade: the backtester with ``risk_per_trade_pct = 100`` so the position cap
sizes every trade; vectorbt with the same quantity floored to the step; backtesting.py in whole
units). vectorbt gets the same absolute stop and target levels (see :func:`_vectorbt_inputs`
for how, and the two rules it cannot follow). Printed: bars per second (signals already
computed: the fill simulation only; vectorbt's inputs are prepared and its first call compiles
with numba before the clock starts; its trades are counted, which builds its trade records),
trades and final equity, for the cross-check; our row again with every trade read as a frame,
and with every trade record built. backtesting.py steps a Python ``next()`` per bar, so it runs on
the first ``--bt-bars`` bars (default 100,000) and the backtester's figures for that slice are
printed beside it. Then the like-for-like figure with the signals included:
``Strategy.evaluate`` + the event pass against the same strategy written with vectorbt's own
MA/ATR indicators + ``from_signals``.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl

from tradeterm.backtest.metrics import result_metrics
from tradeterm.backtest.runner import BacktestConfig, rules_for, simulate
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.loader import load_directory

ROOT = Path(__file__).resolve().parents[1]
SHARED = next((p for p in (ROOT.parent / "shared" / "data", ROOT.parents[1] / "shared" / "data")
               if p.is_dir()), ROOT.parent / "shared" / "data")
TRADE_VALUE = 5000
"""Quote per trade in the side-by-side (the ``[risk] max_position_quote`` default)."""


def _best(fn, runs: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _records(result) -> float:
    """Seconds to build every trade's ``BacktestTrade`` record (built lazily, on first read)."""
    t0 = time.perf_counter()
    for _ in result.trades:
        pass
    return time.perf_counter() - t0


def _frame(result) -> float:
    """Seconds to read every trade as columns: ``TradeTable.frame()`` (exact Decimal columns,
    one polars frame), and a pass over its PnL column."""
    t0 = time.perf_counter()
    frame = result.table.frame()
    frame.get_column("pnl").sum()
    return time.perf_counter() - t0


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
    t0 = time.perf_counter()
    simulate(frame.head(1000), accounts["no costs"], 60_000)
    first = time.perf_counter() - t0
    print(f"ema_cross on {bars:,} generated 1m bars (best of {runs})")
    print(f"  first call in this process (loads the compiled walk, or compiles it once after an "
          f"install): {first:.2f} s")
    print(f"  evaluate: {t_eval * 1000:7.1f} ms")
    for label, cfg in accounts.items():
        t_pass, result = _best(lambda cfg=cfg: simulate(frame, cfg, 60_000, strategy="ema_cross"),
                               runs)
        t_rec = _records(result)
        total = t_eval + t_pass
        print(f"  {label:15s} event pass {t_pass * 1000:6.1f} ms ({bars / t_pass / 1e6:5.1f} M "
              f"bars/s), with evaluate {total * 1000:6.1f} ms ({bars / total / 1e6:4.1f} M bars/s);"
              f" {len(result.trades):,} trades, final balance {result.final_balance:,.2f}; "
              f"building every trade record afterwards {t_rec * 1000:.0f} ms, every trade as a "
              f"frame {_frame(result) * 1000:.1f} ms; "
              f"skipped {result.skipped}")


def side_by_side(bars: int, bt_bars: int, runs: int) -> None:
    """The backtester, vectorbt and backtesting.py on the same ema_cross signals; then the
    backtester and vectorbt each computing the signals too (its own EMA/ATR indicators)."""
    missing = [n for n in ("vectorbt", "backtesting") if importlib.util.find_spec(n) is None]
    if missing:
        print(f"side by side: {', '.join(missing)} not installed "
              "(uv sync --extra bench, then uv run --extra bench python benchmarks/backtest.py)")
        return
    strategy = load_directory(ROOT / "strategies").strategies["ema_cross"].cls()
    candles = synthetic_candles(bars, seed=1)
    frame = strategy.evaluate(candles)
    rules = rules_for("BTC/USDT")
    cfg = BacktestConfig(rules=rules, risk_per_trade_pct=Decimal(100),
                         max_position_pct=Decimal(100), max_position_quote=Decimal(TRADE_VALUE),
                         daily_loss_limit_pct=Decimal(100),  # the others have no daily limit
                         taker_fee=Decimal(0), maker_fee=Decimal(0), slippage_ticks=0)
    print(f"side by side on the same ema_cross signals, {TRADE_VALUE:,} USDT per trade "
          f"(best of {runs}; signals already computed: the fill simulation only)")
    for label, part in ((f"{bars:,} bars", frame), (f"{bt_bars:,} bars", frame.head(bt_bars))):
        t, result = _best(lambda part=part: simulate(part, cfg, 60_000, strategy="ema_cross"),
                          runs)
        _row(f"tradeterm ({label})", part.height, t, len(result.trades),
             float(result.final_balance))
        _row(f"  + every trade as a frame ({label})", part.height, t + _frame(result),
             len(result.trades), float(result.final_balance))
        _row(f"  + every trade record ({label})", part.height, t + _records(result),
             len(result.trades), float(result.final_balance))
        t, (trades, equity) = _vectorbt(part, cfg, runs)
        _row(f"vectorbt ({label})", part.height, t, trades, equity)
        if part is not frame:
            t, (trades, equity) = _backtesting(part, cfg)
            _row(f"backtesting.py ({label})", part.height, t, trades, equity)
    print(f"signals included ({bars:,} bars): tradeterm's Strategy.evaluate, vectorbt's "
          "MA/ATR indicators (its own EMA and ATR: trade counts differ a little)")
    t, result = _best(lambda: simulate(strategy.evaluate(candles), cfg, 60_000,
                                       strategy="ema_cross"), runs)
    _row("tradeterm evaluate + pass", bars, t, len(result.trades), float(result.final_balance))
    t, (trades, equity) = _vectorbt_with_signals(candles, strategy, cfg, runs)
    _row("vectorbt indicators + sim", bars, t, trades, equity)


def _vectorbt_with_signals(candles: pl.DataFrame, strategy: object, cfg: BacktestConfig,
                           runs: int) -> tuple[float, object]:
    """ema_cross written with vectorbt's indicators, then the same simulation as
    :func:`_vectorbt`: the like-for-like figure against ``evaluate`` + the event pass."""
    import vectorbt as vbt

    p = strategy.params  # type: ignore[attr-defined]
    high, low, close = (candles.get_column(k).to_numpy() for k in ("high", "low", "close"))

    def signals() -> pl.DataFrame:
        fast, slow, trend = (vbt.MA.run(close, w, ewm=True).ma.to_numpy()
                             for w in (p.fast, p.slow, p.trend))
        risk = vbt.ATR.run(high, low, close, p.atr_n).atr.to_numpy() * p.stop_atr
        above = fast > slow
        was_above = np.roll(above, 1)
        was_above[0] = False
        up = close > trend
        long, short = above & ~was_above & up, ~above & was_above & ~up
        sign = np.where(long, 1.0, np.where(short, -1.0, np.nan))
        return candles.with_columns(
            pl.Series("entry_long", long), pl.Series("entry_short", short),
            pl.Series("exit_long", ~above & was_above), pl.Series("exit_short", above & ~was_above),
            pl.Series("stop", close - sign * risk), pl.Series("target_1", close + sign * risk))

    def run() -> tuple[int, float]:
        return _vectorbt_run(signals(), cfg)

    run()  # numba compiles on the first call
    return _best(run, runs)


def _row(label: str, bars: int, seconds: float, trades: int, equity: float) -> None:
    print(f"  {label:32s} {bars / seconds:14,.0f} bars/s {trades:7,d} trades "
          f"final equity {equity:12,.2f}")


def _signals(frame: pl.DataFrame, shift: int = 1) -> dict[str, np.ndarray]:
    """Per-bar arrays, shifted ``shift`` bars (default one: a signal at bar t's close acts at bar
    t+1's open); ``shift=0``: on the signal bar itself."""
    def shifted(name: str, fill: object) -> np.ndarray:
        col = frame.get_column(name)
        col = col.fill_null(fill) if fill is False else col.cast(pl.Float64)
        return col.shift(shift, fill_value=fill).to_numpy() if shift else col.to_numpy()

    return {k: shifted(k, False) for k in ("entry_long", "entry_short", "exit_long", "exit_short")
            } | {k: shifted(k, np.nan).astype(float) for k in ("stop", "target_1", "close")}


def _vectorbt(frame: pl.DataFrame, cfg: BacktestConfig, runs: int) -> tuple[float, object]:
    """vectorbt's simulation alone: its inputs are prepared before the clock starts."""
    inputs = _vectorbt_inputs(frame, cfg)
    _vectorbt_sim(inputs)  # numba compiles on the first call
    return _best(lambda: _vectorbt_sim(inputs), runs)


def _vectorbt_run(frame: pl.DataFrame, cfg: BacktestConfig) -> tuple[int, float]:
    return _vectorbt_sim(_vectorbt_inputs(frame, cfg))


def _vectorbt_sim(inputs: dict[str, object]) -> tuple[int, float]:
    """vectorbt's ``Portfolio.from_signals``: (trades, final value)."""
    import vectorbt as vbt

    pf = vbt.Portfolio.from_signals(**inputs)
    return int(pf.trades.count()), float(pf.final_value())


def _vectorbt_inputs(frame: pl.DataFrame, cfg: BacktestConfig) -> dict[str, object]:
    """The arguments of vectorbt's ``Portfolio.from_signals`` for an evaluated frame.

    Our rules in vectorbt's terms. vectorbt checks a stop only from the bar after the order's bar
    ("Stop signal cannot be processed at the same bar as the entry signal", ``StopExitPrice``),
    and ours already on the fill bar t+1; so the signals stay on their bar t and fill at
    ``price`` = bar t+1's open (the docs' advice for stops: ordinary signals at the close), and
    the stops are checked from bar t+1 on, against its own open/high/low, as ours. vectorbt's
    stops are fractions of a base price (``stop_entry_price``, default the order bar's close);
    ``StopEntryPrice.Price`` makes the base the fill (t+1's open), and the fractions are taken
    from it to the signal bar's ``stop``/``target_1`` on the tick, so the levels are absolute
    (0 when t+1 opens beyond a level: vectorbt then exits at that open, as ours). ``StopLimit``
    fills at the level, or at the open when the bar opens beyond it; the stop is checked before
    the target. The quantity is ours: 5,000 USDT at the signal bar's close, floored to the step;
    the entries our rules refuse (no stop, stop on the wrong side, long and short on one bar, no
    next bar) are dropped. What still differs: vectorbt makes one order per bar and a stop comes
    first, so an entry signal on the bar a stop or target exits is dropped (ours enters at the
    next open); a bar opening beyond the target fills vectorbt at that open, ours at the target
    (a resting limit)."""
    from decimal import Decimal

    import pandas as pd

    s = _signals(frame, shift=0)  # on the signal bar t: the fills are priced at t+1's open
    index = pd.to_datetime(frame.get_column("open_time").to_numpy(), unit="ms")
    open_, high, low, close = (frame.get_column(k).to_numpy().astype(float)
                               for k in ("open", "high", "low", "close"))
    tick, step = cfg.rules.tick, float(cfg.rules.step)
    per_tick = 1 / tick

    def on_tick(prices: np.ndarray) -> np.ndarray:  # as ``float(Decimal(ticks) * tick)``
        if per_tick == per_tick.to_integral_value():
            return np.rint(prices * float(per_tick)) / float(per_tick)
        return np.rint(prices / float(tick)) * float(tick)

    # market fills (the entry, an exit signal's, a stop gapped through) at the open on the tick
    open_, close = on_tick(open_), on_tick(close)
    fill = np.append(open_[1:], np.nan)  # bar t+1's open: the fill price of bar t's signals
    stop, target = on_tick(s["stop"]), on_tick(s["target_1"])
    long, short = s["entry_long"].astype(bool), s["entry_short"].astype(bool)
    ref = s["close"]  # the risk engine's reference price (the signal bar's close)
    side = np.where(long, 1.0, -1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (long ^ short) & (side * (ref - stop) > 0) & ~np.isnan(fill)
        has_target = side * (target - ref) > 0  # no target unless beyond the reference
        sl = np.where(ok, np.maximum(side * (fill - stop) / fill, 0.0), np.nan)
        tp = np.where(ok & has_target, np.maximum(side * (target - fill) / fill, 0.0), np.nan)
        qty = np.floor(float(Decimal(TRADE_VALUE) / cfg.rules.step) / ref) * step
    return dict(
        close=pd.Series(close, index=index),
        entries=long & ok, exits=s["exit_long"].astype(bool), short_entries=short & ok,
        short_exits=s["exit_short"].astype(bool), price=fill, open=open_, high=high, low=low,
        sl_stop=sl, tp_stop=tp, stop_entry_price="price", stop_exit_price="stoplimit",
        upon_stop_exit="close", size=qty, size_type="amount", upon_opposite_entry="ignore",
        fees=float(cfg.taker_fee), slippage=float(tick) * cfg.slippage_ticks / fill,
        init_cash=float(cfg.starting_balance), freq="1min",
    )


def _backtesting(frame: pl.DataFrame, cfg: BacktestConfig) -> tuple[float, object]:
    import warnings

    import pandas as pd
    from backtesting import Backtest, Strategy

    s = _signals(frame)
    data = pd.DataFrame(
        {k.capitalize(): frame.get_column(k).to_numpy() for k in
         ("open", "high", "low", "close", "volume")},
        index=pd.to_datetime(frame.get_column("open_time").to_numpy(), unit="ms"))
    raw = {k: v for k, v in s.items()}

    class Signals(Strategy):
        def init(self) -> None:  # the signals are computed already
            pass

        def next(self) -> None:
            i = len(self.data) - 1
            if i + 1 >= len(raw["close"]):
                return
            j = i + 1  # the shifted arrays: what acts at the next open was decided now
            if (self.position.is_long and raw["exit_long"][j]) or (
                self.position.is_short and raw["exit_short"][j]
            ):
                self.position.close()
            elif not self.position:
                stop, target = raw["stop"][j], raw["target_1"][j]
                units = max(1, int(TRADE_VALUE / raw["close"][j]))  # whole units only
                if raw["entry_long"][j] and not raw["entry_short"][j]:
                    self.buy(size=units, sl=stop, tp=target)
                elif raw["entry_short"][j] and not raw["entry_long"][j]:
                    self.sell(size=units, sl=stop, tp=target)

    bt = Backtest(data, Signals, cash=float(cfg.starting_balance),
                  commission=float(cfg.taker_fee), exclusive_orders=False, finalize_trades=True)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = bt.run()
    return time.perf_counter() - t0, (int(stats["# Trades"]), float(stats["Equity Final [$]"]))


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
    parser.add_argument("--bt-bars", type=int, default=100_000,
                        help="bars for backtesting.py (a Python loop per bar)")
    parser.add_argument("--no-real", action="store_true", help="skip the real-candle backtests")
    args = parser.parse_args()
    speed(args.bars, args.runs)
    side_by_side(args.bars, args.bt_bars, args.runs)
    if not args.no_real:
        print("real BTC/USDT candles (../shared/data): paper defaults, and without costs")
        real(args.runs)


if __name__ == "__main__":
    main()
