"""The compiled event pass and its exact fallback: the integer columns it leaves, the records
built from them, the statistics read straight from the columns, and the runs that need more than
64 bits (re-run as Python over unbounded integers) still agreeing with the reference."""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal

import numpy as np
import pytest
from bt_helpers import BAR_MS, config, random_frame
from bt_reference import assert_same

from tradeterm.backtest import kernel
from tradeterm.backtest.metrics import table_stats, trade_stats
from tradeterm.backtest.runner import simulate
from tradeterm.backtest.units import MoneyUnits, mantissa, plain
from tradeterm.broker.rules import MarketRules


def _run(seed: int = 11, **cfg: object):
    frame = random_frame(seed, 2500)
    return simulate(frame, config(slippage_bps=Decimal("1.5"), **cfg), BAR_MS)


def test_records_equal_the_kernel_integers():
    result = _run()
    table = result.table
    assert table is not None and len(table) == len(result.trades) > 100
    assert table.pnl.dtype == np.int64  # the compiled run
    money = table.units.money
    for i, bt in enumerate(result.trades):
        assert money(table.pnl[i]) == bt.trade.pnl
        assert money(table.entry_fee[i]) == bt.entry_fee
        assert money(table.exit_fee[i]) == bt.exit_fee
    total = money(sum(table.pnl.tolist()))
    assert result.final_balance == config().starting_balance + total


def test_records_are_built_once_and_index_like_a_list():
    import gc

    result = _run()
    trades = result.trades
    second = trades[1]
    assert gc.isenabled()
    built = list(trades)  # the rest in one go, the collector paused meanwhile
    assert gc.isenabled() and built[1] is second and len(built) == len(trades)
    gc.disable()
    try:
        list(_run().trades)
        assert not gc.isenabled()  # a caller's choice is left as it was
    finally:
        gc.enable()
    first = trades[0]
    assert trades[0] is first and trades[-1] is trades[len(trades) - 1]
    assert trades[1:3] == [trades[1], trades[2]]
    with pytest.raises(IndexError):
        trades[len(trades)]


def test_statistics_from_the_columns_equal_those_of_the_records():
    for seed in (11, 12):
        result = _run(seed, maker_fee=Decimal("0.0002"), daily_loss_limit_pct=Decimal(4))
        from_columns = table_stats(result.table)
        from_records = trade_stats(result.closed_trades)
        for f in fields(from_records):
            assert getattr(from_columns, f.name) == getattr(from_records, f.name), f.name


def test_reference_prices_off_the_tick_grid_are_sized_exactly():
    # a computed entry price (15-17 digits): the compiled walk sizes it from floats whose floor
    # is certain, and the sizes are still the risk engine's Decimal ones
    frame = random_frame(13, 2000, with_entry=True)
    frame = frame.with_columns(frame["entry"] * 1.0000001)
    result = assert_same(frame, config(daily_loss_limit_pct=Decimal(100)))
    assert result.table.pnl.dtype == np.int64 and len(result.trades) > 50


def test_a_float_size_is_taken_only_when_certain():
    # balance 1000 units, price 1, one step at price 1 = 1 unit, risk 1 %, caps 100 % and 10^6
    def size(balance, stop=0.9, max_quote=10**6):
        return kernel._float_size(balance, 1.0, stop, True, 1, 1, 100, 1, max_quote, 1.0)

    assert size(1000.0, stop=0.7) == 33  # 10 / 0.3
    with pytest.raises(OverflowError, match="step boundary"):
        size(1000.0)  # 10 / 0.1 is 100 exactly: in floats it may be just under, or just over
    assert size(1000.0, max_quote=50.5) == 50  # unless a cap decides
    assert size(2.0**70, max_quote=50.5) == 50  # a quotient beyond 2**52 steps does not bind
    with pytest.raises(OverflowError, match="2\\*\\*52"):
        size(2.0**70, max_quote=2.0**60)
    assert kernel._floors(3.5, 1e-15) == (3, 3)


def test_a_balance_beyond_64_bits_reruns_exactly():
    # the compiled run stops at the first amount that would not fit, and the rerun is exact
    cfg = config(starting_balance=Decimal("123456789012345.678"),
                 max_position_quote=Decimal(10) ** 18,
                 rules=MarketRules("T/USDT", Decimal("0.01"), Decimal("0.00001")))
    result = assert_same(random_frame(14, 1500), cfg, compiled=False)
    assert result.table.pnl.dtype == object and len(result.trades) > 50
    assert table_stats(result.table) == trade_stats(result.closed_trades)


