"""Order book ladder and trades tape: the numbers and what lands on screen."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.strip import Strip

from tradeterm.core.models import BookSnapshot, Trade
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.book import (
    OrderBookLadder,
    book_tick,
    build_ladder,
    group_book,
    group_levels,
    ladder_depth,
    render_ladder,
)
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


def test_large_trade_threshold_when_flow_then_multiple_of_median_notional():
    # notionals 100, 101, 102, 103, 208: median 102
    assert large_trade_threshold(trades(1, 1, 1, 1, 2)) == 4 * 102.0
    assert large_trade_threshold(trades(1, 1)) is None


def test_render_tape_when_price_differs_then_large_by_notional_not_size():
    flow = [Trade(str(i), 1_700_000_000_000 + i, 100.0, 1.0, "buy") for i in range(9)]
    # Same size as the flow at 5x the price: 5x the notional, so large.
    flow.append(Trade("x", 1_700_000_000_100, 500.0, 1.0, "sell"))
    lines = render_tape(flow, width=30, height=3, colors=COLORS)
    assert any(span.style.bgcolor for span in lines[1].spans)  # newest: the 500.00 print
    assert not any(span.style.bgcolor for span in lines[2].spans)


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


# -- price grouping -------------------------------------------------------------------------

TICK_BOOK = BookSnapshot(
    symbol="BTC/USDT",
    bids=((64250.13, 1.0), (64250.12, 2.0), (64250.05, 0.5), (64249.99, 4.0)),
    asks=((64250.14, 1.0), (64250.17, 1.5), (64250.21, 2.0)),
)


def test_book_tick_when_levels_then_smallest_gap_without_float_noise():
    assert book_tick(TICK_BOOK) == 0.01
    assert book_tick(BookSnapshot("X/Y", bids=((1.0, 1.0),))) is None


def test_group_levels_when_bids_then_floored_and_summed_in_order():
    assert group_levels(TICK_BOOK.bids, 0.1, up=False) == (
        (64250.1, 3.0), (64250.0, 0.5), (64249.9, 4.0))
    assert group_levels(TICK_BOOK.bids, 1.0, up=False) == ((64250.0, 3.5), (64249.0, 4.0))


def test_group_levels_when_asks_then_ceiled_and_on_grid_prices_stay():
    assert group_levels(TICK_BOOK.asks, 0.1, up=True) == ((64250.2, 2.5), (64250.3, 2.0))
    assert group_levels(((64250.2, 1.0), (64250.3, 1.0)), 0.1, up=True) == (
        (64250.2, 1.0), (64250.3, 1.0))


def test_group_book_when_grouped_then_sizes_conserved_and_no_crossed_book():
    grouped = group_book(TICK_BOOK, 10.0)
    assert grouped.bids == ((64250.0, 3.5), (64240.0, 4.0))
    assert grouped.asks == ((64260.0, 4.5),)
    assert sum(s for _, s in grouped.bids) == sum(s for _, s in TICK_BOOK.bids)
    assert group_book(TICK_BOOK, None) is TICK_BOOK


class LadderApp(App[None]):
    def compose(self) -> ComposeResult:
        yield OrderBookLadder(id="book")


async def test_ladder_group_when_coarser_and_finer_then_steps_of_ten_ticks_and_label():
    app = LadderApp()
    async with app.run_test(size=(40, 20)) as pilot:
        ladder = app.query_one(OrderBookLadder)
        assert ladder.group(1) == ""  # no book yet: nothing to learn the tick from
        ladder.update_data(TICK_BOOK, COLORS)
        assert [ladder.group(1) for _ in range(4)] == ["0.1", "1", "10", "10"]
        assert ladder.group(-1) == "1"
        await pilot.pause()
        lines = [line.text if isinstance(line, Strip) else line.plain
                 for line in ladder.build_lines(40, 20)]
        assert any(line.split()[:1] == ["64250.00"] for line in lines)
        assert any("by 1" in line for line in lines)
        assert [ladder.group(-1) for _ in range(3)] == ["0.1", "tick (0.01)", "tick (0.01)"]
        # Another symbol: back to the raw book, its tick learnt again.
        ladder.group(1)
        ladder.update_data(BookSnapshot("ETH/USDT", bids=((3000.5, 1.0), (3000.0, 1.0))), COLORS)
        assert ladder.group_step is None
        assert ladder.group(1) == "5"
