"""Metrics against values worked out by hand on a four-trade list and a six-point curve."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from tradeterm.backtest.metrics import (
    bars_per_year,
    cagr,
    calmar,
    compute_metrics,
    exposure_pct,
    max_drawdown,
    sharpe,
    sortino,
    trade_stats,
)
from tradeterm.core.trading import ClosedTrade

D = Decimal


def _trade(pnl: str, r: str | None, mae: str = "0", mfe: str = "0") -> ClosedTrade:
    return ClosedTrade("X/USDT", "buy", D(1), D(100), D(100), 0, 60_000, D(pnl), D("0.5"),
                       D(r) if r is not None else None, D(mae), D(mfe))


TRADES = [_trade("100", "2", "-10", "120"), _trade("-50", "-1", "-60", "5"),
          _trade("30", "0.6", "-4", "40"), _trade("-20", None, "-30", "10")]


def test_trade_stats_by_hand():
    s = trade_stats(TRADES)
    assert (s.trades, s.wins, s.losses, s.win_rate) == (4, 2, 2, 0.5)
    assert s.gross_profit == D(130) and s.gross_loss == D(-70) and s.net_pnl == D(60)
    assert s.profit_factor == D(130) / D(70)
    assert s.expectancy == D(15)  # 60 / 4
    assert s.average_r == D("1.6") / 3  # (2 - 1 + 0.6) / 3: the trade without R is left out
    assert (s.best, s.worst, s.fees) == (D(100), D(-50), D(2))
    assert s.average_mae == D(-26) and s.average_mfe == D("43.75")


def test_no_trades_and_no_losses():
    assert trade_stats([]).win_rate is None and trade_stats([]).expectancy is None
    assert trade_stats([_trade("5", "1")]).profit_factor is None


@pytest.mark.parametrize("as_array", [False, True])
def test_max_drawdown_depth_pct_and_duration(as_array):
    curve = [D(100), D(120), D(90), D(95), D(130), D(110)]
    dd = max_drawdown(np.array([float(v) for v in curve]) if as_array else curve)
    assert dd.depth == (30.0 if as_array else D(30))  # 120 -> 90
    assert dd.depth_pct == pytest.approx(25.0)
    assert dd.duration_bars == 2  # bars 2 and 3 under the peak of bar 1 (bar 5 only 1)
    assert (dd.peak_index, dd.trough_index) == (1, 2)


def test_sharpe_and_sortino_by_hand():
    returns = np.array([0.01, -0.02, 0.03])
    per_year = bars_per_year(60_000)
    assert per_year == 525_600
    mean = 0.02 / 3
    sd = math.sqrt(((0.01 - mean) ** 2 + (-0.02 - mean) ** 2 + (0.03 - mean) ** 2) / 2)
    assert sharpe(returns, per_year) == pytest.approx(mean / sd * math.sqrt(525_600))
    # downside deviation sqrt(0.02^2 / 3): mean / it = 1 / sqrt(3)
    assert sortino(returns, per_year) == pytest.approx(math.sqrt(525_600 / 3))
    assert sharpe(np.array([0.01, 0.01]), per_year) is None  # no variance


def test_cagr_calmar_exposure():
    assert cagr(100, 121, 2.0) == pytest.approx(0.1)
    assert calmar(0.1, 25.0) == pytest.approx(0.4)
    assert calmar(0.1, 0.0) is None and cagr(100, 0, 1.0) is None
    assert cagr(100, 200, 140 / 525_600) is None  # doubling in 140 minutes overflows a float
    assert exposure_pct(25, 100) == 25.0


def test_compute_metrics_combines_them():
    equity = np.array([100.0, 101.0, 98.98, 101.9494])
    m = compute_metrics(TRADES, equity, D(100), D("101.9494"), 86_400_000, 2)
    assert m.stats.trades == 4 and m.bars == 4 and m.exposure_pct == 50.0
    assert m.drawdown.depth_pct == pytest.approx(2.0) and m.drawdown_ms == 86_400_000
    assert m.return_pct == pytest.approx(1.9494)
    assert m.sharpe is not None and m.sortino is not None and m.calmar is not None
