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


def scale_out_children(targets: tuple[str, ...] = ("102", "103", "104")) -> list[Order]:
    """A long's scale-out bracket as the broker leaves it: the stop and one take-profit per
    leg (client ids from ``core.scale_out.leg_client_id``)."""
    from tradeterm.core.scale_out import leg_client_id

    stop = Order("c-0", OrderRequest("X/Y", "sell", OrderType.STOP_MARKET, Decimal(1),
                                     stop_price=Decimal("99"), reduce_only=True),
                 OrderStatus.OPEN, 0, 0, stop_price=Decimal("99"), parent_id="e", oco_group="g")
    legs = [Order(f"c-{n}", OrderRequest("X/Y", "sell", OrderType.LIMIT, Decimal("0.25"),
                                         price=Decimal(price), reduce_only=True,
                                         client_id=leg_client_id("e", n)),
                  OrderStatus.OPEN, 0, 0, parent_id="e", oco_group="g")
            for n, price in enumerate(targets, start=1)]
    return [stop, *reversed(legs)]  # in any order: drawn in leg order


def test_chart_marks_when_a_scale_out_then_one_tp_line_per_working_leg():
    pos = position(stop=Decimal("99"), target=Decimal("102"))
    marks = chart_marks("X/Y", [], [], [pos], scale_out_children())
    assert marks.lines == (
        PriceLine(100.5, "ENTRY", "entry"), PriceLine(99.0, "SL", "stop"),
        PriceLine(102.0, "TP1", "target"), PriceLine(103.0, "TP2", "target"),
        PriceLine(104.0, "TP3", "target"),
    )
    # target 1 filled: its order is gone, so is its line (not the position's stale first target)
    rest = [o for o in scale_out_children() if o.id != "c-1"]
    assert [line.tag for line in chart_marks("X/Y", [], [], [pos], rest).lines] == [
        "ENTRY", "SL", "TP2", "TP3"]


def test_render_when_a_scale_out_then_tp1_tp2_tp3_tagged_on_the_axis_in_profit_colour():
    marks = chart_marks("X/Y", [], [], [position(stop=Decimal("99"), target=Decimal("101"))],
                        scale_out_children(("101", "101.5", "101.8")))
    renderer, lines = render(marks)
    scale, width = renderer.scale, renderer.view.plot_width
    for price, tag in ((101.0, "TP1 101.00"), (101.5, "TP2 101.50"), (101.8, "TP3 101.80")):
        row = lines[1 + scale.row(price)]
        assert tag in row.text[width:], (tag, row.text)
        assert cell(row, width + 1)[1].bgcolor.name == COLORS.profit.lower()


async def test_app_chart_draws_every_take_profit_leg_of_a_real_scale_out(tmp_path):
    """Through the real PaperBroker: a market buy with three legs shows TP1, TP2 and TP3 on
    the chart's axis, each at its own price."""
    from fake_engine import FakeEngine
    from ui_helpers import screen_text, wait_for

    from tradeterm.config import Settings
    from tradeterm.core.commands import PlaceOrder
    from tradeterm.core.display import fmt_price
    from tradeterm.core.money import dec
    from tradeterm.core.scale_out import leg_weights
    from tradeterm.core.trading import Bracket, TargetLeg
    from tradeterm.ui.app import TradetermApp

    settings = Settings(symbols=["BTC/USDT", "ETH/USDT"], data_dir=tmp_path)
    engine = FakeEngine(settings, trading=True)
    ask = dec(engine.snapshot().market.book.asks[0][0])
    tick = engine.broker.rules["BTC/USDT"].tick
    targets = (ask + 2, ask + 4, ask + 6)
    legs = tuple(TargetLeg(p, w) for p, w in zip(targets, leg_weights((0.5, 0.25, 0.25)),
                                                  strict=True))
    request = OrderRequest("BTC/USDT", "buy", OrderType.MARKET, Decimal("0.5"),
                           bracket=Bracket(ask - 5, targets[0], legs))
    assert engine.handle(PlaceOrder(request)) is None
    assert len(engine.broker.working_orders()) == 4  # the stop and three legs
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(160, 50)) as pilot:
        tags = [f"TP{n} {fmt_price(p, tick)}" for n, p in enumerate(targets, start=1)]
        await wait_for(pilot, lambda: tags[0] in screen_text(app))
        text = screen_text(app)
        assert all(tag in text for tag in tags), (tags, text)
        assert f"SL {fmt_price(ask - 5, tick)}" in text
