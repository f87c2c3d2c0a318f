"""Notifications that never hide work: bursts fold into one toast, toasts stay off the book, the
tape and the ticket's verdict, and the log screen (N) lists every notice, newest first."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from fake_engine import FakeEngine
from textual.geometry import Region
from textual.widgets import DataTable
from textual.widgets._toast import Toast
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.core.events import OrderDenied, OrderFilled, TradingStateChanged
from tradeterm.core.models import MarketPrecision
from tradeterm.core.trading import Fill, Liquidity, Order, OrderRequest, OrderStatus, OrderType
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.notices import Coalescer, Notice, NoticeLog
from tradeterm.ui.screens.notices import NotificationLogScreen
from tradeterm.ui.screens.ticket import OrderTicket

REQUEST = OrderRequest("BTC/USDT", "buy", OrderType.MARKET, Decimal("0.01"))
ORDER = Order("o1", REQUEST, OrderStatus.FILLED, 1, 2, Decimal("0.01"), Decimal("100.5"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(symbols=["BTC/USDT", "ETH/USDT"], data_dir=tmp_path)


def engine_for(settings: Settings) -> FakeEngine:
    engine = FakeEngine(settings)
    precision = MarketPrecision(Decimal("0.1"), Decimal("0.001"), "BTC", "USDT")
    engine._snap = replace(engine._snap, markets={"BTC/USDT": precision})
    return engine


def fill(i: int, symbol: str = "BTC/USDT") -> OrderFilled:
    price = Decimal("100") + i
    return OrderFilled(i, Fill(f"f{i}", "o1", symbol, "buy", price, Decimal("0.01"),
                               Decimal("0.001"), Liquidity.TAKER, i), ORDER)


def shown(app: TradetermApp) -> list[str]:
    return [n.message for n in app._notifications]


def visible_toasts(app: TradetermApp) -> list[Region]:
    """The screen cells each toast really covers (clipped by the toast rack's scrolling)."""
    visible = app.screen._compositor.visible_widgets
    regions = []
    for toast in app.screen.query(Toast):
        if toast in visible:
            region, clip = visible[toast]
            if region.intersection(clip).area:
                regions.append(region.intersection(clip))
    return regions


async def burst(pilot, app: TradetermApp, engine: FakeEngine) -> None:
    """Twelve fills, a denial and a halt at once, as fast replay raises them."""
    await wait_for(pilot, lambda: bool(engine.listeners))
    for i in range(12):
        engine.emit(fill(i, "ETH/USDT" if i == 5 else "BTC/USDT"))
    engine.emit(OrderDenied(20, REQUEST, "daily loss limit reached (3 %)", "daily_loss_limit"))
    engine.emit(TradingStateChanged(21, "halted", "kill switch (K)"))
    await wait_for(pilot, lambda: any(m.startswith("12 fills") for m in shown(app)))
    await wait_for(pilot, lambda: len(app.screen.query(Toast)) == 3)
    await pilot.pause(0.3)  # laid out and scrolled to the newest (a small screen shows fewer)
    assert visible_toasts(app)


# -- coalescing -------------------------------------------------------------------------------


def test_coalescer_when_same_kind_within_window_then_one_burst_else_a_new_one():
    coalescer = Coalescer(window_s=1.0)
    first = coalescer.offer("fill", "BTC/USDT", "a", "information", 5, now=10.0)
    assert first.count == 1
    for i, symbol in enumerate(("ETH/USDT", "BTC/USDT", "SOL/USDT", "XRP/USDT"), start=1):
        burst = coalescer.offer("fill", symbol, f"b{i}", "warning" if i == 2 else "information",
                                8, now=10.0 + 0.9 * i)  # each within the window of the last
    assert burst is first and burst.count == 5 and burst.severity == "warning"
    assert burst.timeout == 8
    assert burst.summary() == "5 fills: BTC/USDT, ETH/USDT, SOL/USDT +1 more\nlast: b4"
    assert coalescer.offer("denial", "BTC/USDT", "d", "warning", 8, now=13.7).count == 1
    assert coalescer.offer("fill", "BTC/USDT", "c", "information", 5, now=14.7).count == 1


def test_notice_log_when_full_then_oldest_dropped_and_newest_first():
    log = NoticeLog(size=3)
    for i in range(5):
        log.add(Notice(float(i), "information", "", f"n{i}"))
    assert [n.text for n in log.newest_first()] == ["n4", "n3", "n2"]


async def test_toasts_when_twelve_fills_in_a_burst_then_one_toast_with_the_count(settings):
    engine = engine_for(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await burst(pilot, app, engine)
        messages = shown(app)
        fills = [m for m in messages if "BOUGHT" in m]
        assert fills == ["12 fills: BTC/USDT, ETH/USDT\nlast: BOUGHT 0.010 BTC/USDT @ 111.0"]
        assert "buy 0.010 BTC/USDT denied: daily loss limit reached (3 %)" in messages
        assert "Trading HALTED: kill switch (K)" in messages
        assert len(messages) == 3
        # a fill after a quiet second starts a new burst: shown as it is
        await pilot.pause(1.2)
        engine.emit(fill(30))
        await wait_for(pilot, lambda: "BOUGHT 0.010 BTC/USDT @ 130.0" in shown(app))


# -- placement --------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "panel"), [
    ((120, 40), None), ((80, 24), None), ((240, 70), None),
    ((80, 24), "positions"), ((80, 24), "orders"), ((99, 31), "orders"),  # under the chart
])
async def test_toasts_when_shown_then_never_over_the_book_tape_tables_readout_or_verdict(
        settings, size, panel):
    engine = engine_for(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=size, notifications=True) as pilot:
        if panel is not None:
            app.show_panel(panel)
            await wait_for(pilot, lambda: getattr(app, f"_{panel}").region.area > 0)
        await burst(pilot, app, engine)
        toasts = visible_toasts(app)
        chart = app.query_one("#chart").region
        readout = chart._replace(height=app.query_one("#chart").renderer.header_rows)
        covered = [app._book.region, app._tape.region, app.query_one("#side").region,
                   app._positions.region, app._orders.region, readout]
        shown_panel = app._book if panel is None else getattr(app, f"_{panel}")
        assert shown_panel.region.area > 0 and readout.area > 0
        if panel is not None:  # over the chart's few rows, packed: the three toasts all show
            assert len(toasts) == 3, toasts
        for toast in toasts:
            assert toast.area > 0
            for work in covered:
                assert not toast.overlaps(work), (toast, work)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderTicket))
        await wait_for(pilot, lambda: "allowed" in screen_text(app) or "✗" in screen_text(app))
        await wait_for(pilot, lambda: len(visible_toasts(app)) > 0)
        preview = app.screen.query_one("#ticket-preview").region  # its last line: the verdict
        assert preview.area > 0
        for toast in visible_toasts(app):
            assert not toast.overlaps(preview), (toast, preview)


# -- the log ----------------------------------------------------------------------------------


async def test_log_when_N_then_every_notice_newest_first_and_escape_closes(settings):
    engine = engine_for(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await burst(pilot, app, engine)
        await pilot.press("N")
        await wait_for(pilot, lambda: isinstance(app.screen, NotificationLogScreen))
        table = app.screen.query_one(DataTable)
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        texts = [str(row[2]) for row in rows]
        # every one, the twelve fills folded into one toast included, newest first
        assert texts[0] == "Trading HALTED: kill switch (K)"
        assert texts[1] == "buy 0.010 BTC/USDT denied: daily loss limit reached (3 %)"
        # (ETH/USDT has no market precision here: the display policy's defaults)
        assert texts[2:14] == ["BOUGHT 0.01 ETH/USDT @ 105.00" if i == 5
                               else f"BOUGHT 0.010 BTC/USDT @ {100 + i}.0"
                               for i in reversed(range(12))]
        assert len(texts) == 14
        assert [str(row[1]) for row in rows[:2]] == ["error", "warning"]
        assert all(len(str(row[0])) == 8 for row in rows)  # HH:MM:SS
        assert "Notifications (" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is app.main_screen)
