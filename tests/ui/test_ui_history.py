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
    return [[str(c).strip() for c in t.get_row_at(i)] for i in range(t.row_count)]


async def test_journal_screen_shows_trades_fills_signals_orders_and_stats(tmp_path: Path):
    config = settings(tmp_path)
    write_journal(config.journal_file)
    app = TradetermApp(config, engine=FakeEngine(config))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen)
                       and row_count(app, "trades") == 2)
        assert column(app, "symbol") == ["BTC/USDT"] * 2 and column(app, "side") == ["buy"] * 2
        assert column(app, "pnl") == ["-30.00", "100.00"]  # newest first
        assert column(app, "strategy") == ["manual", "ema_cross"]
        pnl = headers(app).index("pnl")
        assert table(app, "trades").get_row_at(1)[pnl].style == app.market_colors.profit
        assert table(app, "trades").get_row_at(0)[pnl].style == app.market_colors.loss

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


def story_journal(path: Path) -> None:
    """Trades on two symbols and strategies over three UTC days."""
    def closed(symbol: str, strategy: str, ms: int, pnl: str) -> ClosedTrade:
        return ClosedTrade(symbol, "buy", Decimal("1"), Decimal("100"), Decimal("101"),
                           ms - 3_600_000, ms, Decimal(pnl), Decimal("0.1"), Decimal("0.5"),
                           Decimal("-1.5"), Decimal("4"), strategy, initial_risk=Decimal("2"))
    day = 86_400_000
    trades = [closed("BTC/USDT", "ema_cross", T, "20"), closed("ETH/USDT", "rsi_revert", T + 1, "-8"),
              closed("BTC/USDT", "ema_cross", T + day, "-5"),
              closed("ETH/USDT", "rsi_revert", T + 2 * day, "12")]
    account = AccountSnapshot("USDT", Decimal("10019"), Decimal("10019"), Decimal(0), Decimal(0))
    with JournalWriter(path) as writer:
        writer.write(*trades, AccountRecord(T + 3 * day, account)).result(20)


def headers(app: TradetermApp, name: str = "trades") -> list[str]:
    return [str(c.label).strip() for c in table(app, name).columns.values()]


def column(app: TradetermApp, name: str) -> list[str]:
    at = headers(app).index(name)
    return [row[at] for row in row_texts(table(app, "trades"))]


async def test_journal_screen_charts_and_filters_follow_the_typed_filter(tmp_path: Path):
    config = settings(tmp_path)
    story_journal(config.journal_file)
    app = TradetermApp(config, engine=FakeEngine(config))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen)
                       and row_count(app, "trades") == 4)
        await wait_for(pilot, lambda: "4 trades" in screen_text(app))
        charts = app.screen.query_one("#journal-charts")
        tabs = app.screen.query_one("#history-tabs")
        assert charts.display and charts.region.height >= 10
        assert charts.region.bottom <= tabs.region.y  # the charts sit above the tables
        text = screen_text(app)
        assert "Equity +19.00 USDT · 4 trades · 2024-05-02 → 2024-05-04" in text
        assert "Daily PnL · 2024-05-04 +12.00" in text
        assert column(app, "MAE R") == ["-0.75"] * 4 and column(app, "MFE R") == ["2.00"] * 4
        assert column(app, "held") == ["1h 00m"] * 4

        await pilot.press("f")
        for key in "symbol:eth/usdt from:2024-05-03":
            await pilot.press({" ": "space", ":": "colon", "/": "slash"}.get(key, key))
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Equity +12.00 USDT · 1 trades" in screen_text(app))
        assert column(app, "symbol") == ["ETH/USDT"] and column(app, "pnl") == ["12.00"]
        assert "filter: ETH/USDT · 2024-05-03 → …" in screen_text(app)
        await wait_for(pilot, lambda: row_count(app, "stats") > 0)
        stats = {(r[0], r[1]): r for r in row_texts(table(app, "stats"))}
        assert stats[("all", "all")][2] == "1"  # the statistics follow the filter too

        await pilot.press("f")  # prefilled with the filter in effect; a strategy replaces it
        box = app.screen.query_one("#journal-filter-input")
        assert box.value == "symbol:ETH/USDT from:2024-05-03"
        box.value = "strategy:ema_cross"
        await pilot.press("enter")
        await wait_for(pilot, lambda: column(app, "strategy") == ["ema_cross"] * 2)
        assert "Equity +15.00 USDT · 2 trades" in screen_text(app)

        await pilot.press("x")
        await wait_for(pilot, lambda: row_count(app, "trades") == 4
                       and "4 trades" in screen_text(app))
        assert "all trades · f filter" in screen_text(app)


