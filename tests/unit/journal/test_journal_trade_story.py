"""A closed trade tells its story in the journal: entry and exit time, holding duration, MAE and
MFE in R, the entry signal's reasons; the filters (symbol, strategy, dates) in the request and
the CLI; the equity curve and daily PnL; a journal written before schema 6 keeps its rows and
shows blanks, never zeros. Real paper broker, real journal writer, real SQLite files."""

from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlite_utils import Database

import tradeterm.journal.schema as schema
from tradeterm.broker.paper import PaperBroker
from tradeterm.broker.rules import MarketRules
from tradeterm.config import PaperSettings
from tradeterm.core.events import OrderFilled, OrderUpdated, PositionClosed
from tradeterm.core.models import BookSnapshot, Signal, Trade
from tradeterm.core.trading import (
    AccountSnapshot, Bracket, ClosedTrade, OrderRequest, OrderType,
)
from tradeterm.journal import AccountRecord, JournalWriter, SignalRecord
from tradeterm.journal.cli import journal_command, parse_since
from tradeterm.journal.curve import read_curve
from tradeterm.journal.filters import JournalFilter, filter_of
from tradeterm.journal.reader import JournalReader
from tradeterm.journal.views import TRADES
from tradeterm.service.asking import Asker, RequestRefused
from tradeterm.service.journal_requests import read_pages
from tradeterm.service.requests import answer

SYMBOL = "BTC/USDT"
RULES = MarketRules(SYMBOL, tick=Decimal("0.01"), step=Decimal("0.001"), min_qty=Decimal("0.001"),
                    max_qty=Decimal("100"), min_notional=Decimal("5"))
T0 = parse_since("2024-05-02T10:00")
MIN = 60_000
DAY = 86_400_000


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def _book(mid: str) -> BookSnapshot:
    return BookSnapshot(SYMBOL, bids=((float(mid), 5.0),), asks=((float(mid), 5.0),))


def _column(headers: list[str], row: list[str], name: str) -> str:
    return row[headers.index(name)]


def _journal_broker_trade(path: Path) -> None:
    """Long 2 BTC at 100 with a bracket stop at 99 (initial risk 2 = 1R): the marks gap down
    to 98.5 (-1.5R, the tape printed nothing there, so the stop did not trade), rally to 102
    (+2R), and the position is sold at 101 after 1 h 30 m; everything journaled as the desk
    does (the broker's events, the signal that placed the entry)."""
    clock = Clock(T0)
    broker = PaperBroker({SYMBOL: RULES}, PaperSettings(taker_fee=Decimal(0),
                         maker_fee=Decimal(0), latency_ms=0, starting_balance=Decimal(10_000)),
                         clock)
    broker.on_book(SYMBOL, _book("100"))
    entry = broker.submit(OrderRequest(SYMBOL, "buy", OrderType.MARKET, Decimal("2"),
                                       bracket=Bracket(stop_loss=Decimal("99")),
                                       strategy="ema_cross"))
    signal = Signal("ema_cross", SYMBOL, "1m", T0 - MIN, "entry", "buy", entry=100.0, stop=99.0,
                    confidence=0.8, reasons=("ema9 crossed above ema21", "rsi 55"))
    events = broker.drain_events()
    for minutes, mid in ((10, "99.5"), (20, "98.5"), (40, "100.7"), (60, "102"), (80, "101")):
        clock.now = T0 + minutes * MIN
        events += broker.on_book(SYMBOL, _book(mid))
    clock.now = T0 + 90 * MIN + 5_000
    broker.submit(OrderRequest(SYMBOL, "sell", OrderType.MARKET, Decimal("2"),
                               strategy="ema_cross"))
    events += broker.drain_events()
    journaled = [e for e in events if isinstance(e, OrderFilled | OrderUpdated | PositionClosed)]
    assert any(isinstance(e, PositionClosed) for e in journaled)
    with JournalWriter(path) as writer:
        writer.write(SignalRecord(T0, signal, "submitted", order_id=entry.id), *journaled).result(20)


