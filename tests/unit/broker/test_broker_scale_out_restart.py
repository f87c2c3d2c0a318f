"""A restart while a scale-out entry is still working: the journal keeps its take-profit legs
(``orders.bracket_legs``, schema v7), so the entry restored from a real journal file still gets
the stop plus every leg when it fills. A journal from before the column restores as it did."""

from __future__ import annotations

import sqlite3
from decimal import Decimal as D
from pathlib import Path

from broker_helpers import SYMBOL, Clock, book, make_broker, trade
from sqlite_utils import Database
from test_broker_scale_out import children, scaled

from tradeterm.broker.paper import PaperBroker
from tradeterm.core.trading import Bracket, OrderStatus, OrderType
from tradeterm.journal import AccountRecord, JournalWriter, load_state
from tradeterm.journal.rows import order_row
from tradeterm.journal.schema import SCHEMA_VERSION, migrate

RESTING = ([(99.0, 5.0)], [(100.5, 5.0)])  # a limit buy at 100 rests below the ask


def _restarted(path: Path, clock: Clock) -> PaperBroker:
    """A new broker restored from the journal file, as the desk does on start (the writer
    opens first: it migrates)."""
    with JournalWriter(path):
        pass
    state = load_state(path)
    assert state.balance is not None
    broker = make_broker(clock)
    broker.restore(state.balance, state.positions, state.orders, state.realized_today)
    broker.on_book(SYMBOL, book(*RESTING))
    return broker


def test_an_entry_working_across_a_restart_keeps_all_three_legs(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    clock = Clock()
    first = make_broker(clock)
    first.on_book(SYMBOL, book(*RESTING))
    entry = first.submit(scaled("1"))
    assert entry.status is OrderStatus.OPEN and children(first) == []
    with JournalWriter(path) as writer:
        writer.write(*first.drain_events(), AccountRecord(clock(), first.account())).result(20)
    del first  # the engine is gone; only the file is left

    again = _restarted(path, clock)
    (restored,) = again.working_orders()
    assert restored.id == entry.id and restored.request.bracket == entry.request.bracket
    again.on_trade(SYMBOL, trade(99.9, 1.0, "sell"))  # the resting entry fills at 100
    assert again.positions()[0].quantity == D(1)
    assert children(again) == [
        (None, OrderType.STOP_MARKET, D(1), D(95)),
        (1, OrderType.LIMIT, D("0.500"), D(105)),
        (2, OrderType.LIMIT, D("0.250"), D(106)),
        (3, OrderType.LIMIT, D("0.250"), D(107)),
    ]


def test_a_journal_from_before_the_legs_column_restores_its_one_target(tmp_path: Path) -> None:
    """A v6 file (no ``bracket_legs``) with a working bracketed entry: migrated on open, the
    entry restores with its stop and its one target, as before."""
    path = tmp_path / "v6.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    db = Database(conn)
    migrate(db, 0, target=6)
    assert "bracket_legs" not in db.table("orders").columns_dict
    clock = Clock()
    old = make_broker(clock)
    old.on_book(SYMBOL, book(*RESTING))
    entry = old.submit(scaled("1"))
    row = order_row(entry, None)
    row.pop("bracket_legs")  # what the code of v6 wrote
    db.table("orders").insert(row)
    db.table("account").insert({"id": 1, "quote": "USDT", "balance": "10000",
                                "realized_today": "0", "updated_ms": clock()})
    conn.close()

    again = _restarted(path, clock)
    assert Database(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    (restored,) = again.working_orders()
    assert restored.request.bracket == Bracket(D(95), D(105))
    again.on_trade(SYMBOL, trade(99.9, 1.0, "sell"))
    assert children(again) == [(None, OrderType.STOP_MARKET, D(1), D(95)),
                               (None, OrderType.LIMIT, D(1), D(105))]