async def test_a_bad_date_in_the_filter_says_why_and_x_recovers(tmp_path: Path):
    config = settings(tmp_path)
    story_journal(config.journal_file)
    app = TradetermApp(config, engine=FakeEngine(config))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen)
                       and row_count(app, "trades") == 4)
        await pilot.press("f")
        app.screen.query_one("#journal-filter-input").value = "from:2024-02-31"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "from: expected a UTC date" in words(app))
        assert "x clears the filter" in words(app)
        await pilot.press("x")
        await wait_for(pilot, lambda: row_count(app, "trades") == 4
                       and app.screen.query_one("#history-tabs").display)


def test_the_filter_words_become_request_arguments():
    from tradeterm.ui.screens.journal_charts import describe, filter_text, parse_filter

    assert parse_filter("eth/usdt breakout 2024-05-01 2024-05-03") == {
        "symbol": "ETH/USDT", "strategy": "breakout", "from": "2024-05-01", "to": "2024-05-03"}
    typed = parse_filter("symbol:BTC/USDT:USDT strategy:ema_cross to:2024-05-02T12:00")
    assert typed == {"symbol": "BTC/USDT:USDT", "strategy": "ema_cross",
                     "to": "2024-05-02T12:00"}
    assert parse_filter(filter_text(typed)) == typed  # the input is prefilled with this
    assert parse_filter("") == {} and describe({}).startswith("all trades")
    for bad, why in (("sym:BTC/USDT", "unknown filter 'sym'"), ("from:", "from: needs a value")):
        try:
            parse_filter(bad)
        except ValueError as exc:
            assert why in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")


async def test_at_80x24_the_tables_keep_the_rows_and_the_filter_still_works(tmp_path: Path):
    config = settings(tmp_path)
    story_journal(config.journal_file)
    app = TradetermApp(config, engine=FakeEngine(config))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen)
                       and row_count(app, "trades") == 4)
        assert not app.screen.query_one("#journal-charts").display
        await pilot.press("f")
        app.screen.query_one("#journal-filter-input").value = "rsi_revert"
        await pilot.press("enter")
        await wait_for(pilot, lambda: row_count(app, "trades") == 2)
        assert column(app, "symbol") == ["ETH/USDT", "ETH/USDT"]
        await pilot.resize_terminal(120, 40)  # room again: the charts come back, drawn
        await wait_for(pilot, lambda: "Equity +4.00 USDT · 2 trades" in screen_text(app))


def test_equity_axis_when_every_close_is_on_one_day_then_times_of_day_not_the_same_date():
    """Seen trying the demo: four trades on one day drew ``12-07`` three times under the curve."""
    from tradeterm.ui.screens.journal_charts import CurveData, equity_chart

    day = 1_796_601_600_000  # 2026-12-07 00:00 UTC
    minute = 60_000
    one_day = CurveData([(day + (11 * 60 + 25) * minute, Decimal("0.14")),
                         (day + (11 * 60 + 40) * minute, Decimal("0.02")),
                         (day + (12 * 60 + 5) * minute, Decimal("-0.33"))], [], 3, "USDT")
    import re

    def plain(text: str) -> str:
        return re.sub(r"\x1b\[[0-9;]*m", "", text)

    text = plain(equity_chart(one_day, 80, 14))
    assert "11:25" in text and "12:05" in text and "12-07" not in text.split("\n", 1)[1]
    two_days = CurveData([(day, Decimal("1")), (day + 60 * minute, Decimal("2")),
                          (day + 1440 * minute, Decimal("3"))], [], 3, "USDT")
    axis = plain(equity_chart(two_days, 80, 14)).rstrip().splitlines()[-1]
    assert axis.split() == ["12-07", "12-08"]  # 00:00 and 01:00 on 12-07 share one label


