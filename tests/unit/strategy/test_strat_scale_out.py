"""A strategy with ``scale_out`` shares: the backtester takes its legs at target_1..3, and so
does the live engine (its guard passes it); shares neither could take are refused, saying why."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from tradeterm.backtest.runner import BacktestConfig, run_backtest
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.loader import load_directory
from tradeterm.strategy.worker import guard

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"
EmaCross = load_directory(STRATEGIES).strategies["ema_cross"].cls


class ScaledEmaCross(EmaCross):  # type: ignore[misc, valid-type]
    name = "scaled_ema_cross"
    timeframe = "1m"
    scale_out: ClassVar[tuple[float, ...]] = (0.5, 0.25, 0.25)


def test_the_live_guard_runs_scale_outs():
    assert guard(ScaledEmaCross, 300, 2) is None


def test_the_live_guard_refuses_shares_it_cannot_take_and_says_why():
    class Bad(EmaCross):  # type: ignore[misc, valid-type]
        name = "bad_scaled_ema_cross"
        timeframe = "1m"
        scale_out: ClassVar[tuple[float, ...]] = (0.5, 0.25)

    refusal = guard(Bad, 300, 2)
    assert refusal is not None and "must sum to 1" in refusal and "(0.5, 0.25)" in refusal


def test_a_scaling_entry_signal_carries_each_legs_target_and_share():
    from tradeterm.strategy.worker import evaluate

    candles = synthetic_candles(3000, seed=3)
    strategy = ScaledEmaCross()
    evaluated = strategy.evaluate(candles)
    bars = [i for i, row in enumerate(evaluated.iter_rows(named=True))
            if row["entry_long"] or row["entry_short"]]
    row = evaluated.row(bars[-1], named=True)
    (signal,) = [s for s in evaluate(strategy, candles.head(bars[-1] + 1), "BTC/USDT", "1m")
                 if s.kind == "entry"]
    assert signal.scale_out == tuple(
        (row[f"target_{i}"], share) for i, share in zip((1, 2, 3), (0.5, 0.25, 0.25), strict=True))


def test_the_same_strategy_without_shares_passes_the_guard():
    class Plain(EmaCross):  # type: ignore[misc, valid-type]
        name = "plain_ema_cross"
        timeframe = "1m"

    assert guard(Plain, 300, 2) is None


def test_run_backtest_takes_the_strategys_shares():
    candles = synthetic_candles(3000, seed=3)
    scaled = run_backtest(ScaledEmaCross(), candles, BacktestConfig())
    plain = run_backtest(EmaCross(), candles, BacktestConfig(), timeframe="1m")
    entries = {bt.signal_bar for bt in scaled.trades}
    assert entries and len(scaled.trades) > len(entries)  # several legs per entry
    assert len(plain.trades) == len({bt.signal_bar for bt in plain.trades})