def test_a_trade_that_went_down_1_5r_then_up_2r_journals_mae_and_mfe_in_r(tmp_path: Path):
    path = tmp_path / "journal.sqlite"
    _journal_broker_trade(path)
    with JournalReader(path) as reader:
        (trade,) = reader.trades()
        assert trade.initial_risk == Decimal("2") and trade.mae == Decimal("-3")
        assert trade.mfe == Decimal("4")
        (row,) = reader.rows("positions")
    answer_ = read_pages(path, ("trades",), 10, True)
    headers = answer_["tables"]["trades"]["headers"]
    (shown,) = answer_["tables"]["trades"]["rows"]
    exact, _ = TRADES.cells(row, _NoMarkets())  # type: ignore[arg-type]  # the CSV's cells
    assert Decimal(_column(headers, exact, "MAE R")) == Decimal("-1.5")
    assert Decimal(_column(headers, exact, "MFE R")) == Decimal("2.0")
    assert (_column(headers, shown, "MAE R"), _column(headers, shown, "MFE R")) == ("-1.50",
                                                                                   "2.00")
    assert _column(headers, shown, "R") == "1.00"  # sold at 101: +2 on a risk of 2
    assert _column(headers, shown, "opened (UTC)") == "2024-05-02 10:00:00"
    assert _column(headers, shown, "closed (UTC)") == "2024-05-02 11:30:05"
    assert _column(headers, shown, "held") == "1h 30m"
    assert _column(headers, shown, "reasons") == "ema9 crossed above ema21; rsi 55"


class _NoMarkets:
    """The exact cells do not depend on the market's display."""

    def tick(self, symbol: str) -> None:
        return None

    def step(self, symbol: str) -> None:
        return None


def _trade(symbol: str, strategy: str | None, closed_ms: int, pnl: str) -> ClosedTrade:
    return ClosedTrade(symbol, "buy", Decimal("1"), Decimal("100"), Decimal("101"),
                       closed_ms - 5 * MIN, closed_ms, Decimal(pnl), Decimal("0.1"),
                       Decimal("0.5"), Decimal("-1"), Decimal("2"), strategy,
                       initial_risk=Decimal("2"))


TRADE_SET = [  # (symbol, strategy, day offset from 2024-05-01, pnl)
    ("BTC/USDT", "ema_cross", 0, "10"), ("ETH/USDT", "ema_cross", 0, "-4"),
    ("BTC/USDT", "rsi_revert", 1, "7"), ("BTC/USDT", "ema_cross", 1, "-2.5"),
    ("ETH/USDT", None, 2, "3"), ("BTC/USDT", "ema_cross", 3, "1.25"),
]
D1 = parse_since("2024-05-01")


@dataclass
class _Settings:
    journal_file: Path


def _filter_journal(tmp_path: Path) -> Path:
    path = tmp_path / "journal.sqlite"
    trades = [_trade(sym, strat, D1 + day * DAY + 12 * 3_600_000 + i, pnl)
              for i, (sym, strat, day, pnl) in enumerate(TRADE_SET)]
    snap = AccountSnapshot("USDT", Decimal("10000"), Decimal("10000"), Decimal(0), Decimal(0))
    with JournalWriter(path) as writer:
        writer.write(*trades, AccountRecord(D1, snap)).result(20)
    return path


def _expected(symbol: str | None, strategy: str | None, first: int, last: int) -> list[str]:
    """The pnl of the matching trades, newest first (as the screen shows them)."""
    return [pnl for sym, strat, day, pnl in reversed(TRADE_SET)
            if (symbol is None or sym == symbol) and (strategy is None or strat == strategy)
            and first <= day <= last]


