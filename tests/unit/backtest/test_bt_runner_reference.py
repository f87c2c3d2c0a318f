"""The fast runner against the naive bar-by-bar reference (``bt_reference``) on random data:
many trades, stops and targets (missing, wrong side, gapped through), exit signals, fees,
slippage in ticks and bps, minimum-notional skips, the daily loss limit, lower-timeframe
resolution and positions held far beyond the runner's bulk scan. Every trade must agree to the
last digit: bars, reason, quantity, prices, fees, PnL, MAE/MFE; and the final balance."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from bt_helpers import BAR_MS, config, one_price_path, random_frame
from bt_reference import assert_same

from tradeterm.backtest.grid import Grid
from tradeterm.backtest.runner import simulate
from tradeterm.broker.rules import MarketRules


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fees_slippage_and_the_daily_loss_limit(seed):
    frame = random_frame(seed, 3000, with_entry=seed == 3)
    cfg = config(slippage_ticks=2, slippage_bps=Decimal("1.5"), risk_per_trade_pct=Decimal(2),
                 daily_loss_limit_pct=Decimal(5), maker_fee=Decimal("0.0002"))
    fast = simulate(frame, cfg, BAR_MS)
    assert len(fast.trades) > 100
    assert {"stop", "target", "signal"} <= {t.exit_reason for t in fast.trades}
    assert fast.skipped.get("daily_loss_limit", 0) > 0
    assert fast.skipped.get("stop on the wrong side", 0) > 0
    assert_same(frame, cfg)


def test_minimum_notional_skips_on_a_small_account():
    frame = random_frame(4, 3000)
    cfg = config(starting_balance=Decimal(64), max_position_pct=Decimal(8),
                 rules=MarketRules("T/USDT", Decimal("0.01"), Decimal("0.001"),
                                   min_notional=Decimal(5)),
                 daily_loss_limit_pct=Decimal(100))
    fast = simulate(frame, cfg, BAR_MS)
    assert fast.skipped.get("notional below the minimum", 0) > 0 and fast.trades
    assert_same(frame, cfg)


def test_without_costs_and_without_required_stops():
    frame = random_frame(5, 3000)
    cfg = config(taker_fee=Decimal(0), maker_fee=Decimal(0), slippage_ticks=0,
                 require_stop=False, daily_loss_limit_pct=Decimal(100))
    fast = simulate(frame, cfg, BAR_MS)
    assert any(t.stop is None for t in fast.trades)
    assert_same(frame, cfg)


def test_lower_timeframe_orders_stop_and_target():
    frame = random_frame(6, 1500, stop_pct=(0.001, 0.004))
    lower = one_price_path(frame)
    cfg = config(daily_loss_limit_pct=Decimal(100))
    with_lower = simulate(frame, cfg, BAR_MS, lower=lower)
    without = simulate(frame, cfg, BAR_MS)
    assert [t.exit_reason for t in with_lower.trades] != [t.exit_reason for t in without.trades]
    assert_same(frame, cfg, lower)


def test_positions_held_beyond_the_bulk_scan():
    # far stops and rare exits: trades last hundreds of bars (finished one by one in the walk)
    frame = random_frame(7, 4000, entry_p=0.2, exit_p=0.001, stop_pct=(0.05, 0.15))
    cfg = config(daily_loss_limit_pct=Decimal(100))
    fast = simulate(frame, cfg, BAR_MS)
    assert max(t.exit_bar - t.entry_bar for t in fast.trades) > 300
    assert_same(frame, cfg)


def test_grid_floats_are_the_decimals_floats():
    rng = np.random.default_rng(0)
    for tick in ("0.01", "0.5", "0.00001", "25", "1E+1", "0.0025"):
        grid = Grid(Decimal(tick), 0, Decimal(0))
        ticks = rng.integers(-10**9, 10**9, 2000)
        expected = [float(Decimal(int(k)) * Decimal(tick)) for k in ticks]
        assert grid.floats(ticks).tolist() == expected


def test_a_market_without_a_tick_size_is_refused():
    frame = random_frame(8, 50)
    with pytest.raises(ValueError, match="tick"):
        simulate(frame, config(rules=MarketRules("T", Decimal(0), Decimal("0.001"))), BAR_MS)


def test_candles_with_a_missing_price_are_refused():
    frame = random_frame(9, 50).with_columns(
        pl.when(pl.int_range(pl.len()) == 7).then(None).otherwise(pl.col("open")).alias("open"))
    with pytest.raises(ValueError, match="open missing or not finite at bar 7"):
        simulate(frame, config(), BAR_MS)
