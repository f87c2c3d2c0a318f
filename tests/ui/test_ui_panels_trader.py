"""Issue 15, item 1: the positions and orders panels answer the trader's questions (entry,
mark, size, uPnL in quote and %, R, distance to stop and target, age; orders' filled / total,
status, age and the position and bracket leg they belong to), and a narrow panel abbreviates
before it drops, in a fixed priority order."""

from __future__ import annotations

from decimal import Decimal

from test_ui_panels import COLORS, T0, account, color_of, snapshot

from tradeterm.core.models import BookSnapshot, MarketSnapshot, Ticker
from tradeterm.core.trading import Order, OrderRequest, OrderStatus, OrderType, Position
from tradeterm.ui.widgets.orders import bracket_link, order_rows, render_orders
from tradeterm.ui.widgets.positions import (
    distance_pct,
    pnl_pct,
    position_rows,
    render_positions,
)
from tradeterm.ui.widgets.table import Column, fit_columns

D = Decimal
HOUR = 3_600_000


def book_at(mid: str) -> MarketSnapshot:
    m = float(mid)
    return MarketSnapshot("BTC/USDT", "1m",
                          book=BookSnapshot("BTC/USDT", bids=((m - 0.5, 1.0),),
                                            asks=((m + 0.5, 1.0),)))


def bracketed_long() -> tuple[Position, tuple[Order, ...]]:
    """Long 0.5 BTC from 100, stop 98, target 106 (risk 1 quote), with its bracket's legs."""
    pos = Position("BTC/USDT", D("0.5"), D("100"), T0, "ema_cross", stop=D("98"),
                   target=D("106"), initial_risk=D("1"))
    stop = Order("P1-2", OrderRequest("BTC/USDT", "sell", OrderType.STOP_MARKET, D("0.5"),
                                      stop_price=D("98"), reduce_only=True),
                 OrderStatus.OPEN, T0, T0, parent_id="P1-1", oco_group="P1-1")
    target = Order("P1-3", OrderRequest("BTC/USDT", "sell", OrderType.LIMIT, D("0.5"),
                                        price=D("106"), reduce_only=True),
                   OrderStatus.PARTIALLY_FILLED, T0, T0, filled_quantity=D("0.2"),
                   parent_id="P1-1", oco_group="P1-1")
    return pos, (stop, target)


# -- positions ------------------------------------------------------------------------------


def test_positions_wide_then_every_question_answered_exact_and_rounded():
    pos, legs = bracketed_long()
    snap = snapshot(account=account((pos,), legs), market=book_at("101"))
    (row,) = position_rows(snap, T0 + 2 * HOUR + 59 * 60_000)
    head, (line,) = render_positions((row,), 140, COLORS)
    assert head[0].plain.split() == ["Symbol", "Side", "Size", "Entry", "Mark", "uPnL", "uPnL%",
                                     "R", "ToStop", "ToTgt", "Age", "Stop/Target", "Strategy"]
    # uPnL = (101 - 100) x 0.5 = 0.50 quote = 1 % of the 50 entry notional = +0.50 R;
    # to stop (101-98)/101 = 2.9703 %, to target (106-101)/101 = 4.9505 %; age 2 h 59 m -> 2h
    assert line.plain.split() == ["BTC/USDT", "LONG", "0.5", "100.00", "101.00", "+0.50",
                                  "+1.00%", "+0.50R", "2.97%", "4.95%", "2h", "98.00/106.00",
                                  "ema_cross"]
    assert color_of(line, "+1.00%") == COLORS.profit


def test_positions_short_then_distances_mirrored_and_pnl_pct_signed():
    pos = Position("BTC/USDT", D("-2"), D("100"), T0, None, stop=D("102"), target=D("95"))
    assert distance_pct(pos, pos.stop, 99.0, to_stop=True) == D("300") / D("99")  # 3.0303 %
    assert distance_pct(pos, pos.target, 99.0, to_stop=False) == D("400") / D("99")
    assert pnl_pct(pos, D("2")) == D("1")  # +2 quote on a 200 notional
    assert pnl_pct(pos, D("-3")) == D("-1.5")
    snap = snapshot(account=account((pos,)), market=book_at("99"))
    _, (line,) = render_positions(position_rows(snap, T0), 140, COLORS)
    cells = line.plain.split()
    assert cells[6:10] == ["+1.00%", "no", "stop", "4.04%"]  # no stop order: warned, not %


