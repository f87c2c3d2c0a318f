"""The runner against the bar-by-bar reference on random markets and accounts: tick and step
sizes, minimum quantity and notional, balances, fees, slippage in ticks and bps, risk and caps,
daily limits, required stops, computed entry prices on and off the tick grid, lower timeframes.
Each case is drawn from a fixed seed, so a failure names a reproducible case."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from bt_helpers import config, one_price_path, random_frame
from bt_reference import assert_same

from tradeterm.broker.rules import MarketRules


def _case(seed: int):
    rng = random.Random(seed)
    step = rng.choice(["0.001", "0.00001", "0.01", "1", "0.005"])
    cfg = config(
        rules=MarketRules("T/USDT", Decimal(rng.choice(["0.01", "0.1", "0.5", "0.001", "0.0025"])),
                          Decimal(step), min_qty=Decimal(rng.choice(["0", step, "0.01"])),
                          min_notional=Decimal(rng.choice(["0", "5", "10.5"]))),
        starting_balance=Decimal(rng.choice(["10000", "64", "12345.67", "1000000", "250.5"])),
        taker_fee=Decimal(rng.choice(["0", "0.001", "0.00075"])),
        maker_fee=Decimal(rng.choice(["0", "0.0002", "0.001"])),
        slippage_ticks=rng.choice([0, 1, 3]),
        slippage_bps=Decimal(rng.choice(["0", "1.5", "0.3"])),
        risk_per_trade_pct=Decimal(rng.choice(["1", "0.5", "2.25", "100"])),
        max_position_pct=Decimal(rng.choice(["50", "100", "12.5"])),
        max_position_quote=Decimal(rng.choice(["5000", "1000000000", "777.7"])),
        daily_loss_limit_pct=Decimal(rng.choice(["3", "5", "100", "1.5"])),
        require_stop=rng.random() < 0.7,
    )
    with_entry = rng.random() < 0.4
    frame = random_frame(rng.randrange(10**6), rng.choice([600, 1500]),
                         entry_p=rng.choice([0.03, 0.1, 0.3]), exit_p=rng.choice([0.01, 0.05]),
                         with_entry=with_entry)
    if with_entry and rng.random() < 0.5:  # a computed entry price, off the tick grid
        frame = frame.with_columns(frame["entry"] * (1 + rng.random() * 1e-6))
    lower = one_price_path(frame) if rng.random() < 0.3 else None
    return frame, cfg, lower


@pytest.mark.parametrize("seed", range(40))
def test_random_market_and_account(seed):
    frame, cfg, lower = _case(seed)
    try:
        assert_same(frame, cfg, lower)
    except AssertionError:
        # a large balance may need the exact Python walk: then it must agree as well
        assert_same(frame, cfg, lower, compiled=False)
