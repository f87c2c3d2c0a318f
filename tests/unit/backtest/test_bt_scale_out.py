"""Scale-outs: a strategy that gives ``scale_out`` shares has its position taken off in legs at
target_1, target_2 and target_3; the stop, the exit signal and the end close what is left.
Worked out on paper with the paper broker's rules (docs/backtest.md)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import polars as pl
import pytest
from bt_helpers import MINUTE, config, random_frame, signal_frame

from tradeterm.backtest.runner import leg_weights, simulate

BARS = [
    (100.0, 100.1, 99.9, 100.0),  # 0: the signal (reference 100, stop 98)
    (100.0, 100.5, 99.5, 100.2),  # 1: the entry at 100.00 + 1 tick; nothing touched
    (100.2, 101.5, 100.1, 101.2),  # 2: target_1 (101) touched
    (101.2, 102.3, 101.0, 102.0),  # 3: target_2 (102) touched
    (101.5, 101.6, 97.9, 98.2),  # 4: the stop (98): the last leg's target (103) never
    (98.2, 98.3, 98.1, 98.2),
]


def _frame() -> pl.DataFrame:
    frame = signal_frame(BARS, {0: ("long", 98.0, 101.0)})
    return frame.with_columns(target_2=pl.Series([102.0] + [None] * 5, dtype=pl.Float64),
                              target_3=pl.Series([103.0] + [None] * 5, dtype=pl.Float64))


def test_half_a_quarter_and_a_quarter_at_three_targets_worked_on_paper():
    # risk 1 % of 10,000 over a 2.00 stop distance: 50 units, in legs of 25, 12.5 and 12.5
    result = simulate(_frame(), config(), MINUTE, scale_out=(0.5, 0.25, 0.25))
    legs = [(bt.trade.quantity, bt.trade.exit_price, bt.exit_reason, bt.exit_bar, bt.trade.pnl)
            for bt in result.trades]
    assert legs == [
        # (101 - 100.01) x 25 - 100.01 x 25 x 0.001 - 101 x 25 x 0.0005 (maker)
        (Decimal(25), Decimal(101), "target", 2, Decimal("20.98725")),
        (Decimal("12.5"), Decimal(102), "target", 3, Decimal("22.987375")),
        # the stop, one tick worse, taker: (97.99 - 100.01) x 12.5 - 1.250125 - 1.224875
        (Decimal("12.5"), Decimal("97.99"), "stop", 4, Decimal("-27.725")),
    ]
    assert all(bt.signal_bar == 0 and bt.entry_bar == 1 for bt in result.trades)
    assert [bt.target for bt in result.trades] == [Decimal(101), Decimal(102), Decimal(103)]
    assert result.final_balance == Decimal("10016.249625")
    # the equity curve: the legs still open marked at the close, the others realised
    eq = result.equity
    assert eq[2] == pytest.approx(10000 + 20.98725 + 25 * (101.2 - 100.01) - 25 * 100.01 * 0.001)
    assert eq[4] == pytest.approx(10016.249625) and eq[5] == pytest.approx(10016.249625)
    assert result.exposure_bars == 4  # bars 1 to 4


def test_without_shares_the_whole_position_exits_at_target_1():
    result = simulate(_frame(), config(), MINUTE)
    assert [(bt.trade.quantity, bt.exit_reason, bt.exit_bar) for bt in result.trades] == [
        (Decimal(50), "target", 2)]


def test_a_single_share_of_one_is_the_plain_run_on_random_data():
    for seed in range(4):
        frame = random_frame(seed, 1500)
        frame = frame.with_columns(target_2=pl.col("target_1") * 1.01)
        plain = simulate(frame, config(), MINUTE)
        one = simulate(frame, config(), MINUTE, scale_out=(1.0,))
        assert list(plain.trades) == list(one.trades)
        assert plain.final_balance == one.final_balance
        assert np.array_equal(plain.equity, one.equity)


def test_legs_sum_to_the_position_and_settle_the_balance_on_random_data():
    """Two legs, the second at twice the first target's distance: every entry's legs add up
    to the size the risk engine gives, and the balance is the sum of every leg's PnL."""
    for seed in range(4):
        frame = random_frame(seed, 1500)
        frame = frame.with_columns(
            target_2=pl.col("close") + (pl.col("target_1") - pl.col("close")) * 2)
        result = simulate(frame, config(), MINUTE, scale_out=(0.6, 0.4))
        by_entry: dict[int, list] = {}
        for bt in result.trades:
            by_entry.setdefault(bt.signal_bar, []).append(bt)
        assert len(result.trades) > len(by_entry) > 5
        for legs in by_entry.values():
            assert len(legs) <= 2 and len({bt.trade.entry_price for bt in legs}) == 1
        pnl = sum((bt.trade.pnl for bt in result.trades), Decimal(0))
        assert result.final_balance == Decimal(10000) + pnl