NEEDED = ["opened", "closed", "held", "symbol", "side", "qty", "entry", "exit", "pnl", "R",
          "MAE R", "MFE R", "strategy"]
"""What a trader reads per trade: all of it on screen at 120 columns, without scrolling."""


def swing_journal(path: Path) -> None:
    """Forty 1h-strategy trades at real prices, held across midnight, with the longest shipped
    strategy name and the entry's reasons: the widest cells the trades tab meets."""
    hour = 3_600_000
    trades = []
    for n in range(40):
        opened = T + n * 7 * hour + 22 * hour  # 22:00 UTC on, so most close the next day
        trades.append(ClosedTrade(
            "BTC/USDT", "sell" if n % 2 else "buy", Decimal("0.00153"), Decimal("64985.58"),
            Decimal("64012.31"), opened, opened + 5 * hour + 123_000, Decimal("-12.34"),
            Decimal("0.2"), Decimal("-0.62"), Decimal("-19.87"), Decimal("31.02"),
            "bollinger_breakout", initial_risk=Decimal("19.91")))
    with JournalWriter(path) as writer:
        writer.write(*trades).result(20)


def column_spans(t: DataTable) -> dict[str, tuple[int, int]]:
    """Each column's (x, right edge) in the table's content, by header."""
    spans, x = {}, 0
    for c in t.columns.values():
        width = c.get_render_width(t)
        spans[str(c.label).strip()] = (x, x + width)
        x += width
    return spans


async def test_at_120x40_every_column_a_trader_reads_per_trade_shows_without_scrolling(
        tmp_path: Path):
    config = settings(tmp_path)
    swing_journal(config.journal_file)
    app = TradetermApp(config, engine=FakeEngine(config))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("j")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen)
                       and row_count(app, "trades") == 40)
        await pilot.pause()
        trades = table(app, "trades")
        visible = trades.scrollable_content_region.width
        spans = column_spans(trades)
        assert trades.scroll_x == 0 and visible >= 118
        assert all(h in spans for h in NEEDED), spans
        assert max(spans[h][1] for h in NEEDED) <= visible, (spans, visible)
        assert headers(app)[:3] == ["opened", "closed", "held"]  # times first, then the trade
        assert column(app, "opened")[-1] == "05-02 22:00"  # the oldest, at the bottom
        assert column(app, "closed")[-1] == "05-03 03:02"  # the next day: with its date
        assert column(app, "held")[-1] == "5h 02m"
        assert column(app, "strategy")[0] == "bollinger_breakout"
        assert "times UTC, 2024" in screen_text(app)  # the year the short times leave out
        text = screen_text(app)
        header_line = next(line for line in text.splitlines() if " opened " in line)
        assert all(f" {h}" in header_line for h in NEEDED), header_line

        await pilot.resize_terminal(240, 70)  # a big screen shows every column
        await pilot.pause()
        spans = column_spans(trades)
        assert max(right for _, right in spans.values()) <= (
            trades.scrollable_content_region.width)


def test_short_trade_times_keep_the_year_when_the_rows_span_two():
    from tradeterm.ui.screens.journal_trades import compact_trades

    head = ["closed (UTC)", "symbol", "opened (UTC)"]
    rows = [["2025-01-01 00:10:00", "BTC/USDT", "2024-12-31 23:50:59"],
            ["2024-12-31 10:05:00", "BTC/USDT", "2024-12-31 09:00:00"]]
    headers_, shown, year = compact_trades(head, rows)
    assert headers_ == ["opened", "closed", "symbol"] and year == ""
    assert shown == [["24-12-31 23:50", "25-01-01 00:10", "BTC/USDT"],
                     ["24-12-31 09:00", "10:05", "BTC/USDT"]]
