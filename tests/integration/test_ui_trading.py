"""Trading from the keyboard against the real demo market: the app, the real engine, the
in-process simulator over loopback sockets and a real journal file in tmp_path.

Each test reads back what it did from three places: the engine's snapshot, the screen, and the
SQLite journal (opened read-only with ``sqlite3``, as any outside tool would)."""

from __future__ import annotations

import re
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from ui.ui_helpers import screen_text, wait_for  # tests/ is on sys.path (tests/conftest.py)

from tradeterm.config import Settings
from tradeterm.core.models import EnginePhase
from tradeterm.core.trading import OrderType
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.screens.confirm import ConfirmScreen
from tradeterm.ui.screens.ticket import OrderTicket

pytestmark = pytest.mark.integration

CENT = Decimal("0.01")


@pytest.fixture(autouse=True)
def fresh_memory():
    saved = OrderTicket.remembered
    OrderTicket.remembered = ("100", "quote")
    yield
    OrderTicket.remembered = saved


def trading_settings(tmp_path: Path) -> Settings:
    """Demo market, journal in tmp_path, no strategies (only the test trades)."""
    return Settings(demo=True, data_dir=tmp_path, symbols=["BTC/USDT", "ETH/USDT"],
                    strategies={"enabled": []})


def journal_rows(app: TradetermApp, sql: str, *params: object) -> list[tuple]:
    path = app.settings.journal_file
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute(sql, params).fetchall()


def ready(app: TradetermApp, symbol: str = "BTC/USDT") -> bool:
    """Engine running on ``symbol`` with a two-sided book, the journal open."""
    if app.engine is None:
        return False
    snap = app.engine.snapshot()
    book = snap.market.book
    return (snap.phase is EnginePhase.RUNNING and snap.account is not None
            and snap.market.symbol == symbol and book is not None
            and bool(book.bids) and bool(book.asks))


def touch(app: TradetermApp) -> tuple[Decimal, Decimal]:
    book = app.engine.snapshot().market.book
    return Decimal(repr(book.bids[0][0])), Decimal(repr(book.asks[0][0]))


def positions(app: TradetermApp) -> dict[str, Decimal]:
    account = app.engine.snapshot().account
    return {p.symbol: p.quantity for p in account.positions} if account else {}


def working(app: TradetermApp) -> list:
    account = app.engine.snapshot().account
    return list(account.orders) if account else []


def form(app: TradetermApp) -> OrderTicket:
    screen = app.screen
    assert isinstance(screen, OrderTicket)
    return screen


async def type_into(pilot, name: str, text: str) -> None:
    form(pilot.app).query_one(f"#field-{name}").focus()
    await pilot.press("end", "ctrl+u", *text)


async def open_ticket(pilot, key: str = "b") -> OrderTicket:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, OrderTicket), timeout=10)
    return form(pilot.app)


async def place_without_stop(pilot) -> None:
    """Enter on a ticket without a stop: it asks first ([ui] confirm_order_without_stop)."""
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), timeout=10)
    assert "has no stop" in screen_text(pilot.app)
    await pilot.press("y")


async def market_buy(pilot, symbol: str) -> None:
    """Buy 100 USDT of the chart's symbol at market from the ticket; wait for the position."""
    await open_ticket(pilot)
    await wait_for(pilot, lambda: "✓ allowed" in screen_text(pilot.app), timeout=20)
    await place_without_stop(pilot)
    await wait_for(pilot, lambda: symbol in positions(pilot.app), timeout=20)


async def confirm(pilot, key: str) -> None:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), timeout=10)
    await pilot.press("y")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, ConfirmScreen), timeout=10)