def test_shares_are_checked():
    assert leg_weights(()) == (1,)
    assert leg_weights((0.5, 0.25, 0.25)) == (500_000, 250_000, 250_000)
    for bad in ((0.5, 0.4), (0.5, 0.5, 0.0), (0.25,) * 4, (1.5,)):
        with pytest.raises(ValueError, match="scale_out"):
            leg_weights(bad)


def test_a_leg_settled_after_midnight_counts_against_that_day_with_what_was_still_open():
    """Hourly bars. Entry at 22:00 (50 units at 100.01), half off at 101 before midnight; the
    other half is still open at 00:00 (day 2 opens at 101.00) and is stopped at 01:00 for
    -55.45. Day 2's starting equity counts only that open half: 10,020.98725 - its entry fee
    2.50025 + (101 - 100.01) x 25 = 10,043.237, whose 0.5515 % (55.388...) the loss reaches,
    so day 2's next entry is refused (marked with all 50 units it would be 10,065.48675, a
    limit of 55.51..., not reached)."""
    from bt_helpers import HOUR

    flat = (100.0, 100.1, 99.9, 100.0)
    bars = [flat] * 22 + [
        (100.0, 100.4, 99.6, 100.2),  # 22: the entry (signal at 21)
        (100.2, 101.5, 100.1, 101.0),  # 23: target_1 for the first half
        (101.0, 101.2, 100.5, 100.8),  # 24: 00:00 UTC, day 2
        (100.0, 100.1, 97.9, 98.0),  # 25: the stop for the second half
        (98.0, 98.1, 97.9, 98.0),  # 26: another entry signal, day 2
    ] + [(98.0, 98.1, 97.9, 98.0)] * 4
    frame = signal_frame(bars, {21: ("long", 98.0, 101.0), 26: ("long", 96.0, 99.0)},
                         interval_ms=HOUR)
    frame = frame.with_columns(target_2=pl.when(pl.int_range(pl.len()) == 21).then(102.0))
    cfg = config(daily_loss_limit_pct=Decimal("0.5515"))
    result = simulate(frame, cfg, HOUR, scale_out=(0.5, 0.5))
    assert [(bt.exit_bar, bt.trade.pnl) for bt in result.trades] == [
        (23, Decimal("20.98725")), (25, Decimal("-55.45"))]
    assert result.skipped == {"daily_loss_limit": 1}
    lower = simulate(frame, config(daily_loss_limit_pct=Decimal("0.553")), HOUR,
                     scale_out=(0.5, 0.5))
    # 10,043.237 x 0.553 % > 55.45: day 2's entry is taken (two legs: its target_2 is null,
    # so that leg rides to the stop, the exit signal or the end)
    assert [bt.signal_bar for bt in lower.trades] == [21, 21, 26, 26] and not lower.skipped


@pytest.mark.parametrize("limit", [{"min_qty": Decimal(13)}, {"min_notional": Decimal(1300)}])
def test_a_leg_the_exchange_would_refuse_is_merged_into_the_previous_as_live(limit):
    """The live bracket's rule (core.scale_out.merge_small): target 3's 12.5 units are below a
    minimum quantity of 13 (or 12.5 x 103 = 1,287.5 below a minimum notional of 1,300), so they
    go with target 2: 25 units exit at 102, none at the stop."""
    from dataclasses import replace

    from bt_helpers import RULES

    cfg = config(rules=replace(RULES, **limit))
    result = simulate(_frame(), cfg, MINUTE, scale_out=(0.5, 0.25, 0.25))
    assert [(bt.trade.quantity, bt.trade.exit_price, bt.exit_reason, bt.exit_bar)
            for bt in result.trades] == [(Decimal(25), Decimal(101), "target", 2),
                                         (Decimal(25), Decimal(102), "target", 3)]