def test_an_amount_that_would_overflow_inside_the_walk_reruns_exactly(monkeypatch):
    # the constants fit 64 bits, but a 15-digit max_position_pct times a price would not: the
    # compiled walk raises instead of wrapping around, and the runner reruns it in Python
    cfg = config(max_position_pct=Decimal("12.3456789012345"), daily_loss_limit_pct=Decimal(100))
    raised: list[str] = []
    compiled = kernel.compiled

    def watched(*args: object) -> object:
        try:
            return compiled(*args)
        except OverflowError as error:
            raised.append(str(error))
            raise

    monkeypatch.setattr(kernel, "compiled", watched)
    result = assert_same(random_frame(15, 1500), cfg, compiled=False)
    assert raised == ["backtest amounts beyond 64-bit integers"]
    assert result.table.pnl.dtype == object and len(result.trades) > 50


def test_money_units():
    units = MoneyUnits.of(
        tick=Decimal("0.01"), step=Decimal("0.00001"), taker=Decimal("0.001"),
        maker=Decimal("0.0002"), balance=Decimal("10000.5"), max_quote=Decimal(5000),
        min_notional=Decimal(5), min_qty=Decimal("0.00015"), risk_pct=Decimal("0.5"),
        max_pct=Decimal(50), loss_pct=Decimal(3), ref_digits=0)
    assert units.digits == 2 + 5 + 4  # tick x step x the finer fee
    # one tick x one step is 1e-7 quote: 10,000 units of 1e-11; its fees 1e-10 and 2e-11
    assert (units.notional, units.taker, units.maker) == (10_000, 10, 2)
    assert units.balance == 10000_5 * 10**10
    assert units.min_qty_steps == 15
    assert units.risk_pct == (1, 2)
    assert units.money(units.balance) == Decimal("10000.5")
    assert mantissa(Decimal("5.00")) == (5, 0) and mantissa(Decimal("1E+1")) == (10, 0)
    assert mantissa(Decimal("0.0100")) == (1, 2) and mantissa(Decimal("-2.5")) == (-25, 1)
    assert str(plain(Decimal("10166.87450"))) == "10166.8745"
    assert str(plain(Decimal("1.0E+4"))) == "10000"


def test_prices_at_half_a_tick_round_as_the_broker_rounds_them():
    # 2-decimal candles on a 0.1 tick: many opens are exactly half a tick, where the float
    # quotient (109.35 / 0.1 = 1093.4999999999998) and the broker's Decimal (1093.5 -> 1094,
    # half to even) disagree; the walk reruns with the bars' exact ticks and agrees
    from tradeterm.backtest.grid import Grid
    from tradeterm.core.money import dec, to_tick

    prices = np.round(np.random.default_rng(5).uniform(90, 110, 5000), 2)
    for tick in ("0.1", "0.05", "0.25"):
        grid = Grid(Decimal(tick), 0, Decimal(0))
        expected = [int(to_tick(dec(float(p)), Decimal(tick)) / Decimal(tick)) for p in prices]
        assert grid.snap(prices).tolist() == expected
    rules = MarketRules("T/USDT", Decimal("0.1"), Decimal("0.001"))
    for seed in (21829, 558388):
        frame = random_frame(seed, 3000, entry_p=0.1, exit_p=0.05)
        result = assert_same(frame, config(rules=rules, slippage_bps=Decimal("0.3"),
                                           daily_loss_limit_pct=Decimal("1.5")))
        assert len(result.trades) > 50


@pytest.mark.parametrize(("column", "value"), [("stop", 1e20), ("target_1", float("inf")),
                                               ("entry", float("-inf")), ("entry", 1e19)])
def test_a_level_no_market_could_have_is_refused_with_its_bar(column, value):
    import polars as pl

    frame = random_frame(16, 200, with_entry=True)
    at = int(np.flatnonzero((frame["entry_long"] | frame["entry_short"]).to_numpy())[3])
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == at).then(value).otherwise(pl.col(column))
        .alias(column))
    with pytest.raises(ValueError, match=f"{column} at bar {at} is"):
        simulate(frame, config(), BAR_MS)
