"""Chart marks: signal and fill markers, position and order price lines with axis tags."""

from __future__ import annotations

from decimal import Decimal

from chart_fixtures import MINUTE
from test_ui_chart import COLORS, cell

from tradeterm.core.models import Candle, Signal
from tradeterm.core.trading import (
    Fill,
    Liquidity,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
)
from tradeterm.ui.chart.marks import PriceLine, chart_marks
from tradeterm.ui.chart.render import ChartRenderer

CANDLES = tuple(Candle(i * MINUTE, 100, 102, 98, 101, 1) for i in range(40))


def signal(bar: int, kind: str, side: str, symbol: str = "X/Y") -> Signal:
    return Signal("s", symbol, "1m", CANDLES[bar].open_time, kind, side)


def order(price: str, status: OrderStatus, symbol: str = "X/Y") -> Order:
    request = OrderRequest(symbol, "buy", OrderType.LIMIT, Decimal(1), price=Decimal(price))
    return Order("o" + price, request, status, 0, 0)


def position(**kwargs) -> Position:
    values = {"symbol": "X/Y", "quantity": Decimal(1), "average_entry": Decimal("100.5"),
              "opened_ms": 0} | kwargs
    return Position(**values)


def test_chart_marks_when_other_symbols_and_dead_orders_then_left_out():
    marks = chart_marks(
        "X/Y",
        [signal(3, "entry", "buy"), signal(4, "entry", "sell", symbol="Z/Y")],
        [Fill("f", "o", "Z/Y", "buy", Decimal(1), Decimal(1), Decimal(0), Liquidity.TAKER, 0)],
        [position(stop=Decimal("99"), target=Decimal("103")), position(symbol="Z/Y")],
        [order("99.5", OrderStatus.OPEN), order("98.5", OrderStatus.CANCELED),
         order("97", OrderStatus.OPEN, symbol="Z/Y")],
    )
    assert [s.bar_time for s in marks.signals] == [CANDLES[3].open_time]
    assert marks.fills == ()
    assert marks.lines == (
        PriceLine(100.5, "ENTRY", "entry"),
        PriceLine(99.0, "SL", "stop"),
        PriceLine(103.0, "TP", "target"),
        PriceLine(99.5, "BUY", "order"),
    )


def test_chart_marks_when_position_has_bracket_children_then_they_are_its_sl_tp_lines_only():
    from dataclasses import replace

    stop_child = replace(order("99", OrderStatus.OPEN), parent_id="entry-1")
    marks = chart_marks("X/Y", [], [], [position(stop=Decimal("99"))], [stop_child])
    assert marks.lines == (PriceLine(100.5, "ENTRY", "entry"), PriceLine(99.0, "SL", "stop"))
    # flat: a working child (e.g. before the position shows up) is still drawn
    assert chart_marks("X/Y", [], [], [], [stop_child]).lines == (PriceLine(99.0, "BUY", "order"),)


def render(marks):
    renderer = ChartRenderer()
    lines = renderer.render(CANDLES, width=60, height=24, colors=COLORS, marks=marks)
    return renderer, lines


def test_render_when_signals_then_buy_below_the_bar_sell_above_and_exit_glyph():
    marks = chart_marks("X/Y", [signal(30, "entry", "buy"), signal(33, "entry", "sell"),
                                signal(36, "exit", "sell")], [], [], [])
    renderer, lines = render(marks)
    scale, view = renderer.scale, renderer.view
    low_row, high_row = scale.row(98), scale.row(102)
    buy_x, sell_x, exit_x = (view.column_of_index(i) for i in (30, 33, 36))
    char, style = cell(lines[1 + low_row + 1], buy_x)
    assert char == "▲" and style.color.name == COLORS.up.lower()
    char, style = cell(lines[1 + high_row - 1], sell_x)
    assert char == "▼" and style.color.name == COLORS.down.lower()
    assert cell(lines[1 + high_row - 1], exit_x)[0] == "×"
    assert cell(lines[1 + low_row + 1], 31)[0] == " "  # nothing where no signal is


def test_render_when_fill_inside_a_candle_then_marker_at_its_price_in_that_column():
    fill = Fill("f", "o", "X/Y", "sell", Decimal("99.2"), Decimal(1), Decimal(0),
                Liquidity.TAKER, CANDLES[25].open_time + 30_000)
    renderer, lines = render(chart_marks("X/Y", [], [fill], [], []))
    x = renderer.view.column_of_index(25)
    char, style = cell(lines[1 + renderer.scale.row(99.2)], x)
    assert char == "◆" and style.color.name == COLORS.down.lower()


def test_render_when_position_then_entry_stop_target_lines_tagged_on_the_axis():
    marks = chart_marks("X/Y", [], [],
                        [position(stop=Decimal("98.5"), target=Decimal("103"))], [])
    renderer, lines = render(marks)
    scale, width = renderer.scale, renderer.view.plot_width
    for price, tag in ((103.0, "TP 103.00"), (98.5, "SL 98.50"), (100.5, "ENTRY 100.50")):
        text = lines[1 + scale.row(price)].text
        assert tag in text[width:], (tag, text)
    tp_row = lines[1 + scale.row(103.0)]
    char, style = cell(tp_row, 0)
    assert char == "╌" and style.color.name == COLORS.profit.lower()
    axis_style = cell(tp_row, width + 1)[1]
    assert axis_style.bgcolor.name == COLORS.profit.lower()


def test_render_when_stop_far_away_then_clipped_to_the_edge_with_an_arrow_not_in_scale():
    marks = chart_marks("X/Y", [], [], [position(stop=Decimal("50"), target=Decimal("150"))], [])
    renderer, lines = render(marks)
    scale, width = renderer.scale, renderer.view.plot_width
    assert scale.lo > 90 and scale.hi < 110  # the candles keep the height
    assert "▼SL 50.00" in lines[scale.rows].text[width:]  # last candle row
    assert "▲TP 150.00" in lines[1].text[width:]  # first candle row


def test_render_when_stop_near_then_scale_stretches_to_show_it():
    marks = chart_marks("X/Y", [], [], [position(stop=Decimal("96.5"))], [])
    renderer, lines = render(marks)
    assert renderer.scale.lo <= 96.5
    assert "SL 96.50" in lines[1 + renderer.scale.row(96.5)].text
