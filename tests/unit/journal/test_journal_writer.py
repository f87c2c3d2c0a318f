"""The writer: exact money, group commit order, readers never locked, full disk, restore."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import threading
from datetime import date
from decimal import Decimal

import pytest

from tradeterm.core.events import OrderDenied, OrderFilled, TradingStateChanged
from tradeterm.core.models import Signal
from tradeterm.core.trading import (
    AccountSnapshot, Bracket, ClosedTrade, Fill, Liquidity, Order, OrderRequest, OrderStatus,
    OrderType, Position, TimeInForce,
)
from tradeterm.journal import (
    AccountRecord, CommandRecord, DayState, JournalReader, JournalWriteError, JournalWriter,
    RunRecord, SignalRecord, load_state,
)


def _rand_dec(rng: random.Random) -> Decimal:
    digits = rng.randint(1, 18)
    scale = rng.randint(0, 12)
    sign = rng.choice((1, -1))
    return sign * Decimal(rng.randrange(10 ** digits)).scaleb(-scale)


def _fill(i: int, price: Decimal = Decimal("100.5"), qty: Decimal = Decimal("0.01"),
          fee: Decimal = Decimal("0.001005")) -> Fill:
    return Fill(f"f{i}", f"o{i}", "BTC/USDT", "buy", price, qty, fee, Liquidity.TAKER, i)


def _order(oid: str, status: OrderStatus, *, ts: int = 1_000, filled: str = "0") -> Order:
    request = OrderRequest(
        "ETH/USDT", "sell", OrderType.STOP_LIMIT, Decimal("1.2345"), price=Decimal("2999.99"),
        stop_price=Decimal("3000.01"), time_in_force=TimeInForce.GTC, reduce_only=True,
        bracket=Bracket(Decimal("3100"), None), strategy="ema_cross", client_id="c-1",
    )
    return Order(oid, request, status, created_ms=ts, updated_ms=ts,
                 filled_quantity=Decimal(filled), average_price=None, fees=Decimal("0"),
                 stop_price=Decimal("3000.01"), parent_id="p-1", oco_group="g-1")


def test_thousands_of_random_decimals_when_round_tripped_then_exactly_equal(tmp_path):
    rng = random.Random(7)
    fills = [_fill(i, _rand_dec(rng), _rand_dec(rng), _rand_dec(rng)) for i in range(3000)]
    with JournalWriter(tmp_path / "j.sqlite") as writer:
        writer.write(*fills).result(20)
    with JournalReader(tmp_path / "j.sqlite") as reader:
        back = reader.fills()
    assert back == fills  # dataclass equality: every Decimal exactly equal
    assert [str(f.price) for f in back] == [str(f.price) for f in fills]  # even the exponent
    conn = sqlite3.connect(tmp_path / "j.sqlite")
    types = {t for (t,) in conn.execute("SELECT DISTINCT typeof(price) FROM fills")}
    assert types == {"text"}


def test_many_writes_when_queued_then_committed_and_resolved_in_submission_order(tmp_path):
    resolved: list[int] = []
    lock = threading.Lock()
    with JournalWriter(tmp_path / "j.sqlite") as writer:
        futures = []
        for i in range(2000):
            fut = writer.write(_fill(i))
            fut.add_done_callback(lambda _f, i=i: (lock.acquire(), resolved.append(i),
                                                   lock.release()))
            futures.append(fut)
        for fut in futures:
            fut.result(20)
    assert resolved == list(range(2000))
    with JournalReader(tmp_path / "j.sqlite") as reader:
        rows = reader.db.execute("SELECT id FROM fills ORDER BY rowid").fetchall()
    assert [r[0] for r in rows] == [f"f{i}" for i in range(2000)]


async def test_commit_when_awaited_then_fill_readable_by_another_connection(tmp_path):
    path = tmp_path / "j.sqlite"
    with JournalWriter(path) as writer:
        await writer.commit(_fill(1))
        with JournalReader(path) as reader:  # durable before anyone is told
            assert reader.fills() == [_fill(1)]
        await asyncio.gather(*(writer.commit(_fill(i)) for i in range(2, 200)))
        with JournalReader(path) as reader:
            assert len(reader.fills()) == 199


def test_unknown_record_when_written_then_type_error_in_caller(tmp_path):
    with JournalWriter(tmp_path / "j.sqlite") as writer, pytest.raises(TypeError, match="dict"):
        writer.write({"not": "a record"})


def test_reader_when_querying_during_heavy_writing_then_never_locked(tmp_path):
    path = tmp_path / "j.sqlite"
    errors: list[BaseException] = []
    counts: list[int] = []
    with JournalWriter(path) as writer:
        writer.write(_fill(-1)).result(20)
        done = threading.Event()

        def read_loop() -> None:
            try:
                with JournalReader(path) as reader:
                    while not done.is_set():
                        counts.append(reader.db.execute("SELECT count(*) FROM fills").fetchone()[0])
                        reader.trades()
            except BaseException as exc:  # reported below
                errors.append(exc)

        thread = threading.Thread(target=read_loop)
        thread.start()
        for batch in range(40):  # 40 transactions of 100 fills, each fsynced
            futures = [writer.write(_fill(batch * 100 + i)) for i in range(100)]
            futures[-1].result(20)
        done.set()
        thread.join(20)
    assert errors == []
    assert counts and counts == sorted(counts)  # saw the journal grow, never went back
    assert counts[-1] <= 4001


def test_full_disk_when_committing_then_future_fails_earlier_fills_kept_and_file_intact(tmp_path):
    path = tmp_path / "j.sqlite"
    failures: list[JournalWriteError] = []
    recovered = threading.Event()
    with JournalWriter(path, on_failure=failures.append, on_recovered=recovered.set,
                       retry_interval_s=0.05) as writer:
        writer.write(*[_fill(i) for i in range(50)]).result(20)
        size = path.stat().st_size + (path.with_name(path.name + "-wal")).stat().st_size
        writer.set_max_size(size)  # the "disk" is now full
        big = [_fill(1000 + i) for i in range(5000)]
        with pytest.raises(JournalWriteError, match=r"j\.sqlite: could not commit.*full"):
            writer.write(*big).result(20)
        assert failures and not writer.healthy
        assert writer.pending_retry >= 5000
        with JournalReader(path) as reader:  # what was committed is still there
            assert reader.fills() == [_fill(i) for i in range(50)]
        writer.set_max_size(None)  # space freed: the kept rows land on the next retry
        assert recovered.wait(20)
        assert writer.healthy and writer.pending_retry == 0
    with JournalReader(path) as reader:
        assert reader.fills() == [_fill(i) for i in range(50)] + big
        assert reader.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_state_when_written_closed_and_reopened_then_restored_exactly(tmp_path):
    path = tmp_path / "j.sqlite"
    pos = Position("BTC/USDT", Decimal("-0.015"), Decimal("64990.12"), 5_000, "ema_cross",
                   stop=Decimal("65500"), target=Decimal("63000.5"),
                   initial_risk=Decimal("7.6482"), realized_pnl=Decimal("-1.25"),
                   fees=Decimal("0.974851800"), max_adverse=Decimal("-3.1"),
                   max_favorable=Decimal("12.000001"))
    working = _order("o-open", OrderStatus.PARTIALLY_FILLED, ts=2_000, filled="0.5")
    filled = _order("o-done", OrderStatus.FILLED, ts=1_500, filled="1.2345")
    first = AccountSnapshot("USDT", Decimal("10000"), Decimal("10000"), Decimal(0), Decimal(0))
    last = AccountSnapshot("USDT", Decimal("9876.543210"), Decimal("9880.01"),
                           Decimal("3.46679"), Decimal("-123.45679"), positions=(pos,))
    day = DayState(date(2024, 5, 1), Decimal("10000"), Decimal("-123.45679"),
                   loss_reason="daily_loss_limit: reached", updated_ms=9_000)
    with JournalWriter(path, run=RunRecord(1, "0.1.0", "paper", "abc")) as writer:
        writer.write(AccountRecord(1_000, first)).result(20)
        writer.write(_order("o-open", OrderStatus.OPEN, ts=2_000), filled).result(20)
        writer.write(OrderFilled(3_000, _fill(9), working), AccountRecord(3_000, last), day)
        writer.write(OrderDenied(4_000, working.request, "daily loss reached", "daily_loss"),
                     TradingStateChanged(4_000, "HALTED", "daily loss limit"),
                     CommandRecord(4_001, "flatten", '{"symbol": "BTC/USDT"}')).result(20)
    state = load_state(path)
    assert state.positions == (pos,)
    assert state.orders == (working,)
    assert state.balance == Decimal("9876.543210")
    assert state.realized_today == Decimal("-123.45679")
    assert state.day_state == day
    assert state.last_equity is not None and state.last_equity.equity == Decimal("9880.01")
    assert state.quote == "USDT"
    with JournalReader(path) as reader:
        history = reader.db.execute(
            "SELECT status FROM order_history WHERE order_id='o-open' ORDER BY seq").fetchall()
        kinds = reader.db.execute("SELECT kind, rule FROM risk_events ORDER BY id").fetchall()
    assert [h[0] for h in history] == ["open", "partially_filled"]
    assert kinds == [("denied", "daily_loss"), ("state", None)]


def test_fresh_journal_when_restored_then_no_balance_and_nothing_open(tmp_path):
    path = tmp_path / "j.sqlite"
    with JournalWriter(path):
        pass
    state = load_state(path)
    assert (state.positions, state.orders, state.balance, state.day_state) == ((), (), None, None)


def test_signals_when_denied_then_stored_with_status_and_reason(tmp_path):
    path = tmp_path / "j.sqlite"
    sig = Signal("ema_cross", "BTC/USDT", "1m", 60_000, "entry", "buy", entry=64990.12,
                 stop=64800.1, targets=(65200.0,), confidence=0.7, reasons=("cross up",))
    with JournalWriter(path) as writer:
        writer.write(SignalRecord(61_000, sig, "denied", "max open positions 3 reached")).result(20)
    with JournalReader(path) as reader:
        (row,) = reader.signals()
    assert (row["entry"], row["stop"], row["targets"]) == ("64990.12", "64800.1", "65200.0")
    assert (row["status"], row["reason"]) == ("denied", "max open positions 3 reached")


def test_closed_trade_when_written_then_read_back_exactly(tmp_path):
    path = tmp_path / "j.sqlite"
    trade = ClosedTrade("SOL/USDT", "sell", Decimal("3.3"), Decimal("150.25"), Decimal("149.1"),
                        1, 2, Decimal("3.295"), Decimal("0.9896"), Decimal("0.55"),
                        Decimal("-1.2"), Decimal("4.4"), None)
    with JournalWriter(path) as writer:
        writer.write(trade).result(20)
    with JournalReader(path) as reader:
        assert reader.trades() == [trade]
        assert reader.trades(strategy="manual") == [trade]
        assert reader.trades(strategy="ema_cross") == []