@pytest.mark.parametrize(("args", "expected"), [
    ({}, _expected(None, None, 0, 9)),
    ({"symbol": "btc/usdt"}, _expected("BTC/USDT", None, 0, 9)),
    ({"strategy": "ema_cross"}, _expected(None, "ema_cross", 0, 9)),
    ({"from": "2024-05-02", "to": "2024-05-03"}, _expected(None, None, 1, 2)),
    ({"symbol": "BTC/USDT", "strategy": "ema_cross", "to": "2024-05-02"},
     _expected("BTC/USDT", "ema_cross", 0, 1)),
    ({"strategy": "manual"}, ["3"]),
])
async def test_filters_return_only_matching_rows_in_the_request(tmp_path: Path, args, expected):
    path = _filter_journal(tmp_path)
    engine = _Engine(path)
    body = await answer(engine, Asker("read-only", lambda: 1, 0), "journal.page",  # type: ignore[arg-type]
                        {"tabs": ["trades"], "counted": True, **args})
    table = body["tables"]["trades"]
    assert [_column(table["headers"], r, "pnl") for r in table["rows"]] == [
        f"{Decimal(p):.2f}" for p in expected]
    assert table["total"] == len(expected)
    stats = await answer(engine, Asker("read-only", lambda: 1, 0), "journal.stats",  # type: ignore[arg-type]
                         dict(args))
    overall = next(r for r in stats["rows"] if r[0] == "all")
    assert overall[2] == str(len(expected))


@dataclass
class _EngineSettings:
    journal_file: Path


class _Engine:
    def __init__(self, path: Path) -> None:
        self.settings = _EngineSettings(path)


async def test_a_bad_filter_is_refused_with_one_line(tmp_path: Path):
    engine = _Engine(_filter_journal(tmp_path))
    asker = Asker("read-only", lambda: 1, 0)
    for args, reason in (({"from": "yesterday"}, "from: expected a UTC date"),
                         ({"to": "2024-13-01"}, "to: expected"),
                         ({"from": "2024-05-03", "to": "2024-05-01"}, "before from"),
                         ({"symbol": 42}, "symbol: a short text")):
        for kind in ("journal.page", "journal.stats", "journal.curve"):
            with pytest.raises(RequestRefused, match=reason):
                await answer(engine, asker, kind, args)  # type: ignore[arg-type]


def _cli(settings: _Settings, capsys, *args: str) -> list[list[str]]:
    assert journal_command(["trades", "--csv", *args], settings) == 0  # type: ignore[arg-type]
    return list(csv.reader(io.StringIO(capsys.readouterr().out)))


def test_filters_return_only_matching_rows_in_the_cli(tmp_path: Path, capsys):
    settings = _Settings(_filter_journal(tmp_path))
    for args, expected in (
        (("--symbol", "eth/usdt"), _expected("ETH/USDT", None, 0, 9)),
        (("--strategy", "ema_cross", "--symbol", "BTC/USDT"),
         _expected("BTC/USDT", "ema_cross", 0, 9)),
        (("--from", "2024-05-02", "--to", "2024-05-02"), _expected(None, None, 1, 1)),
        (("--to", "2024-05-01T23:00"), _expected(None, None, 0, 0)),
    ):
        header, *rows = _cli(settings, capsys, *args)
        assert [r[header.index("pnl")] for r in rows] == list(reversed(expected)), args
    assert journal_command(["stats", "--csv", "--symbol", "ETH/USDT"], settings) == 0  # type: ignore[arg-type]
    overall = next(r for r in csv.reader(io.StringIO(capsys.readouterr().out)) if r[0] == "all")
    assert overall[2] == "2"
    with pytest.raises(SystemExit) as bad:
        journal_command(["trades", "--to", "someday"], settings)  # type: ignore[arg-type]
    assert bad.value.code == 2
    assert "expected a UTC date" in capsys.readouterr().err