def test_positions_when_mark_past_the_stop_then_negative_distance_in_warning_colour():
    pos, legs = bracketed_long()
    snap = snapshot(account=account((pos,), legs), market=book_at("97.5"))
    (row,) = position_rows(snap, T0)
    assert distance_pct(pos, pos.stop, row.mark, to_stop=True) < 0
    _, (line,) = render_positions((row,), 140, COLORS)
    assert "-0.51%" in line.plain  # (97.5 - 98) / 97.5 = -0.5128 %
    assert color_of(line, "-0.51%") == COLORS.warning


def test_positions_distance_rounds_half_to_even_on_the_display_policy():
    pos = Position("BTC/USDT", D("1"), D("100"), T0, None, stop=D("99.875"))
    assert distance_pct(pos, pos.stop, 100.0, to_stop=True) == D("0.125")
    stop = Order("s", OrderRequest("BTC/USDT", "sell", OrderType.STOP_MARKET, D("1"),
                                   stop_price=D("99.875")), OrderStatus.OPEN, T0, T0)
    snap = snapshot(account=account((pos,), (stop,)), market=book_at("100"))
    _, (line,) = render_positions(position_rows(snap, T0), 140, COLORS)
    assert " 0.12% " in line.plain  # half-to-even, like every number on screen


def test_positions_age_from_the_given_clock():
    pos, legs = bracketed_long()
    snap = snapshot(account=account((pos,), legs), market=book_at("101"))
    ages = [position_rows(snap, T0 + ms)[0].age for ms in (42_000, 7 * 60_000, 3 * HOUR)]
    assert ages == ["42s", "7m", "3h"]


def test_positions_narrowing_then_abbreviated_first_then_dropped_in_priority_order():
    pos, legs = bracketed_long()
    snap = snapshot(account=account((pos,), legs), market=book_at("101"))
    rows = position_rows(snap, T0 + HOUR)
    titles = {w: render_positions(rows, w, COLORS)[0][0].plain.split()
              for w in (119, 80, 60, 44, 31, 20)}
    assert titles[119][-2:] == ["Stop/Target", "Strategy"]  # all, unabbreviated
    assert titles[80] == ["Sym", "Size", "Entry", "Mark", "uPnL", "uPnL%", "R", "ToStop", "ToTgt",
                          "Age"]
    assert titles[60] == ["Sym", "Size", "uPnL", "uPnL%", "R", "ToStop", "ToTgt", "Age"]
    assert titles[44] == ["Sym", "Size", "uPnL", "R", "ToStop"]  # the 120x40 trading column
    assert titles[31] == ["Sym", "uPnL", "R"]
    assert titles[20] == ["Sym", "uPnL"]
    _, (line,) = render_positions(rows, 44, COLORS)
    assert line.plain.split() == ["BTC", "L", "0.5", "+0.50", "+0.50R", "2.97%"]


# -- orders ---------------------------------------------------------------------------------


def test_orders_bracket_legs_linked_to_their_entry_and_position():
    pos, (stop, target) = bracketed_long()
    entry = Order("P1-9", OrderRequest("BTC/USDT", "buy", OrderType.LIMIT, D("0.25"),
                                       price=D("95")), OrderStatus.OPEN, T0, T0)
    exit_ = Order("P1-8", OrderRequest("BTC/USDT", "sell", OrderType.LIMIT, D("0.25"),
                                       price=D("110")), OrderStatus.OPEN, T0, T0)
    oco = Order("P1-6", OrderRequest("ETH/USDT", "sell", OrderType.STOP_LIMIT, D("1"),
                                     price=D("90"), stop_price=D("91")),
                OrderStatus.OPEN, T0, T0, oco_group="g")
    sides = {"BTC/USDT": "buy"}
    assert bracket_link(stop, sides) == ("SL P1-1", "SL P1-1")
    assert bracket_link(target, sides) == ("TP P1-1", "TP P1-1")
    assert bracket_link(oco, sides) == ("OCO SL", "OCO SL")
    assert bracket_link(exit_, sides) == ("exit", "exit")  # closes the open long
    assert bracket_link(entry, sides) == ("entry", "entry")
    assert bracket_link(exit_, {}) == ("entry", "entry")  # no position: it opens one
    long_parent = Order("x", stop.request, OrderStatus.OPEN, T0, T0, parent_id="P17000000-12")
    assert bracket_link(long_parent, sides) == ("SL …000-12", "SL …-12")


