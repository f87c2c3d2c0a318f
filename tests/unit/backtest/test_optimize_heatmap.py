"""The optimisation view's heatmap and curve sampling (``backtest/optimize_job.py``): the best
objective per cell, blank cells, binning of many distinct values, the last equity point kept."""

from __future__ import annotations

import math

from tradeterm.backtest.optimize_job import MAX_AXIS, _distinct, downsample, heatmap


def test_each_cell_holds_its_best_trial_and_untried_cells_are_blank() -> None:
    points = [(5, 20, 1.0), (5, 20, 3.0), (5, 20, None), (9, 20, -2.0), (9, 30, float("nan")),
              (5, 30, 0.5)]
    h = heatmap(points, "fast", "slow")
    assert (h.x_values, h.y_values) == (("5", "9"), ("20", "30"))
    assert h.cells == ((3.0, -2.0), (0.5, None))  # (9, 30): only an undefined objective
    low = heatmap(points, "fast", "slow", lower_is_better=True)
    assert low.cells == ((1.0, -2.0), (0.5, None))


def test_many_distinct_values_are_binned() -> None:
    points = [(float(x), float(y), float(x + y)) for x in range(100) for y in (1, 2)]
    h = heatmap(points, "a", "b")
    # 100 whole numbers in bins of 10: 0-9, 10-19, ..., 90-99
    assert len(h.x_values) == MAX_AXIS == 10 and h.x_values[:2] == ("0-9", "10-19")
    assert h.x_values[-1] == "90-99"
    assert h.y_values == ("1", "2")
    assert h.cells[1][-1] == 99 + 2  # the last bin holds the largest x
    assert h.cells[0][0] == 9 + 1 and h.cells[1][1] == 19 + 2  # each bin's best
    odd = heatmap([(float(x), 1.0, 1.0) for x in range(23)], "a", "b")  # bins of 3: ..., 21-22
    assert odd.x_values[-1] == "21-22" and len(odd.x_values) == 8
    floats = heatmap([(x / 10, 1.0, x / 10) for x in range(100)], "a", "b")
    assert len(floats.x_values) == MAX_AXIS and floats.x_values[0] == "0-0.99"
    assert floats.cells[0][-1] == 9.9


def test_downsample_keeps_the_last_value() -> None:
    values = [float(i) for i in range(1001)]
    sampled = downsample(values, 200)
    assert len(sampled) <= 201 and sampled[0] == 0 and sampled[-1] == 1000
    assert downsample([1.0, 2.0]) == (1.0, 2.0)
    assert all(math.isfinite(v) for v in sampled)


def test_the_curves_skip_a_repeated_parameter_set() -> None:
    params = [{"fast": 4, "slow": 82}, {"fast": 4, "slow": 83}, {"slow": 82, "fast": 4},
              {"fast": 5, "slow": 82}]
    assert _distinct([2, 0, 1, 3], params) == [2, 1, 3]
