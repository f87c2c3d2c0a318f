"""The money display policy on every panel, toast and line: prices on the market's tick,
quantities on its step, quote amounts at the currency's decimals, R and % with 2; never 28
digits, trailing zeros past the precision or ``-0.00`` (issue 11, item 5)."""

from __future__ import annotations


import re
from dataclasses import replace
from decimal import Decimal
from types import MappingProxyType

from tradeterm.core.display import DEFAULT_POLICY, MarketFormat
from tradeterm.core.models import (
    BookSnapshot,
    Candle,
    EnginePhase,
    EngineSnapshot,
    MarketPrecision,
    MarketSnapshot,
    Ticker,
    Trade,
)
from tradeterm.core.notices import describe_closed, describe_denial, describe_fill
from tradeterm.core.preview import OrderPreview
from tradeterm.core.trading import (
    AccountSnapshot,
    ClosedTrade,
    Fill,
    Liquidity,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
)
from tradeterm.ui.chart.header import header_text
from tradeterm.ui.screens.ticket import preview_text
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.account import account_view, render_account
from tradeterm.ui.widgets.book import build_ladder, render_ladder
from tradeterm.ui.widgets.orders import order_rows, render_orders
from tradeterm.ui.widgets.positions import position_rows, render_positions
from tradeterm.ui.widgets.status import status_text
from tradeterm.ui.widgets.tape import render_tape
from tradeterm.ui.widgets.watchlist import render_watchlist, watch_rows

D = Decimal
COLORS = TradingColors()
LONG_ENTRY = D("64994.77005769996020692399522")  # measured on the journal screen (issue 11)
BTC = MarketPrecision(D("0.01"), D("0.00001"), "BTC", "USDT")
MARKETS = MappingProxyType({"BTC/USDT": BTC})


def snapshot(**changes: object) -> EngineSnapshot:
    snap = EngineSnapshot(
        seq=1, phase=EnginePhase.RUNNING, exchange="binance", mode="paper", demo=False,
        symbols=("BTC/USDT",), symbol="BTC/USDT", timeframe="1m",
        market=MarketSnapshot("BTC/USDT", "1m"), markets=MARKETS,
    )
    return replace(snap, **changes)  # type: ignore[arg-type]


def account(*positions: Position, orders: tuple[Order, ...] = (), balance: str = "10000",
            unrealized: str = "0", realized: str = "0") -> AccountSnapshot:
    return AccountSnapshot("USDT", D(balance), D(balance) + D(unrealized), D(unrealized),
                           D(realized), positions, orders)


def text_of(lines: list) -> str:
    return "\n".join(line.plain for line in lines)


def with_mark(mark: float, position: Position) -> EngineSnapshot:
    book = BookSnapshot("BTC/USDT", bids=((mark, 1.0),), asks=((mark, 1.0),))
    return snapshot(market=MarketSnapshot("BTC/USDT", "1m", book=book),
                    account=account(position))


# -- positions ------------------------------------------------------------------------------


def test_position_entry_with_28_digits_shows_on_the_tick_and_r_with_two_decimals():
    pos = Position("BTC/USDT", D("0.00153"), LONG_ENTRY, 0, stop=D("64000.004999999"),
                   target=D("66000"), initial_risk=D("1.52"))
    (unprotected,) = position_rows(with_mark(65011.2345, pos))  # no stop order: marked
    assert "no stop/66000.00" in render_positions((unprotected,), 120, COLORS)[1][0].plain
    protected = replace(unprotected, stopped=True)  # as with a working stop order
    head, lines = render_positions((protected,), 120, COLORS)
    row = lines[0].plain
    assert "64994.77 " in row and "65011.23 " in row  # entry and mark on the 0.01 tick
    assert "64000.00/66000.00" in row  # stop and target on the tick, no extra digits
    assert "0.00153" in row
    pnl = (D("65011.2345") - LONG_ENTRY) * D("0.00153")  # 0.0250... quote
    r = pnl / D("1.52")  # a Decimal of 28 significant digits
    assert len(str(r)) > 20
    assert "+0.03 " in row and "+0.02R" in row
    assert "0057699" not in row and not re.search(r"\d\.\d{3,}R", row)


def test_position_upnl_just_below_zero_shows_0_00_not_minus_0_00():
    pos = Position("BTC/USDT", D("1"), D("100.004"), 0)  # mark 100.00: uPnL -0.004
    _, lines = render_positions(position_rows(with_mark(100.0, pos)), 120, COLORS)
    row = lines[0].plain
    assert " 0.00 " in row and "-0.00" not in row


def test_position_without_known_market_falls_back_to_magnitude_decimals():
    pos = Position("ETH/USDT", D("2.5000000000"), D("3000.123456789"), 0)
    snap = snapshot(account=account(pos), markets=MappingProxyType({}))
    _, lines = render_positions(position_rows(snap), 120, COLORS)
    row = lines[0].plain
    assert "3000.12 " in row and " 2.5 " in row and "2.5000" not in row