def test_a_scale_outs_take_profit_legs_show_their_number():
    from tradeterm.core.scale_out import leg_client_id

    legs = [Order(f"P1-{n + 4}", OrderRequest("BTC/USDT", "sell", OrderType.LIMIT, D("0.25"),
                                               price=D(100 + n), reduce_only=True,
                                               client_id=leg_client_id("P1-3", n)),
                  OrderStatus.OPEN, T0, T0, parent_id="P1-3", oco_group="g") for n in (1, 2, 3)]
    assert [bracket_link(o, {"BTC/USDT": "buy"}) for o in legs] == [
        ("TP1 P1-3", "TP1 …-3"), ("TP2 P1-3", "TP2 …-3"), ("TP3 P1-3", "TP3 …-3")]
    pos = Position("BTC/USDT", D("0.75"), D("100"), T0, "scaled", stop=D("98"), target=D("101"))
    stop = Order("P1-9", OrderRequest("BTC/USDT", "sell", OrderType.STOP_MARKET, D("0.75"),
                                      stop_price=D("98"), reduce_only=True),
                 OrderStatus.OPEN, T0, T0, parent_id="P1-3", oco_group="g")
    snap = snapshot(account=account((pos,), (stop, *legs[1:])))
    _, lines = render_orders(order_rows(snap, T0 + 5_000), 120, COLORS)
    assert [line.plain.split()[-2:] for line in lines] == [["SL", "P1-3"], ["TP2", "P1-3"],
                                                           ["TP3", "P1-3"]]


def test_orders_wide_then_filled_over_total_status_age_and_link():
    pos, legs = bracketed_long()
    snap = snapshot(account=account((pos,), legs))
    head, lines = render_orders(order_rows(snap, T0 + 95_000), 120, COLORS)
    assert head[0].plain.split() == ["Id", "Symbol", "Side", "Type", "Price", "Filled/Qty",
                                     "Status", "Age", "For"]
    assert [line.plain.split() for line in lines] == [
        ["P1-2", "BTC/USDT", "SELL", "STOP", "@98.00", "0/0.5", "open", "1m", "SL", "P1-1"],
        ["P1-3", "BTC/USDT", "SELL", "LMT", "106.00", "0.2/0.5", "partial", "1m", "TP", "P1-1"],
    ]


def test_orders_narrowing_then_abbreviated_first_then_dropped_in_priority_order():
    pos, legs = bracketed_long()
    snap = snapshot(account=account((pos,), legs), tickers=(Ticker("BTC/USDT", last=101.0),))
    rows = order_rows(snap, T0 + HOUR)
    titles = {w: render_orders(rows, w, COLORS)[0][0].plain.split()
              for w in (80, 70, 60, 44, 30)}
    assert titles[80][0] == "Id" and titles[80][-1] == "For"  # all, unabbreviated
    assert titles[70] == ["Symbol", "Side", "Type", "Price", "Filled/Qty", "St", "Age", "For"]
    assert titles[60] == ["Sym", "Type", "Price", "Filled/Qty", "Age", "For"]
    assert titles[44] == ["Sym", "Type", "Price", "Qty", "For"]  # the 120x40 trading column
    assert titles[30] == ["Sym", "Price", "Qty"]
    _, lines = render_orders(rows, 44, COLORS)
    assert lines[1].plain.split() == ["BTC", "S", "LMT", "106.00", "0.5", "TP", "P1-1"]


def test_fit_columns_gives_up_width_in_rank_order_abbreviating_before_dropping():
    cols = (Column("Symbol", 9, "<", short=("Sym", 4), short_rank=3),
            Column("b", 5, priority=2), Column("c", 5, priority=1, short=("C", 2)))
    assert [c.abbreviated for _, c in fit_columns(cols, 21)] == [False, False, False]

    def fit(width: int) -> list[tuple[str, int]]:
        return [(c.title, c.width) for _, c in fit_columns(cols, width)]

    assert fit(17) == [("Sym", 4), ("b", 5), ("c", 5)]  # rank 3: abbreviated first
    assert fit(13) == [("Sym", 4), ("c", 5)]  # then b (priority 2) goes
    assert fit(8) == [("Sym", 4), ("C", 2)]  # c's rank 1: abbreviated before it is dropped
    assert fit(5) == [("Sym", 4)]


