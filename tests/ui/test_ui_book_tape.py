"""Order book ladder and trades tape: the numbers and what lands on screen."""

from __future__ import annotations

import pytest

from tradeterm.core.models import BookSnapshot, Trade
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.book import build_ladder, ladder_depth, render_ladder
from tradeterm.ui.widgets.tape import large_trade_threshold, render_tape

COLORS = TradingColors(bid="#00ff00", ask="#ff0000")
BOOK = BookSnapshot(
    symbol="BTC/USDT",
    bids=((99.0, 1.0), (98.0, 2.0), (97.0, 3.0)),
    asks=((101.0, 0.5), (102.0, 0.5), (103.0, 1.0)),
)


def test_build_ladder_when_book_then_cumulative_sizes_from_the_best_price():
    ladder = build_ladder(BOOK, depth=3)
    assert [lv.cumulative for lv in ladder.bids] == [1.0, 3.0, 6.0]
    assert [lv.cumulative for lv in ladder.asks] == [0.5, 1.0, 2.0]
    assert ladder.max_cumulative == 6.0


def test_build_ladder_when_book_then_spread_and_basis_points():
    ladder = build_ladder(BOOK, depth=3)
    assert ladder.spread == 2.0
    assert ladder.mid == 100.0
    assert ladder.spread_bps == pytest.approx(200.0)


def test_build_ladder_when_more_bids_than_asks_then_positive_imbalance_over_shown_levels():
    assert build_ladder(BOOK, depth=3).imbalance == pytest.approx((6 - 2) / 8)
    assert build_ladder(BOOK, depth=1).imbalance == pytest.approx((1 - 0.5) / 1.5)


def test_build_ladder_when_empty_book_then_no_spread_no_imbalance():
    ladder = build_ladder(BookSnapshot(symbol="X/Y"), depth=5)
    assert ladder.spread is None and ladder.imbalance is None


def test_render_ladder_when_book_then_asks_above_spread_above_bids():
    lines = [line.plain for line in render_ladder(build_ladder(BOOK, 3), 36, 8, COLORS)]
    assert len(lines) == 8
    prices = [line.split()[0] for line in lines[1:4] + lines[5:8]]
    assert prices == ["103.00", "102.00", "101.00", "99.00", "98.00", "97.00"]
    assert "spread 2.00" in lines[4] and "imb +50%" in lines[4]
    assert all(len(line) <= 36 for line in lines)


def test_render_ladder_when_deepest_level_then_depth_bar_spans_the_whole_row():
    lines = render_ladder(build_ladder(BOOK, 3), width=36, height=8, colors=COLORS)
    deepest_line = next(line for line in lines if "97.00" in line.plain)
    bars = [span for span in deepest_line.spans if span.style.bgcolor is not None]
    assert bars and bars[0].start == 0 and bars[0].end - bars[0].start == 36


def test_ladder_depth_when_height_then_levels_per_side_leave_header_and_spread():
    assert ladder_depth(24) == 11
    assert ladder_depth(2) == 0


def trades(*sizes: float) -> list[Trade]:
    return [
        Trade(str(i), 1_700_000_000_000 + i * 1000, 100.0 + i, size, "buy" if i % 2 else "sell")
        for i, size in enumerate(sizes)
    ]


def test_large_trade_threshold_when_flow_then_multiple_of_median():
    assert large_trade_threshold(trades(1, 1, 1, 1, 2)) == 4.0
    assert large_trade_threshold(trades(1, 1)) is None


def test_render_tape_when_trades_then_newest_first_coloured_by_aggressor():
    tape = trades(1, 1, 1, 1, 1, 10)
    texts = render_tape(tape, width=30, height=4, colors=COLORS)
    lines = [text.plain for text in texts]
    assert lines[0].startswith("Time")
    assert [line.split()[1] for line in lines[1:]] == ["105.00", "104.00", "103.00"]
    price_styles = {
        text.plain[span.start : span.end].split()[0]: span.style.color.name
        for text in texts
        for span in text.spans
        if span.style.color is not None and "." in text.plain[span.start : span.end]
    }
    assert price_styles["104.00"] == "#ff0000"  # i=4: sell
    assert price_styles["103.00"] == "#00ff00"  # i=3: buy


def test_render_tape_when_large_trade_then_its_row_highlighted():
    lines = render_tape(trades(1, 1, 1, 1, 1, 10), width=30, height=4, colors=COLORS)
    highlighted = [(y, s) for y, line in enumerate(lines) for s in line.spans if s.style.bgcolor]
    assert len(highlighted) == 1
    row, span = highlighted[0]
    assert row == 1 and span.start == 0