# -- orders ---------------------------------------------------------------------------------


def test_order_price_on_the_tick_and_quantity_on_the_step():
    request = OrderRequest("BTC/USDT", "buy", OrderType.LIMIT, D("0.0015300000"),
                           price=D("64000.1000000"))
    stop = OrderRequest("BTC/USDT", "sell", OrderType.STOP_MARKET, D("0.00153"),
                        stop_price=D("63000.0049999"))
    orders = (Order("a1", request, OrderStatus.OPEN, 0, 0),
              Order("a2", stop, OrderStatus.OPEN, 0, 0))
    snap = snapshot(account=account(orders=orders))
    _, lines = render_orders(order_rows(snap, 1000), 120, COLORS)
    assert "64000.10" in lines[0].plain and "0.00153 " in lines[0].plain
    assert "0.0015300000" not in lines[0].plain and "64000.1000000" not in lines[0].plain
    assert "@63000.00" in lines[1].plain
    coarse = MarketPrecision(D("0.5"), D("0.001"), "BTC", "USDT")  # a tick of 0.5
    snap = replace(snap, markets=MappingProxyType({"BTC/USDT": coarse}))
    _, lines = render_orders(order_rows(snap, 1000), 120, COLORS)
    assert "64000.0 " in lines[0].plain and "0.002 " in lines[0].plain
    assert "@63000.0 " in lines[1].plain


# -- account --------------------------------------------------------------------------------


def test_account_balance_with_trailing_zeros_shows_the_quote_decimals():
    view = account_view(snapshot(account=account(balance="9999.8600000", unrealized="-0.004",
                                                 realized="-1.2345678901234567890123456789"),
                                 daily_loss_limit=D("300.0327")))  # the risk engine's figure
    text = text_of(render_account(view, 60, COLORS))
    assert "balance 9999.86 " in text and "9999.8600000" not in text
    assert "uPnL 0.00" in text and "-0.00" not in text
    assert "day     -1.23 / -300.03 limit" in text  # its quote decimals


def test_account_quote_decimals_follow_the_display_config():
    policy = DEFAULT_POLICY.with_overrides({"USDT": 4})
    view = account_view(snapshot(account=account(balance="9999.8600000"), display=policy))
    text = text_of(render_account(view, 60, COLORS))
    assert "balance 9999.8600 " in text


# -- book, tape, status bar, watchlist, chart header ----------------------------------------


def test_book_and_tape_show_prices_on_the_tick_and_sizes_on_the_step():
    book = BookSnapshot("BTC/USDT", bids=((64999.9, 0.12345678),), asks=((65000.0, 1.5),))
    half = MarketPrecision(D("0.1"), D("0.001"), "BTC", "USDT")
    ladder = text_of(render_ladder(build_ladder(book, 5), 40, 8, COLORS, precision=half))
    assert "64999.9 " in ladder and "65000.0 " in ladder and "64999.90" not in ladder
    assert "0.123 " in ladder and "0.1235" not in ladder
    trades = [Trade("1", 0, 65000.04, 0.12345678, "buy")]
    tape = text_of(render_tape(trades, 40, 4, COLORS, precision=half))
    assert "65000.0 " in tape and "0.123" in tape and "0.1235" not in tape


def test_status_bar_and_watchlist_and_chart_header_use_the_tick():
    # a 0.0001 tick, where the magnitude rule alone would show 5 decimals (0.12346)
    tick4 = MarketPrecision(D("0.0001"), D("1"), "DOGE", "USDT")
    snap = snapshot(symbols=("DOGE/USDT",), symbol="DOGE/USDT",
                    markets=MappingProxyType({"DOGE/USDT": tick4}),
                    tickers=(Ticker("DOGE/USDT", last=0.123456789, open_24h=0.12),))
    status = status_text(snap, 0, COLORS, 120).plain
    assert " 0.1235 " in status and "+2.88%" in status
    rows = watch_rows(snap)
    watch = text_of(render_watchlist(rows, "DOGE/USDT", 40, COLORS))
    assert "0.1235 " in watch and "0.12346" not in watch
    candle = Candle(0, 0.1200004, 0.13, 0.11, 0.123456789, 10.0)
    header = "".join(text for text, _ in header_text("DOGE/USDT", "1m", candle, D("0.0001")))
    assert "C 0.1235 " in header and "O 0.1200 " in header


# -- toasts, ticket, headless ---------------------------------------------------------------


