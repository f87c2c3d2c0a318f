"""The runner's fill rules, checked against fills, fees and PnL worked out by hand.

Common setup (bt_helpers.config): tick 0.01, step 0.001, taker 0.1 %, maker 0.05 %, slippage
1 tick, balance 10,000, risk 1 % per trade. A long signal at bar 0's close 100 with its stop at
98 risks 2 per unit: 100 / 2 = 50 units.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
from bt_helpers import HOUR, MINUTE, START, config, signal_frame

from tradeterm.backtest.runner import run_backtest, simulate
from tradeterm.config import RiskSettings
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.risk.engine import RiskEngine
from tradeterm.risk.sizing import size_for_stop
from tradeterm.strategy.loader import load_directory

STRATEGIES = Path(__file__).resolve().parents[3] / "strategies"
FLAT = (100.0, 100.2, 99.9, 100.0)
ENTRY_BAR = (100.5, 101.0, 100.0, 100.8)  # entry fills at 100.5 + 1 tick = 100.51


def _one_trade(third_bar, lower=None, **cfg):
    frame = signal_frame([FLAT, ENTRY_BAR, third_bar], {0: ("long", 98.0, 104.0)})
    result = simulate(frame, config(**cfg), MINUTE, lower=lower)
    assert len(result.trades) == 1
    return result, result.trades[0]


def test_signal_fills_at_next_open_plus_slippage_with_exact_fees():
    result, bt = _one_trade((100.8, 104.5, 100.5, 104.0))  # reaches the target only
    t = bt.trade
    assert (bt.signal_bar, bt.entry_bar, bt.exit_bar) == (0, 1, 2)
    assert t.quantity == Decimal(50)
    assert t.entry_price == Decimal("100.51")
    assert bt.entry_fee == Decimal("5.02550")  # 100.51 x 50 x 0.001 (taker)
    assert bt.exit_reason == "target" and t.exit_price == Decimal(104)
    assert bt.exit_fee == Decimal("2.6")  # 104 x 50 x 0.0005 (maker: a resting limit)
    assert t.pnl == Decimal("166.8745")  # 3.49 x 50 - 5.0255 - 2.6
    assert t.r_multiple == Decimal("166.8745") / Decimal("125.5")  # risk 2.51 x 50
    assert result.final_balance == Decimal("10166.8745")
    assert result.equity[-1] == float(result.final_balance)


def test_bar_touching_stop_and_target_takes_the_stop():
    _, bt = _one_trade((100.8, 104.5, 97.5, 104.0))
    assert bt.exit_reason == "stop"
    assert bt.trade.exit_price == Decimal("97.99")  # stop 98 as a market order, 1 tick worse
    # (97.99 - 100.51) x 50 = -126; fees 5.0255 + 97.99 x 50 x 0.001 = 4.8995
    assert bt.trade.pnl == Decimal("-135.9250")


def _lower(sub_bars):
    """15 s bars inside bar 2 (open time START + 2 minutes)."""
    t0 = START + 2 * MINUTE
    return pl.DataFrame({
        "open_time": [t0 + i * 15_000 for i in range(len(sub_bars))],
        "open": [b[0] for b in sub_bars], "high": [b[1] for b in sub_bars],
        "low": [b[2] for b in sub_bars], "close": [b[3] for b in sub_bars],
        "volume": [1.0] * len(sub_bars),
    })


def test_lower_timeframe_showing_the_target_first_gives_the_target():
    lower = _lower([(100.8, 104.5, 100.5, 104.0), (104.0, 104.0, 97.5, 98.0)])
    _, bt = _one_trade((100.8, 104.5, 97.5, 104.0), lower=lower)
    assert bt.exit_reason == "target" and bt.trade.exit_price == Decimal(104)


def test_lower_timeframe_showing_the_stop_first_gives_the_stop():
    lower = _lower([(100.8, 101.0, 97.5, 98.0), (98.0, 104.5, 98.0, 104.0)])
    _, bt = _one_trade((100.8, 104.5, 97.5, 104.0), lower=lower)
    assert bt.exit_reason == "stop" and bt.trade.exit_price == Decimal("97.99")


def test_gap_through_the_stop_fills_at_the_open():
    _, bt = _one_trade((97.0, 97.5, 96.0, 97.0))
    assert bt.exit_reason == "stop"
    assert bt.trade.exit_price == Decimal("96.99")  # the open 97, 1 tick worse: not 98


def test_gap_through_the_target_fills_at_the_target():
    _, bt = _one_trade((105.0, 105.5, 104.8, 105.0))
    assert bt.exit_reason == "target" and bt.trade.exit_price == Decimal(104)


def test_short_mirror():
    frame = signal_frame([FLAT, (99.5, 100.0, 99.0, 99.2), (99.2, 102.5, 99.0, 102.0)],
                         {0: ("short", 102.0, 96.0)})
    bt = simulate(frame, config(), MINUTE).trades[0]
    assert bt.trade.side == "sell" and bt.trade.entry_price == Decimal("99.49")
    assert bt.exit_reason == "stop" and bt.trade.exit_price == Decimal("102.01")
    assert bt.trade.quantity == Decimal(50)


def test_exit_signal_closes_at_the_next_open_and_ignores_the_entry_bar_exit():
    bars = [FLAT, ENTRY_BAR, (100.8, 101.5, 100.6, 101.2), (101.3, 101.4, 101.0, 101.1)]
    frame = signal_frame(bars, {0: ("long", 98.0, 110.0)}, exits={0: "long", 2: "long"})
    bt = simulate(frame, config(), MINUTE).trades[0]
    assert bt.exit_reason == "signal" and bt.exit_bar == 3
    assert bt.trade.exit_price == Decimal("101.29")  # bar 3 open 101.3, a sell 1 tick worse


def test_size_comes_from_the_stop_distance_like_the_risk_engine():
    _, bt = _one_trade((100.8, 101.0, 100.5, 100.9))
    engine = RiskEngine(RiskSettings(), lambda: START)
    expected = engine.size_for(Decimal(100), Decimal(98), Decimal(10000),
                               step=Decimal("0.001"))
    assert bt.trade.quantity == expected == Decimal(50)
    # a wider stop, a smaller size: 100 / 3.7 = 27.027 (floored to the step)
    frame = signal_frame([FLAT, ENTRY_BAR, FLAT], {0: ("long", 96.3, None)})
    bt = simulate(frame, config(), MINUTE).trades[0]
    assert bt.trade.quantity == Decimal("27.027") == size_for_stop(
        Decimal(100), Decimal("96.3"), Decimal(10000), Decimal(1), Decimal("0.001"))


def test_size_is_capped_by_max_position_pct():
    _, bt = _one_trade((100.8, 101.0, 100.5, 100.9), max_position_pct=Decimal(10))
    assert bt.trade.quantity == Decimal(10)  # 10 % of 10,000 at the reference price 100


def test_daily_loss_limit_blocks_entries_until_the_next_utc_day():
    # hourly bars from midnight; risk 2 %: 100 units; each stop-out loses about 222
    bars = [FLAT] * 30
    for stop_bar in (2, 5):
        bars[stop_bar] = (100.0, 100.2, 97.0, 97.5)
    entries = {b: ("long", 98.0, None) for b in (0, 3, 6, 9, 14, 22, 23)}
    frame = signal_frame(bars, entries, interval_ms=HOUR)
    result = simulate(frame, config(risk_per_trade_pct=Decimal(2)), HOUR)
    losses = [t.trade.pnl for t in result.trades[:2]]
    assert losses[0] > Decimal(-300) and sum(losses) <= Decimal(-300)  # 3 % of 10,000
    # bars 6, 9, 14 and 22 fill on day 1 (blocked); bar 23's fills at bar 24 = 00:00 UTC day 2
    assert [t.signal_bar for t in result.trades] == [0, 3, 23]
    # every refused entry is counted, not one per halted day
    assert result.skipped == {"daily_loss_limit": 4}


def test_entries_wait_for_the_position_to_close():
    high = (104.0, 104.2, 103.9, 104.0)
    bars = [FLAT, ENTRY_BAR, FLAT, FLAT, (100.0, 104.5, 99.9, 104.0), high, high]
    frame = signal_frame(bars, {0: ("long", 98.0, 104.0), 2: ("long", 98.0, 104.0),
                                4: ("long", 102.0, 108.0)})
    result = simulate(frame, config(), MINUTE)
    # bar 2's signal comes while long: ignored; the target fills in bar 4, so bar 4's is taken
    assert [t.signal_bar for t in result.trades] == [0, 4]
    assert result.exposure_bars == (4 - 1 + 1) + (6 - 5 + 1)


def test_same_input_same_result():
    cls = load_directory(STRATEGIES).strategies["ema_cross"].cls
    candles = synthetic_candles(6000, seed=7)
    a = run_backtest(cls(), candles, config(), symbol="TEST/USDT")
    b = run_backtest(cls(), candles, config(), symbol="TEST/USDT")
    assert len(a.trades) > 10
    assert a.trades == b.trades and a.final_balance == b.final_balance
    np.testing.assert_array_equal(a.equity, b.equity)
    assert abs(a.equity[-1] - float(a.final_balance)) < 1e-6
    assert a.final_balance == config().starting_balance + sum(t.trade.pnl for t in a.trades)
