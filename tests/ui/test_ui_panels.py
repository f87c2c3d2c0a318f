"""Watchlist, positions, orders, account and signals: lines from constructed snapshots."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from tradeterm.core.models import (
    BookSnapshot,
    EnginePhase,
    EngineSnapshot,
    MarketSnapshot,
    Signal,
    StrategyHealth,
    StrategyState,
    Ticker,
    Trade,
)
from tradeterm.core.trading import (
    AccountSnapshot,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
)
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.account import account_view, daily_loss_limit, render_account
from tradeterm.ui.widgets.orders import fmt_age, order_price, order_rows, render_orders, short_id
from tradeterm.ui.widgets.positions import (
    mark_price,
    position_rows,
    render_positions,
    unrealized_pnl,
)
from tradeterm.ui.widgets.signals import render_signals
from tradeterm.ui.widgets.table import Column, fit_columns
from tradeterm.ui.widgets.watchlist import (
    fit_price,
    fmt_change,
    render_watchlist,
    sparkline,
    watch_rows,
)

COLORS = TradingColors(up="#00ff00", down="#ff0000", profit="#00aa00", loss="#aa0000",
                       accent="#ffff00", warning="#ff8800", error="#ff00ff")
T0 = 1_700_000_000_000
D = Decimal


def snapshot(**changes) -> EngineSnapshot:
    snap = EngineSnapshot(
        seq=1, phase=EnginePhase.RUNNING, exchange="binance", mode="paper", demo=False,
        symbols=("BTC/USDT", "ETH/USDT"), symbol="BTC/USDT", timeframe="1m",
        market=MarketSnapshot("BTC/USDT", "1m"),
    )
    return replace(snap, **changes)


def account(positions=(), orders=(), realized=D("-12.40")) -> AccountSnapshot:  # noqa: B008
    return AccountSnapshot("USDT", D("10000"), D("10010.5"), D("10.5"), realized,
                           tuple(positions), tuple(orders))


def color_of(text, word: str) -> str | None:
    """The colour of the span covering ``word`` in a rich Text (None if unstyled)."""
    start = text.plain.index(word)
    styles = [text.style] + [s.style for s in text.spans if s.start <= start < s.end]
    colors = [s.color.name for s in styles if not isinstance(s, str) and s.color is not None]
    return colors[-1] if colors else None


# -- table columns --------------------------------------------------------------------------


def test_fit_columns_when_narrow_then_highest_priority_numbers_dropped_first():
    cols = (Column("a", 5), Column("b", 5, priority=2), Column("c", 5, priority=1),
            Column("d", 5, grow=True))
    assert [c.title for _, c in fit_columns(cols, 23)] == ["a", "b", "c", "d"]
    assert [c.title for _, c in fit_columns(cols, 17)] == ["a", "c", "d"]
    assert [c.title for _, c in fit_columns(cols, 11)] == ["a", "d"]
    wide = fit_columns(cols, 30)
    assert wide[-1][1].width == 5 + 7  # the growing column takes the spare width


# -- watchlist ------------------------------------------------------------------------------


def test_sparkline_when_values_then_lowest_to_highest_blocks_and_downsampled():
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8) == "▁▂▃▄▅▆▇█"
    assert sparkline([5, 5, 5], 3) == "▄▄▄"
    line = sparkline(list(range(24)), 6)
    assert len(line) == 6 and line[0] == "▁" and line[-1] == "█"
    assert sparkline([1, 2], 0) == "" and sparkline([], 5) == ""


def test_fit_price_and_change_when_long_values_then_fewer_decimals():
    assert fit_price(64250.1, 8) == "64250.10"
    assert fit_price(104250.1, 8) == "104250.1"
    assert fmt_change(1.234) == "+1.23%" and fmt_change(-12.34) == "-12.3%"


def test_watchlist_when_tickers_and_sparklines_then_rows_coloured_and_chart_symbol_marked():
    snap = snapshot(
        tickers=(Ticker("BTC/USDT", last=64250.1, open_24h=63000.0),
                 Ticker("ETH/USDT", last=3000.0, open_24h=3100.0)),
        sparklines=(("BTC/USDT", (1.0, 2.0, 3.0)), ("ETH/USDT", (3.0, 2.0, 1.0))),
    )
    lines = render_watchlist(watch_rows(snap), "BTC/USDT", 40, COLORS)
    btc, eth = lines
    assert btc.plain.startswith("▸BTC/USDT") and eth.plain.startswith(" ETH/USDT")
    assert "64250.10" in btc.plain and "+1.98%" in btc.plain and "▁▅█" in btc.plain
    assert "-3.23%" in eth.plain and "█▅▁" in eth.plain
    assert color_of(btc, "+1.98%") == "#00ff00" and color_of(eth, "-3.23%") == "#ff0000"
    assert color_of(eth, "█▅▁") == "#ff0000"
    assert color_of(btc, "BTC/USDT") == "#ffff00"
    assert all(len(line.plain) == 40 for line in lines)


def test_watchlist_when_no_ticker_then_price_from_sparkline_and_no_change():
    snap = snapshot(sparklines=(("ETH/USDT", (2.0, 2.5)),))
    rows = watch_rows(snap)
    assert rows[0].last is None and rows[1].last == 2.5 and rows[1].change_pct is None
    assert "…" in render_watchlist(rows, "BTC/USDT", 40, COLORS)[0].plain


# -- positions ------------------------------------------------------------------------------


def test_unrealized_pnl_when_long_and_short_then_exact_decimal():
    long = Position("BTC/USDT", D("0.3"), D("64000.10"), T0)
    short = Position("BTC/USDT", D("-0.3"), D("64000.10"), T0)
    assert unrealized_pnl(long, 64100.2) == D("30.030")
    assert unrealized_pnl(short, 64100.2) == D("-30.030")
    assert unrealized_pnl(long, 0.1 + 0.2) == (D("0.30000000000000004") - D("64000.10")) * D("0.3")


def test_mark_price_when_chart_symbol_then_book_mid_else_last_trade_else_ticker():
    book = BookSnapshot("BTC/USDT", bids=((99.0, 1.0),), asks=((101.0, 1.0),))
    trade = Trade("1", T0, 98.5, 1.0, "buy")
    tickers = (Ticker("BTC/USDT", last=97.0), Ticker("ETH/USDT", last=2000.0))
    with_book = snapshot(market=MarketSnapshot("BTC/USDT", "1m", book=book, trades=(trade,)),
                         tickers=tickers)
    assert mark_price("BTC/USDT", with_book) == 100.0
    no_book = snapshot(market=MarketSnapshot("BTC/USDT", "1m", trades=(trade,)), tickers=tickers)
    assert mark_price("BTC/USDT", no_book) == 98.5
    assert mark_price("ETH/USDT", with_book) == 2000.0
    assert mark_price("SOL/USDT", with_book) is None


def test_positions_when_long_and_short_then_side_colours_pnl_and_r():
    positions = (
        Position("BTC/USDT", D("0.5"), D("100"), T0, "ema_cross", stop=D("98"),
                 target=D("106"), initial_risk=D("1")),
        Position("ETH/USDT", D("-2"), D("2010"), T0),
    )
    book = BookSnapshot("BTC/USDT", bids=((100.9, 1.0),), asks=((101.1, 1.0),))
    stop = Order("P1-2", OrderRequest("BTC/USDT", "sell", OrderType.STOP_MARKET, D("0.5"),
                                      stop_price=D("98"), reduce_only=True),
                 OrderStatus.OPEN, T0, T0)
    snap = snapshot(account=account(positions, (stop,)),
                    market=MarketSnapshot("BTC/USDT", "1m", book=book),
                    tickers=(Ticker("ETH/USDT", last=2020.0),))
    rows = position_rows(snap)
    assert [r.pnl for r in rows] == [D("0.50"), D("-20.0")]
    assert [r.stopped for r in rows] == [True, False]  # the short has no working stop
    assert rows[0].r == D("0.5") and rows[1].r is None
    head, lines = render_positions(rows, 120, COLORS)
    assert head[0].plain.split()[:3] == ["Symbol", "Side", "Size"]
    btc, eth = lines
    assert "LONG" in btc.plain and "+0.50" in btc.plain and "+0.50R" in btc.plain
    assert "98.00/106.00" in btc.plain and "ema_cross" in btc.plain
    assert "SHORT" in eth.plain and "-20.00" in eth.plain and "manual" in eth.plain
    assert "no stop/-" in eth.plain and color_of(eth, "no stop/-") == "#ff8800"
    assert color_of(btc, "LONG") == "#00ff00" and color_of(eth, "SHORT") == "#ff0000"
    assert color_of(btc, "+0.50") == "#00aa00" and color_of(eth, "-20.00") == "#aa0000"


def test_positions_when_narrow_then_symbol_side_and_pnl_kept():
    positions = (Position("BTC/USDT", D("1"), D("100"), T0, "ema_cross"),)
    snap = snapshot(account=account(positions), tickers=(Ticker("BTC/USDT", last=101.0),))
    head, lines = render_positions(position_rows(snap), 31, COLORS)
    # abbreviated before dropped: the base asset for the symbol, L/S for the side
    assert head[0].plain.split() == ["Sym", "uPnL", "R"]
    assert lines[0].plain.split() == ["BTC", "L", "+1.00"]


# -- orders ---------------------------------------------------------------------------------


def order(oid="P1-12", type_=OrderType.LIMIT, price=D("64000"), stop=None, filled=D(0),  # noqa: B008
          status=OrderStatus.OPEN, side="buy") -> Order:
    request = OrderRequest("BTC/USDT", side, type_, D("0.25"), price=price, stop_price=stop)
    return Order(oid, request, status, T0, T0, filled_quantity=filled)


def test_fmt_age_when_durations_then_largest_whole_unit():
    assert [fmt_age(ms) for ms in (0, 42_000, 7 * 60_000, 3 * 3_600_000, 2 * 86_400_000)] == [
        "0s", "42s", "7m", "3h", "2d"]


def test_order_price_when_limit_stop_or_market_then_price_or_trigger():
    assert order_price(order()) == "64000.00"
    assert order_price(order(type_=OrderType.STOP_MARKET, price=None, stop=D("63000"))) == (
        "@63000.00")
    assert order_price(order(type_=OrderType.MARKET, price=None)) == "market"
    assert short_id("P1700000000-12") == "…0000-12"


def test_orders_when_working_then_rows_with_side_colour_fill_status_and_age():
    orders = (order(), order("P1-13", filled=D("0.1"), status=OrderStatus.PARTIALLY_FILLED,
                             side="sell"))
    snap = snapshot(account=account(orders=orders))
    head, lines = render_orders(order_rows(snap, T0 + 95_000), 120, COLORS)
    assert head[0].plain.split() == ["Id", "Symbol", "Side", "Type", "Price", "Filled/Qty",
                                     "Status", "Age", "For"]
    assert lines[0].plain.split() == ["P1-12", "BTC/USDT", "BUY", "LMT", "64000.00", "0/0.25",
                                      "open", "1m", "entry"]
    assert lines[1].plain.split()[5:7] == ["0.1/0.25", "partial"]
    assert color_of(lines[1], "SELL") == COLORS.ask


# -- account --------------------------------------------------------------------------------


def test_account_when_loss_today_then_day_against_limit_with_bar():
    snap = snapshot(account=account(realized=D("-150")))
    # until the risk engine knows the day's start equity the limit is pending, never guessed
    pending = account_view(snap)
    assert daily_loss_limit(pending) is None
    lines = [line.plain for line in render_account(pending, 36, COLORS)]
    assert lines[2] == "day     -150.00 / limit pending" and "0%" in lines[3]
    # then its figure is the one shown
    view = account_view(replace(snap, daily_loss_limit=(D("10010.5") + D("150")) * 3 / 100))
    assert daily_loss_limit(view) == D("304.815")
    lines = [line.plain for line in render_account(view, 36, COLORS)]
    assert lines[0].startswith("equity  10010.50 USDT")
    assert "uPnL +10.50" in lines[1]
    assert lines[2] == "day     -150.00 / -304.82 limit"
    assert "██████░░░░░░ 49%" in lines[3]
    assert lines[4] == "ACTIVE"


def test_account_when_halted_or_reducing_then_state_coloured_with_reason():
    halted = snapshot(account=account(), trading_state="halted",
                      trading_reason="kill_switch: kill switch (K)")
    lines = render_account(account_view(halted), 80, COLORS)
    assert lines[4].plain == "HALTED: kill_switch: kill switch (K)"
    assert color_of(lines[4], "HALTED") == COLORS.error
    reducing = snapshot(account=account(), trading_state="reducing", trading_reason="loss")
    line = render_account(account_view(reducing), 80, COLORS)[4]
    assert line.plain == "REDUCING: loss" and color_of(line, "REDUCING") == COLORS.warning


def test_account_when_no_account_yet_then_waiting_line():
    assert "waiting" in render_account(account_view(snapshot()), 36, COLORS)[0].plain


# -- signals --------------------------------------------------------------------------------


def test_signals_when_several_then_health_line_and_newest_first():
    signals = (
        Signal("ema_cross", "BTC/USDT", "1m", T0, "entry", "buy", confidence=0.62,
               reasons=("ema 9 > 21", "volume up")),
        Signal("rsi_revert", "ETH/USDT", "1m", T0 + 60_000, "exit", "sell", confidence=0.4),
    )
    health = (StrategyHealth("ema_cross", StrategyState.ENABLED),
              StrategyHealth("slow", StrategyState.DISABLED),
              StrategyHealth("broken", StrategyState.FAILED))
    lines = render_signals(signals, health, 60, 5, COLORS)
    assert lines[0].plain == "strategies: 1 on · 1 off · 1 failed: broken"
    assert color_of(lines[0], "broken") == COLORS.error
    assert lines[1].plain.split()[1:] == ["rsi_revert", "EXIT", "ETH/USDT", "40%"]
    assert lines[2].plain.endswith("BUY  BTC/USDT 62% ema 9 > 21, volume up")
    assert color_of(lines[2], "BUY") == COLORS.bid and color_of(lines[1], "EXIT") == COLORS.ask
    narrow = render_signals(signals, health, 30, 5, COLORS)
    assert all(len(line.plain) <= 30 for line in narrow) and narrow[2].plain.endswith("…")


def test_signals_show_a_running_strategys_newest_status_even_without_a_signal():
    health = (StrategyHealth("ml_btc", StrategyState.ENABLED,
                             note="↓21% →55% ↑24% @3f2a9c1b BTC/USDT"),
              StrategyHealth("ml_old", StrategyState.FAILED, note="↓1% →98% ↑1% BTC/USDT"))
    lines = [line.plain for line in render_signals((), health, 70, 5, COLORS)]
    assert lines == ["strategies: 1 on · 1 failed: ml_old",
                     "ml_btc     ↓21% →55% ↑24% @3f2a9c1b BTC/USDT",
                     "no signals yet"]


def test_signals_when_none_then_empty_state():
    lines = [line.plain for line in render_signals((), (), 36, 5, COLORS)]
    assert lines == ["strategies: none loaded", "no signals yet"]


def test_fmt_qty_when_fits_then_exact_else_shortened():
    from tradeterm.ui.fmt import fmt_qty

    assert fmt_qty(D("0.00153")) == "0.00153"  # not 0.0015: a held quantity is shown exactly
    assert fmt_qty(D("1.50000")) == "1.5"
    assert fmt_qty(D("123456.123456")) == "123456.1"


def test_positions_when_stop_order_cancelled_then_no_stop_marked_at_any_width():
    """A position opened with a stop whose stop order is gone (cancelled, one leg kept) is
    marked: in the Stop/Target column, and in a line naming it that even a narrow panel shows."""
    from tradeterm.ui.widgets.positions import no_stop_line

    position = Position("BTC/USDT", D("0.5"), D("100"), T0, None, stop=D("98"), target=D("106"))
    target = Order("P1-3", OrderRequest("BTC/USDT", "sell", OrderType.LIMIT, D("0.5"),
                                        price=D("106"), reduce_only=True),
                   OrderStatus.OPEN, T0, T0, parent_id="P1-1")
    book = BookSnapshot("BTC/USDT", bids=((100.9, 1.0),), asks=((101.1, 1.0),))
    market = MarketSnapshot("BTC/USDT", "1m", book=book)
    rows = position_rows(snapshot(account=account((position,), (target,)), market=market))
    for width in (120, 44):
        warning = no_stop_line(rows, width, COLORS)
        assert warning is not None and warning.plain == "⚠ no stop: BTC/USDT"
        assert color_of(warning, "no stop") == "#ff8800"
    _, (line,) = render_positions(rows, 120, COLORS)
    assert "no stop/106.00" in line.plain and "98.00" not in line.plain
    stop = Order("P1-2", OrderRequest("BTC/USDT", "sell", OrderType.STOP_MARKET, D("0.5"),
                                      stop_price=D("98"), reduce_only=True),
                 OrderStatus.OPEN, T0, T0, parent_id="P1-1")
    rows = position_rows(snapshot(account=account((position,), (stop, target)), market=market))
    assert no_stop_line(rows, 120, COLORS) is None
    _, (line,) = render_positions(rows, 120, COLORS)
    assert "98.00/106.00" in line.plain