# -- the app: the real panels in the real layout, the app's frozen clock --------------------


async def test_app_at_80x24_positions_and_orders_tabs_answer_with_the_apps_clock(tmp_path):
    from test_ui_snapshots import make_app, settled
    from ui_helpers import screen_text, wait_for

    app = make_app(tmp_path)  # FakeEngine demo account, wall clock frozen at T0 + 2h30m42s
    async with app.run_test(size=(80, 24)) as pilot:
        await settled(pilot)
        app.show_panel("positions")
        await wait_for(pilot, lambda: "uPnL%" in screen_text(app))
        text = screen_text(app)
        header = next(line for line in text.splitlines() if "uPnL%" in line)
        assert header.split() == ["Sym", "Size", "Entry", "Mark", "uPnL", "uPnL%", "R", "ToStop",
                                  "ToTgt", "Age"]
        btc = next(line for line in text.splitlines() if line.startswith("BTC   L"))
        assert btc.split()[-1] == "2h"  # opened at T0: aged by the app's clock, not the wall's
        app.show_panel("orders")
        await wait_for(pilot, lambda: "Filled/Qty" in screen_text(app))
        rows = [line.split() for line in screen_text(app).splitlines() if "BTC/USDT" in line
                and ("LMT" in line or "STOP" in line)]
        assert [(r[0], r[-2:]) for r in rows] == [
            ("P1-4", ["SL", "P1-3"]), ("P1-5", ["TP", "P1-3"]), ("P1-7", ["10m", "entry"])]


async def test_app_at_120x40_lower_panels_show_the_bracket_and_the_stop_distance(tmp_path):
    from test_ui_snapshots import make_app, settled
    from ui_helpers import screen_text

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(pilot)
        lines = [line[:80] for line in screen_text(app).splitlines()]  # the main column
    assert ["Sym", "Size", "Entry", "Mark", "uPnL", "uPnL%", "R", "ToStop", "ToTgt",
            "Age"] in [line.split() for line in lines]
    assert any(line.split()[:2] == ["BTC", "L"] and "2.00%" in line.split()
               for line in lines)  # the long's room to its stop, in % of the mark
    assert sum("P1-3" in line for line in lines) == 2  # both legs of entry P1-3's bracket


async def test_app_bracket_placed_through_the_real_paper_broker_linked_to_its_entry(tmp_path):
    """The link comes from what the broker records (``parent_id``), not from the fake's data:
    a market buy with a bracket through the real PaperBroker shows both legs as SL / TP of the
    entry order's id, and the distances to the bracket's stop and target."""
    from fake_engine import FakeEngine
    from test_ui_bracket_leg import bracket_buy
    from ui_helpers import screen_text, wait_for

    from tradeterm.config import Settings
    from tradeterm.ui.app import TradetermApp
    from tradeterm.ui.widgets.orders import short_id

    settings = Settings(symbols=["BTC/USDT", "ETH/USDT"], data_dir=tmp_path)
    engine = FakeEngine(settings, trading=True)
    stop_id, target_id = bracket_buy(engine)
    legs = {o.id: o for o in engine.broker.working_orders()}
    entry_id = legs[stop_id].parent_id
    assert entry_id is not None and legs[target_id].parent_id == entry_id
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(240, 70)) as pilot:
        await wait_for(pilot, lambda: "STOP" in screen_text(app))
        ids = (short_id(stop_id), short_id(target_id))  # the Id column shows the id's end
        cells = [part.split() for line in screen_text(app).splitlines()
                 for part in line.split("▏")]  # positions and orders are side by side
        rows = {c[0]: c for c in cells if c and c[0] in ids}  # the orders panel's rows
        assert rows[ids[0]][-2:] == ["SL", short_id(entry_id, 7)]
        assert rows[ids[1]][-2:] == ["TP", short_id(entry_id, 7)]
        pos = engine.broker.positions()[0]
        (row,) = app.query_one("#positions").rows
        expected = distance_pct(pos, pos.stop, row.mark, to_stop=True)
        assert expected is not None and expected > 0
        assert f"{expected.quantize(D('0.01'))}%" in screen_text(app)
