"""The book and tape rows built as Strips draw exactly what their Text rows draw.

The widgets draw :func:`ladder_strips` and :func:`tape_strips` (segments made directly, for
speed); :func:`render_ladder` and :func:`render_tape` (rich Text) are the readable form the
other tests check. Over a varied set of books, trade flows, sizes, palettes and widget base
styles, each row of the two must become the same Strip in :class:`LineCacheWidget` (same
characters, same style per cell, same segments once joined).
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from rich.console import Console
from rich.style import Style
from textual.app import App, ComposeResult
from textual.strip import Strip

from tradeterm.core.models import BookSnapshot, MarketPrecision, Trade
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.book import (
    OrderBookLadder,
    build_ladder,
    group_book,
    ladder_depth,
    ladder_strips,
    render_ladder,
)
from tradeterm.ui.widgets.lines import ReadyStrip, to_strip
from tradeterm.ui.widgets.tape import TradesTape, render_tape, tape_strips

CONSOLE = Console(width=200, color_system="truecolor")
PALETTES = (
    TradingColors(),
    TradingColors(bid="#00ff00", ask="#ff0000", foreground="#000000", background="#ffffff",
                  muted="#777777", accent="#0000ff"),
    TradingColors(bid="#d5dae3", ask="#d5dae3", muted="#d5dae3"),  # sides in the foreground
)
BASES = (None, Style(color="#d5dae3", bgcolor="#0f1218"), Style(bgcolor="#202020", bold=True))
SIZES = ((39, 30), (36, 8), (60, 44), (20, 12), (12, 5), (8, 3), (39, 2))
PRECISIONS = (
    None,
    MarketPrecision(Decimal("0.01"), Decimal("0.001"), "BTC", "USDT"),
    MarketPrecision(Decimal("0.5"), Decimal("1"), "X", "USDT"),
)


def as_strips(lines: list, width: int, base: Style | None) -> list[Strip]:
    """What LineCacheWidget makes of each line, for a comparison of segments and styles."""
    return [to_strip(line, width, CONSOLE, base) for line in lines]


def random_book(rng: random.Random) -> BookSnapshot:
    mid = rng.choice((64_000.0, 1.2345, 0.00042, 150.0))
    tick = mid / 10_000
    levels = rng.randint(0, 25)

    def side(sign: int) -> tuple[tuple[float, float], ...]:
        count = max(0, levels - rng.randint(0, 3))
        return tuple(
            (mid + sign * (i + 1) * tick * rng.randint(1, 3),
             rng.choice((rng.uniform(0.001, 5), rng.uniform(100, 5e6), 1.0)))
            for i in range(count)
        )

    return BookSnapshot(symbol="BTC/USDT", bids=side(-1), asks=side(1))


@pytest.mark.parametrize("seed", range(40))
def test_ladder_strips_when_varied_books_then_same_cells_and_styles_as_the_text_rows(seed):
    rng = random.Random(seed)
    book = random_book(rng)
    if rng.random() < 0.3 and book.bids and book.asks:
        book = group_book(book, abs(book.asks[0][0] - book.bids[0][0]) * 3)
    width, height = rng.choice(SIZES)
    colors, base = rng.choice(PALETTES), rng.choice(BASES)
    precision, group = rng.choice(PRECISIONS), rng.choice((None, "10", "0.5"))
    ladder = build_ladder(book, ladder_depth(height))

    texts = render_ladder(ladder, width, height, colors, group, precision)
    strips = ladder_strips(ladder, width, height, colors, group, precision, base)

    assert len(strips) == len(texts)
    for y, (want, got) in enumerate(zip(as_strips(texts, width, base),
                                         as_strips(strips, width, base), strict=True)):
        assert list(got) == list(want), f"row {y} of {width}x{height}"


def random_trades(rng: random.Random) -> list[Trade]:
    price = rng.choice((64_000.0, 1.2345, 0.00042))
    out = []
    for i in range(rng.randint(0, 30)):
        size = rng.choice((rng.uniform(0.001, 2), rng.uniform(50, 500), 1e7))
        price *= 1 + rng.gauss(0, 0.001)
        out.append(Trade(str(i), 1_700_000_000_000 + i * 1500, price, size,
                         rng.choice(("buy", "sell"))))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_tape_strips_when_varied_trades_then_same_cells_and_styles_as_the_text_rows(seed):
    rng = random.Random(seed)
    trades = random_trades(rng)
    width, height = rng.choice(SIZES + ((39, 12), (50, 20)))
    colors, base, precision = rng.choice(PALETTES), rng.choice(BASES), rng.choice(PRECISIONS)

    texts = render_tape(trades, width, height, colors, precision)
    strips = tape_strips(trades, width, height, colors, precision, base)

    assert len(strips) == len(texts)
    for y, (want, got) in enumerate(zip(as_strips(texts, width, base),
                                         as_strips(strips, width, base), strict=True)):
        assert list(got) == list(want), f"row {y} of {width}x{height}"


def test_strip_rows_when_compared_then_the_cases_cover_bars_over_prices_and_large_prints():
    """The varied cases above do reach the rows where styles stack (else they prove little)."""
    book = BookSnapshot("X", bids=((99.0, 50.0), (98.0, 1.0)), asks=((101.0, 1.0),))
    ladder = build_ladder(book, 2)
    rows = ladder_strips(ladder, 20, 6, PALETTES[0])
    assert isinstance(rows[-1], ReadyStrip)  # served as built: nothing converts it after
    last_bid = as_strips(rows, 20, None)[-1]
    assert last_bid.text.strip().startswith("98.00")
    assert all(segment.style.bgcolor for segment in last_bid)  # the bar covers the price too
    assert list(last_bid)[0].style.color.name == PALETTES[0].bid
    flow = [Trade(str(i), 1_700_000_000_000, 100.0, 1.0 if i < 5 else 40.0, "buy")
            for i in range(6)]
    newest = as_strips(tape_strips(flow, 30, 3, PALETTES[0]), 30, None)[1]
    assert all(segment.style.bold for segment in newest)


class DepthApp(App):
    CSS = "OrderBookLadder, TradesTape { color: #c8d0e0; background: #141820; }"

    def compose(self) -> ComposeResult:
        yield OrderBookLadder(id="book")
        yield TradesTape(id="tape")


async def test_book_and_tape_widgets_when_drawn_then_rows_are_the_text_rows_over_their_style():
    """The widgets hand their own base style to the Strip builders (a wrong or missing one
    would change every row's colours or background)."""
    rng = random.Random(7)
    book, trades = random_book(rng), random_trades(rng)
    app = DepthApp()
    async with app.run_test(size=(40, 40)) as pilot:
        ladder, tape = app.query_one(OrderBookLadder), app.query_one(TradesTape)
        ladder.update_data(book, PALETTES[1])
        tape.update_data(tuple(trades), PALETTES[1])
        await pilot.pause()
        for widget, texts in (
            (ladder, render_ladder(build_ladder(book, ladder_depth(ladder.size.height)),
                                   ladder.size.width, ladder.size.height, PALETTES[1])),
            (tape, render_tape(trades, tape.size.width, tape.size.height, PALETTES[1])),
        ):
            width, base = widget.size.width, widget.visual_style.rich_style
            assert base.bgcolor is not None
            want = [to_strip(line, width, app.console, base) for line in texts]
            got = [widget.render_line(y) for y in range(len(texts))]
            assert [list(strip) for strip in got] == [list(strip) for strip in want]
