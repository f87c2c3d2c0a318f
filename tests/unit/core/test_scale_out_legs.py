"""The legs of a scale-out as exact quantities: split on the market's step with the rest on the
last leg, then legs the exchange would refuse merged into the previous one."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradeterm.core.scale_out import (
    leg_client_id,
    leg_of,
    leg_weights,
    merge_small,
    plan_legs,
    split_quantity,
    split_steps,
)

HALF_QUARTERS = leg_weights((0.5, 0.25, 0.25))
THIRDS = leg_weights((1 / 3, 1 / 3, 1 / 3))


def test_split_floors_each_leg_to_the_step_and_puts_the_rest_on_the_last():
    # 0.007 in steps of 0.001: 7 x 0.5 = 3.5 -> 3, 7 x 0.25 = 1.75 -> 1, the rest 3
    assert split_quantity(D("0.007"), HALF_QUARTERS, D("0.001")) == (
        D("0.003"), D("0.001"), D("0.003"))
    # thirds of 1.000 by 0.001: 333, 333 and the rest 334 steps
    assert split_quantity(D("1.000"), THIRDS, D("0.001")) == (D("0.333"), D("0.333"), D("0.334"))


def test_split_is_exact_and_adds_up_to_the_quantity():
    for qty in ("0.00001", "0.12345", "3.99999", "50"):
        legs = split_quantity(D(qty), HALF_QUARTERS, D("0.00001"))
        assert sum(legs, D(0)) == D(qty)
        assert all(isinstance(q, D) and q % D("0.00001") == 0 for q in legs)


def test_split_steps_is_the_kernels_integer_rule():
    assert split_steps(7, HALF_QUARTERS) == (3, 1, 3)
    assert split_steps(1, HALF_QUARTERS) == (0, 0, 1)
    assert split_steps(10, (1,)) == (10,)


def test_without_a_step_the_quantitys_own_last_digit_is_the_grid():
    assert split_quantity(D("1.01"), HALF_QUARTERS, D(0)) == (D("0.50"), D("0.25"), D("0.26"))


def test_a_leg_below_min_notional_is_merged_into_the_previous_leg_with_a_notice():
    # 0.006 by 0.001: legs of 3, 1 and 2 steps; 0.002 x 103 = 0.206 < 0.3: into target 2,
    # which at 0.003 x 102 = 0.306 is large enough
    prices = [D(101), D(102), D(103)]
    plan = plan_legs(D("0.006"), HALF_QUARTERS, prices, step=D("0.001"), min_qty=D("0.001"),
                     min_notional=D("0.3"))
    assert plan.quantities == (D("0.003"), D("0.003"), D(0))
    assert plan.notices == (
        "target 3 leg of 0.002 is below the market's minimum: merged into target 2",)
    # at a minimum of 0.31 the merged leg is still too small: it goes on into target 1
    plan = plan_legs(D("0.006"), HALF_QUARTERS, prices, step=D("0.001"), min_qty=D("0.001"),
                     min_notional=D("0.31"))
    assert plan.quantities == (D("0.006"), D(0), D(0))
    assert plan.notices[1] == (
        "target 2 leg of 0.003 is below the market's minimum: merged into target 1")


def test_a_leg_below_min_qty_is_merged_and_the_first_goes_into_the_next():
    plan = merge_small([D("0.5"), D("3"), D("2")], [D(10), D(11), D(12)], min_qty=D(1),
                       min_notional=D(0))
    assert plan.quantities == (D(0), D("3.5"), D(2))
    assert plan.notices == (
        "target 1 leg of 0.5 is below the market's minimum: merged into target 2",)


def test_legs_large_enough_or_without_a_take_profit_are_left_alone():
    plan = merge_small([D(1), D("0.1"), D(2)], [D(10), None, D(12)], min_qty=D(1),
                       min_notional=D(5))
    assert plan == merge_small([D(1), D("0.1"), D(2)], [D(10), None, D(12)], min_qty=D(1),
                               min_notional=D(5))
    assert plan.quantities == (D(1), D("0.1"), D(2)) and plan.notices == ()


def test_shares_are_checked():
    assert leg_weights(()) == (1,)
    with pytest.raises(ValueError, match="sum to 1"):
        leg_weights((0.5, 0.4))
    with pytest.raises(ValueError, match="1 to 3 shares"):
        leg_weights((0.25,) * 4)


def test_a_legs_client_id_names_its_number():
    assert leg_of(leg_client_id("P17-3", 2)) == 2
    assert leg_of(None) is None and leg_of("mine") is None
