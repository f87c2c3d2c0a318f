"""``TradeTable.frame()``: every trade as columns, equal value for value to the per-trade
records (``BacktestTrade``), on random markets and accounts and on a run beyond 64 bits."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from bt_helpers import config, random_frame
from test_bt_random_accounts import _case

from tradeterm.backtest.runner import BacktestResult, simulate


def _expected(result: BacktestResult) -> list[dict[str, object]]:
    rows = []
    for bt in result.trades:
        t = bt.trade
        rows.append({
            "signal_bar": bt.signal_bar, "entry_bar": bt.entry_bar, "exit_bar": bt.exit_bar,
            "side": "long" if t.side == "buy" else "short", "exit_reason": bt.exit_reason,
            "opened_ms": t.opened_ms, "closed_ms": t.closed_ms, "quantity": t.quantity,
            "entry_price": t.entry_price, "exit_price": t.exit_price, "stop": bt.stop,
            "target": bt.target, "entry_fee": bt.entry_fee, "exit_fee": bt.exit_fee,
            "fees": t.fees, "pnl": t.pnl, "initial_risk": bt.initial_risk, "mae": t.mae,
            "mfe": t.mfe, "r_multiple": t.r_multiple,
        })
    return rows


def _assert_frame_is_records(result: BacktestResult) -> None:
    assert result.table is not None
    frame = result.table.frame()
    expected = _expected(result)
    assert frame.height == len(expected)
    for got, want in zip(frame.iter_rows(named=True), expected, strict=True):
        r_got, r_want = got.pop("r_multiple"), want.pop("r_multiple")
        assert got == want  # Decimal == Decimal: the same number, whatever its exponent
        assert (r_got is None) == (r_want is None)
        if r_want is not None:
            assert r_got == pytest.approx(float(r_want), rel=1e-12)


@pytest.mark.parametrize("seed", range(0, 40, 3))
def test_frame_equals_the_records(seed: int) -> None:
    frame, cfg, lower = _case(seed)
    result = simulate(frame, cfg, 60_000, symbol="T/USDT", strategy="s", lower=lower)
    _assert_frame_is_records(result)


def test_frame_of_a_run_beyond_64_bits_is_exact() -> None:
    """A balance so large that the walk runs over Python integers: the columns are objects,
    and the frame still holds every amount to the last digit."""
    cfg = config(starting_balance=Decimal("123456789012345678.123"),
                 max_position_quote=Decimal(10) ** 20, risk_per_trade_pct=Decimal(100),
                 max_position_pct=Decimal(100))
    result = simulate(random_frame(5, 600, entry_p=0.1, exit_p=0.05), cfg, 60_000)
    assert result.table is not None and result.table.pnl.dtype == np.dtype(object)
    assert len(result.trades) > 5
    _assert_frame_is_records(result)
