"""The journal screen on a journal file written by the project's own writer."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fake_engine import FakeEngine
from textual.widgets import DataTable
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.core.models import Signal
from tradeterm.core.trading import (
    AccountSnapshot, ClosedTrade, Fill, Liquidity, Order, OrderRequest, OrderStatus, OrderType,
)
from tradeterm.journal import AccountRecord, JournalWriter, SignalRecord
from tradeterm.journal.cli import parse_since
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.screens.history import HistoryScreen

T = parse_since("2024-05-02")


def trade(pnl: str, r: str, closed_ms: int, strategy: str | None) -> ClosedTrade:
    return ClosedTrade("BTC/USDT", "buy", Decimal("0.1"), Decimal("100"), Decimal("101"),
                       closed_ms - 60_000, closed_ms, Decimal(pnl), Decimal("0.02"),
                       Decimal(r), Decimal("-1"), Decimal("2"), strategy)


def write_journal(path: Path) -> None:
    request = OrderRequest("BTC/USDT", "buy", OrderType.MARKET, Decimal("0.1"),
                           strategy="ema_cross")
    order = Order("o-1", request, OrderStatus.FILLED, T, T + 1, Decimal("0.1"),
                  Decimal("100.5"), Decimal("0.01"))
    fill = Fill("f-1", "o-1", "BTC/USDT", "buy", Decimal("100.5"), Decimal("0.1"),
                Decimal("0.01"), Liquidity.TAKER, T + 1, "ema_cross")
    signal = Signal("ema_cross", "BTC/USDT", "1m", T - 60_000, "entry", "buy", entry=100.4,
                    stop=99.0, confidence=0.7, reasons=("ema9>ema21",))
    account = AccountSnapshot("USDT", Decimal("10070"), Decimal("10070"), Decimal(0), Decimal(0))
    with JournalWriter(path) as writer:
        writer.write(
            trade("100", "1", T + 60_000, "ema_cross"),
            trade("-30", "-0.3", T + 120_000, None),
            order, fill, SignalRecord(T, signal, "accepted", order_id="o-1"),
            AccountRecord(T + 180_000, account),
        ).result(20)


def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, symbols=["BTC/USDT"])


def table(app: TradetermApp, name: str) -> DataTable:
    return app.screen.query_one(f"#table-{name}", DataTable)


def words(app: TradetermApp) -> str:
    """The screen's text with wrapping undone (messages name long temporary paths)."""
    return " ".join(screen_text(app).split())


def row_count(app: TradetermApp, name: str) -> int:
    """Rows of a journal table, -1 while the screen is not (yet) showing it."""
    found = app.screen.query(f"#table-{name}")
    return found.first(DataTable).row_count if found else -1


def row_texts(t: DataTable) -> list[list[str]]:
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


async def test_journal_screen_shows_trades_fills_signals_orders_and_stats(tmp_path: Path):
    config = settings(tmp_path)
    write_journal(config.journal_file)
    app = TradetermApp(config, engine=FakeEngine(config))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen)
                       and row_count(app, "trades") == 2)
        trades = row_texts(table(app, "trades"))
        assert trades[0][1:3] == ["BTC/USDT", "buy"] and trades[0][6] == "-30.00"  # newest first
        assert trades[1][6] == "100.00" and trades[1][-2] == "ema_cross" and trades[0][-2] == "manual"
        pnl_cell = table(app, "trades").get_row_at(1)[6]
        assert pnl_cell.style == app.market_colors.profit
        assert table(app, "trades").get_row_at(0)[6].style == app.market_colors.loss

        assert row_texts(table(app, "fills"))[0][1:6] == [
            "BTC/USDT", "buy", "0.1", "100.5", "0.01"]
        assert row_texts(table(app, "signals"))[0][1] == "ema_cross"
        assert "accepted" in row_texts(table(app, "signals"))[0]
        assert row_texts(table(app, "orders"))[0][1] == "o-1"
        await wait_for(pilot, lambda: row_count(app, "stats") > 0)  # they follow the first page
        stats = {(r[0], r[1]): r for r in row_texts(table(app, "stats"))}
        assert stats[("all", "all")][2:5] == ["2", "50.00", "3.33"]  # trades, win %, PF
        assert stats[("all", "all")][5] == "70.00"
        assert "Journal" in screen_text(app) and "Trades" in screen_text(app)

        # r reads the file again: a trade written meanwhile appears.
        with JournalWriter(config.journal_file) as writer:
            writer.write(trade("5", "0.05", T + 240_000, "ema_cross")).result(20)
        await pilot.press("r")
        await wait_for(pilot, lambda: row_count(app, "trades") == 3)

        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HistoryScreen))


async def test_journal_screen_without_a_journal_says_so(tmp_path: Path):
    config = settings(tmp_path)
    app = TradetermApp(config, engine=FakeEngine(config))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("j")
        await wait_for(pilot, lambda: "created when tradeterm first trades" in words(app))
        assert "No journal at" in words(app)
        config.journal_file.write_bytes(b"")  # an empty file: never opened by the engine
        await pilot.press("r")
        await wait_for(pilot, lambda: "journal is empty" in words(app))
