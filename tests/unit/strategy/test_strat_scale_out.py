"""A strategy with ``scale_out`` shares: the backtester takes its legs at target_1..3; the live
engine refuses to run it (its bracket has one take-profit), saying why."""

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


def test_the_live_guard_refuses_scale_outs_and_says_why():
    refusal = guard(ScaledEmaCross, 300, 2)
    assert refusal is not None
    assert "scale_out (0.5, 0.25, 0.25)" in refusal and "backtest-only" in refusal


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