def test_the_curve_follows_the_filters_exactly_and_fits_the_width(tmp_path: Path):
    path = _filter_journal(tmp_path)
    with JournalReader(path) as reader:
        btc = read_curve(reader, filter_of({"symbol": "BTC/USDT"}), 100)
        assert [v for _, v in btc.equity] == [Decimal(v) for v in
                                              ("10", "17", "14.5", "15.75")]
        assert btc.daily == [("2024-05-01", Decimal("10")), ("2024-05-02", Decimal("4.5")),
                             ("2024-05-04", Decimal("1.25"))]
        thin = read_curve(reader, JournalFilter(), 4)
        assert len(thin.equity) <= 4 and thin.trades == 6
        assert thin.equity[-1][1] == sum(Decimal(p) for *_, p in TRADE_SET)
        dated = read_curve(reader, filter_of({"from": "2024-05-03"}), 100)
        assert dated.daily == [("2024-05-03", Decimal("3")), ("2024-05-04", Decimal("1.25"))]


def _schema5_journal(path: Path) -> None:
    """A journal as the version before schema 6 wrote it, with one closed trade."""
    db = Database(sqlite3.connect(path))
    schema.migrate(db, 0, 5)
    db.table("positions").insert({
        "run_id": None, "symbol": SYMBOL, "side": "buy", "quantity": "1",
        "entry_price": "100", "exit_price": "103", "opened_ms": T0, "closed_ms": T0 + 7 * MIN,
        "pnl": "3", "fees": "0", "r_multiple": "1.5", "mae": "-0.5", "mfe": "3.5",
        "strategy": "ema_cross"})
    db.conn.commit()
    db.close()


def test_an_old_journal_keeps_its_rows_and_shows_blanks_after_the_migration(tmp_path: Path):
    path = tmp_path / "journal.sqlite"
    _schema5_journal(path)
    before = read_pages(path, ("trades",), 10, True)["tables"]["trades"]  # readers never migrate
    with JournalWriter(path):
        pass  # the engine opens it: migrated to the current schema
    with JournalReader(path) as reader:
        assert reader.db.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
        (old,) = reader.trades()
        assert (old.pnl, old.mae, old.initial_risk, old.entry_order_id) == (
            Decimal("3"), Decimal("-0.5"), None, None)
    after = read_pages(path, ("trades",), 10, True)["tables"]["trades"]
    for table in (before, after):
        headers, (row,) = table["headers"], table["rows"]
        assert _column(headers, row, "pnl") == "3.00" and _column(headers, row, "R") == "1.50"
        assert _column(headers, row, "MAE R") == "" and _column(headers, row, "MFE R") == ""
        assert _column(headers, row, "MAE") == "-0.50" and _column(headers, row, "reasons") == ""
        assert _column(headers, row, "held") == "7m 00s"


def test_a_stop_filled_beyond_every_mark_counts_in_the_mae(tmp_path: Path):
    """The marks (book mids) never went below 99.5, but the stop at 99 filled at 98.5 on a
    print through it: the exit price is part of the trade's path, so MAE is -1.5R, not -0.5R."""
    clock = Clock(T0)
    broker = PaperBroker({SYMBOL: RULES}, PaperSettings(taker_fee=Decimal(0),
                         maker_fee=Decimal(0), latency_ms=0, starting_balance=Decimal(10_000)),
                         clock)
    broker.on_book(SYMBOL, _book("100"))
    broker.submit(OrderRequest(SYMBOL, "buy", OrderType.MARKET, Decimal("1"),
                               bracket=Bracket(stop_loss=Decimal("99"))))
    broker.on_book(SYMBOL, _book("99.5"))
    clock.now = T0 + MIN
    broker.on_book(SYMBOL, BookSnapshot(SYMBOL, bids=((98.5, 5.0),), asks=((100.5, 5.0),)))
    events = broker.on_trade(SYMBOL, Trade("t1", clock.now, 98.5, 1.0, "sell"))
    (closed,) = [e.trade for e in events + broker.drain_events()
                 if isinstance(e, PositionClosed)]
    assert closed.exit_price == Decimal("98.5")
    assert (closed.mae, closed.initial_risk) == (Decimal("-1.5"), Decimal("1"))
