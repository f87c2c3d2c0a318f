"""The panel widgets mounted: repaint only on a changed slice, cursor selection, Enter on the
watchlist, and the full app with the FakeEngine showing every panel populated."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from fake_engine import FakeEngine
from textual.app import App, ComposeResult
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.core.commands import CancelOrder, ClosePosition, SwitchSymbol
from tradeterm.core.models import EnginePhase, EngineSnapshot, MarketSnapshot, Ticker
from tradeterm.core.trading import AccountSnapshot, Position
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.account import AccountPanel
from tradeterm.ui.widgets.orders import OrdersTable
from tradeterm.ui.widgets.positions import PositionsTable
from tradeterm.ui.widgets.signals import SignalsPanel
from tradeterm.ui.widgets.watchlist import Watchlist

COLORS = TradingColors()
T0 = 1_700_000_000_000
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")


def snapshot(positions=(), **changes) -> EngineSnapshot:
    account = AccountSnapshot("USDT", Decimal(10_000), Decimal(10_000), Decimal(0), Decimal(0),
                              tuple(positions))
    snap = EngineSnapshot(
        seq=1, phase=EnginePhase.RUNNING, exchange="binance", mode="paper", demo=False,
        symbols=SYMBOLS, symbol="BTC/USDT", timeframe="1m",
        market=MarketSnapshot("BTC/USDT", "1m"), account=account,
        tickers=tuple(Ticker(s, last=100.0 * (i + 1), open_24h=99.0 * (i + 1))
                      for i, s in enumerate(SYMBOLS)),
    )
    return replace(snap, **changes)


def longs(*symbols: str) -> tuple[Position, ...]:
    return tuple(Position(s, Decimal(1), Decimal(90), T0) for s in symbols)


class Panels(App[None]):
    """The panels alone, stacked, with every Watchlist.Selected recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.selected: list[str] = []

    def compose(self) -> ComposeResult:
        yield Watchlist(id="watchlist")
        yield PositionsTable(id="positions")
        yield OrdersTable(id="orders")
        yield AccountPanel(id="account")
        yield SignalsPanel(id="signals")

    def on_watchlist_selected(self, message: Watchlist.Selected) -> None:
        self.selected.append(message.symbol)

    def push(self, snap: EngineSnapshot) -> None:
        for widget in self.query("#watchlist, #positions, #orders, #account, #signals"):
            widget.update_data(snap, COLORS)


def count_repaints(widget) -> list[bool]:
    calls: list[bool] = []
    original = widget.lines_changed

    def spy(*, full: bool = False) -> None:
        calls.append(full)
        original(full=full)

    widget.lines_changed = spy
    return calls


async def test_update_data_when_slice_unchanged_then_no_repaint():
    app = Panels()
    async with app.run_test(size=(100, 40)) as pilot:
        snap = snapshot(longs("BTC/USDT"))
        app.push(snap)
        await pilot.pause()
        widgets = app.query("#watchlist, #positions, #orders, #account, #signals")
        counts = {w.id: count_repaints(w) for w in widgets}
        # A new snapshot (seq moved) whose slices are equal: nobody repaints.
        app.push(replace(snap, seq=2, streams=()))
        assert all(not calls for calls in counts.values()), counts
        # The ETH ticker moved: the watchlist repaints; positions hold only BTC, so they do not.
        tickers = (*snap.tickers[:1], Ticker("ETH/USDT", last=201.0, open_24h=198.0),
                   *snap.tickers[2:])
        app.push(replace(snap, seq=3, tickers=tickers))
        assert len(counts["watchlist"]) == 1 and not counts["positions"]
        assert not counts["account"] and not counts["signals"] and not counts["orders"]


async def test_positions_cursor_when_down_then_next_symbol_and_follows_removals():
    app = Panels()
    async with app.run_test(size=(100, 40)) as pilot:
        table = app.query_one(PositionsTable)
        assert table.selected_symbol() is None
        app.push(snapshot(longs("BTC/USDT", "ETH/USDT", "SOL/USDT")))
        assert table.selected_symbol() == "BTC/USDT"  # the first when never moved
        table.focus()
        await pilot.press("down", "down", "down")
        assert table.selected_symbol() == "SOL/USDT"  # stops at the last row
        await pilot.press("up")
        assert table.selected_symbol() == "ETH/USDT"
        app.push(snapshot(longs("SOL/USDT", "ETH/USDT")))  # reordered: the cursor keeps ETH
        assert table.selected_symbol() == "ETH/USDT"
        app.push(snapshot(longs("SOL/USDT")))  # ETH closed: the row now at its index, or last
        assert table.selected_symbol() == "SOL/USDT"
        await pilot.pause()
        highlighted = [s for s in table.render_line(1) if s.style and s.style.bgcolor]
        assert highlighted and "SOL/USDT" in "".join(s.text for s in highlighted)
        app.push(snapshot(()))
        assert table.selected_symbol() is None
        await pilot.pause()
        assert "no open positions" in screen_text(app)


async def test_watchlist_when_enter_on_a_symbol_then_selected_message_posted():
    app = Panels()
    async with app.run_test(size=(100, 40)) as pilot:
        watchlist = app.query_one(Watchlist)
        app.push(snapshot())
        watchlist.focus()
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.selected == ["ETH/USDT"])
        # The chart switched by other means: the cursor follows it.
        app.push(snapshot(symbol="SOL/USDT", seq=2))
        assert watchlist.selected_key() == "SOL/USDT"
        assert watchlist.size.height == 3  # one row per symbol


async def test_app_with_fake_engine_then_every_panel_populated_and_keys_use_selection():
    settings = Settings()
    engine = FakeEngine(settings, panels=True)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:

        def populated() -> bool:
            text = screen_text(app)
            return all(word in text for word in (
                "▸BTC/USDT", "uPnL", "SL P1-3", "LMT", "equity", "ACTIVE",
                "failed: broken", "ema_cross", "-12.40 /"))

        await wait_for(pilot, populated)
        await pilot.press("c")
        app.query_one(OrdersTable).focus()
        await pilot.press("down", "down")  # past the bracket's two legs to the limit order
        await pilot.press("x")
        await wait_for(pilot, lambda: ClosePosition("BTC/USDT") in engine.commands
                       and CancelOrder("P1-7") in engine.commands)


async def test_app_watchlist_enter_then_chart_switches_to_that_symbol():
    settings = Settings()
    engine = FakeEngine(settings, panels=True)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: "▸BTC/USDT" in screen_text(app))
        app.query_one(Watchlist).focus()
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: SwitchSymbol("ETH/USDT") in engine.commands)