async def test_ticket_when_market_buy_with_stop_and_target_then_position_and_journaled_fill(
    tmp_path: Path,
):
    app = TradetermApp(trading_settings(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: ready(app), timeout=30)
        ticket = await open_ticket(pilot)
        _, ask = touch(app)
        stop = (ask * Decimal("0.99")).quantize(CENT)
        target = (ask * Decimal("1.02")).quantize(CENT)
        await pilot.press("tab", *str(stop), "tab", *str(target))  # size: 100 USDT by default
        await wait_for(pilot, lambda: "✓ allowed" in screen_text(app), timeout=20)
        text = screen_text(app)
        assert "Quantity" in text and "At risk" in text and "R:R" in text
        previewed = ticket.current
        assert previewed is not None and previewed.request is not None
        assert previewed.request.type is OrderType.MARKET
        assert Decimal(95) < previewed.notional <= Decimal(100)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "BTC/USDT" in positions(app), timeout=20)

        snap = app.engine.snapshot()
        (position,) = snap.account.positions
        assert position.quantity == previewed.quantity
        assert (position.stop, position.target) == (stop, target)
        await wait_for(pilot, lambda: len(app.engine.snapshot().fills) == 1, timeout=20)
        fill = app.engine.snapshot().fills[0]
        assert (fill.side, fill.quantity) == ("buy", previewed.quantity)
        # the positions panel's row: the side is abbreviated at 120x40 ("BTC   L   0.00154")
        await wait_for(pilot, lambda: re.search(r"BTC +L +\d", screen_text(app)) is not None,
                       timeout=10)

        rows = journal_rows(app, "SELECT id, order_id, side, quantity, price FROM fills")
        assert [(r[0], r[2], Decimal(r[3])) for r in rows] == [(fill.id, "buy", fill.quantity)]
        (order,) = journal_rows(app, "SELECT status, type, bracket_stop, bracket_target "
                                     "FROM orders WHERE id = ?", rows[0][1])
        assert order[:2] == ("filled", "market")
        assert (Decimal(order[2]), Decimal(order[3])) == (stop, target)
        await pilot.press("q")


async def test_ticket_when_limit_far_from_market_then_rests_and_x_cancels_it(tmp_path: Path):
    app = TradetermApp(trading_settings(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: ready(app), timeout=30)
        await open_ticket(pilot)
        await pilot.press("l")
        bid, _ = touch(app)
        limit = (bid * Decimal("0.96")).quantize(CENT)  # 4 % under: inside the price band
        await type_into(pilot, "price", str(limit))
        await wait_for(pilot, lambda: "✓ allowed" in screen_text(app), timeout=20)
        await place_without_stop(pilot)
        await wait_for(pilot, lambda: len(working(app)) == 1, timeout=20)
        (order,) = working(app)
        assert (order.request.type, order.request.price) == (OrderType.LIMIT, limit)
        # x cancels the order the panel highlights: wait until the panel shows it (it redraws
        # at ui.fps, after the engine has the order)
        await wait_for(pilot, lambda: app._orders.selected_order_id() == order.id, timeout=20)

        await pilot.press("x")
        await wait_for(pilot, lambda: working(app) == [], timeout=20)

        def cancelled() -> bool:
            rows = journal_rows(app, "SELECT status FROM orders WHERE id = ?", order.id)
            return rows == [("canceled",)]

        await wait_for(pilot, cancelled, timeout=20)
        assert positions(app) == {}
        await pilot.press("q")


async def test_flatten_when_two_positions_and_confirmed_then_none_left(tmp_path: Path):
    app = TradetermApp(trading_settings(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: ready(app), timeout=30)
        await market_buy(pilot, "BTC/USDT")
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: ready(app, "ETH/USDT"), timeout=20)
        await market_buy(pilot, "ETH/USDT")
        assert set(positions(app)) == {"BTC/USDT", "ETH/USDT"}

        await confirm(pilot, "F")
        await wait_for(pilot, lambda: positions(app) == {}, timeout=20)

        def closed_in_journal() -> bool:
            return journal_rows(app, "SELECT count(*) FROM positions") == [(2,)]

        await wait_for(pilot, closed_in_journal, timeout=20)
        await pilot.press("q")


async def test_kill_switch_when_confirmed_then_halted_new_order_denied_until_resumed(
    tmp_path: Path,
):
    app = TradetermApp(trading_settings(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: ready(app), timeout=30)
        await confirm(pilot, "K")
        await wait_for(pilot, lambda: app.engine.snapshot().trading_state == "halted",
                       timeout=20)
        await wait_for(pilot, lambda: "HALTED" in screen_text(app).splitlines()[0], timeout=10)

        await open_ticket(pilot)
        await wait_for(pilot, lambda: "✗ kill_switch" in screen_text(app), timeout=20)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, OrderTicket)
        assert any("Order not placed: kill_switch" in n.message for n in app._notifications)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, OrderTicket), timeout=10)

        await confirm(pilot, "R")
        await wait_for(pilot, lambda: app.engine.snapshot().trading_state == "active",
                       timeout=20)
        await wait_for(pilot, lambda: "HALTED" not in screen_text(app).splitlines()[0],
                       timeout=10)
        assert positions(app) == {} and working(app) == []
        await pilot.press("q")