def test_fill_denial_and_close_toasts_are_on_the_policy():
    fmt = MarketFormat(D("0.01"), D("0.00001"), "USDT")
    fill = Fill("f", "o", "BTC/USDT", "sell", LONG_ENTRY, D("0.0015300"), D("0.1"),
                Liquidity.TAKER, 0)
    assert describe_fill(fill, fmt) == "SOLD 0.00153 BTC/USDT @ 64994.77"
    request = OrderRequest("BTC/USDT", "buy", OrderType.MARKET, D("0.001530000"))
    assert describe_denial(request, "x", fmt) == "buy 0.00153 BTC/USDT denied: x"
    trade = ClosedTrade("BTC/USDT", "buy", D("0.00153"), LONG_ENTRY, D("65000"), 0, 1,
                        D("-0.0040000"), D("0.1"), D("1.2345678901234567890123456789"),
                        D(0), D(0))
    assert describe_closed(trade, fmt) == "Closed long 0.00153 BTC/USDT: PnL 0.00, +1.23 R"


def test_ticket_preview_numbers_on_the_policy():
    preview = OrderPreview(
        None, True, reference_price=LONG_ENTRY, quantity=D("0.001530000"),
        notional=D("99.44199818827093911659371082"), risk_amount=D("1.5200000"),
        risk_pct=D("0.01519999999999999"), reward_risk=D("2.3333333333333333333333333"),
        fee_estimate=D("0.19888399637654187823318742164"),
    )
    fmt = MarketFormat(D("0.01"), D("0.00001"), "USDT")
    text = preview_text(preview, "BTC/USDT", COLORS, fmt=fmt).plain
    assert "0.00153 BTC" in text and "64994.77" in text and "99.44 USDT" in text
    assert "1.52 USDT (0.02 % of equity)" in text and "R:R       2.33" in text
    assert "0.20 USDT (in and out" in text
    assert not re.search(r"\d\.\d{6,}", text)


def test_headless_fill_line_on_the_policy():
    from tradeterm.core.events import OrderFilled
    from tradeterm.headless import describe

    request = OrderRequest("BTC/USDT", "buy", OrderType.MARKET, D("0.00153"))
    order = Order("o1", request, OrderStatus.FILLED, 0, 0, D("0.00153"), LONG_ENTRY)
    fill = Fill("f1", "o1", "BTC/USDT", "buy", LONG_ENTRY, D("0.00153"),
                D("0.09944199818827093911659371082"), Liquidity.TAKER, 0)
    line = describe(OrderFilled(0, fill, order), snapshot().market_format)
    assert line.endswith("OrderFilled order=o1 fill=f1 BOUGHT 0.00153 BTC/USDT @ 64994.77 fee=0.10")


def test_position_prices_follow_a_coarser_tick_not_the_magnitude():
    coarse = MappingProxyType({"BTC/USDT": MarketPrecision(D("0.1"), D("0.001"), "BTC", "USDT")})
    pos = Position("BTC/USDT", D("0.0015"), LONG_ENTRY, 0)
    snap = replace(with_mark(65011.2345, pos), markets=coarse)
    _, lines = render_positions(position_rows(snap), 120, COLORS)
    row = lines[0].plain
    assert "64994.8 " in row and "65011.2 " in row and " 0.002 " in row  # half-even on 0.001
    assert "64994.77" not in row


def test_chart_axis_labels_are_prices_on_the_tick():
    from tradeterm.ui.chart.axes import PriceScale, axis_labels

    scale = PriceScale(lo=100.0, hi=102.0, rows=30)  # a 0.2 step by itself
    assert "100.2" in axis_labels(scale).values()
    labels = axis_labels(scale, 0.5)
    assert labels and all((float(v) / 0.5).is_integer() for v in labels.values())
    assert all(len(v.split(".")[1]) == 1 for v in labels.values())  # the tick's decimals
    fine = axis_labels(PriceScale(lo=0.5, hi=0.6, rows=15), 0.01)
    assert fine and all(len(v.split(".")[1]) <= 2 for v in fine.values())


def test_headless_denial_and_close_lines_on_the_policy_and_other_events_unchanged():
    from tradeterm.core.events import EngineReady, OrderDenied, PositionClosed
    from tradeterm.headless import describe

    fmt_for = snapshot().market_format
    request = OrderRequest("BTC/USDT", "buy", OrderType.MARKET, D("0.0000500"))
    denied = describe(OrderDenied(0, request, "MIN_NOTIONAL: notional 3.25 below minimum 5.00",
                                  "MIN_NOTIONAL"), fmt_for)
    assert denied.endswith("OrderDenied rule=MIN_NOTIONAL buy 0.00005 BTC/USDT denied: "
                           "MIN_NOTIONAL: notional 3.25 below minimum 5.00")
    trade = ClosedTrade("BTC/USDT", "sell", D("0.00153"), LONG_ENTRY, D("64000"), 0, 1,
                        D("1.5218200882649999"), D("0.1"), D("-0.99999999999999999999"),
                        D(0), D(0))
    closed = describe(PositionClosed(0, trade), fmt_for)
    assert closed.endswith("PositionClosed Closed short 0.00153 BTC/USDT: PnL +1.52, -1.00 R")
    ready = describe(EngineReady(0, exchange="binance", symbols=("BTC/USDT",)), fmt_for)
    assert ready.endswith("EngineReady exchange=binance symbols=('BTC/USDT',)")
