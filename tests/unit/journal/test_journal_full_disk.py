"""Full disk, then recovery: while halted, signals and denials are coalesced with a count (they
do not refill freed space); when space returns nothing committed is lost and the queued rows
land. The "disk" is SQLite's ``max_page_count`` (``set_max_size``), as in the writer tests."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pytest

from tradeterm.core.events import OrderDenied
from tradeterm.core.models import Signal
from tradeterm.core.trading import Fill, Liquidity, OrderRequest, OrderType
from tradeterm.journal import JournalReader, JournalWriteError, JournalWriter, SignalRecord
from tradeterm.journal.cli import journal_command

SIGNALS = 2_000


def _fill(i: int) -> Fill:
    return Fill(f"f{i}", f"o{i}", "BTC/USDT", "buy", Decimal("100.5"), Decimal("0.01"),
                Decimal("0.001005"), Liquidity.TAKER, i)


def _signal(strategy: str) -> Signal:
    return Signal(strategy, "BTC/USDT", "1m", 60_000, "entry", "buy", entry=100.5, stop=99.0)


def _denial(i: int, strategy: str) -> OrderDenied:
    request = OrderRequest("BTC/USDT", "buy", OrderType.MARKET, Decimal("0.1"),
                           strategy=strategy)
    return OrderDenied(i, request, "trading halted: journal full", "kill_switch")


def _halt(writer: JournalWriter, path: Path) -> None:
    size = path.stat().st_size + path.with_name(path.name + "-wal").stat().st_size
    writer.set_max_size(size)


def test_halted_writer_when_signals_and_denials_pour_in_then_coalesced_and_nothing_lost(
    tmp_path, caplog,
):
    path = tmp_path / "j.sqlite"
    recovered = threading.Event()
    with JournalWriter(path, on_recovered=recovered.set, retry_interval_s=0.05) as writer:
        writer.write(*[_fill(i) for i in range(50)]).result(20)
        _halt(writer, path)
        kept = [_fill(1000 + i) for i in range(3000)]
        with pytest.raises(JournalWriteError):
            writer.write(*kept).result(20)
        for i in range(SIGNALS):  # a strategy signalling into the halted desk, each denied
            strategy = ("ema", "rsi")[i % 2]
            # resolves at once: queued as a count, not one row each
            writer.write(SignalRecord(61_000 + i, _signal(strategy), "denied",
                                      "trading halted: journal full"),
                         _denial(61_000 + i, strategy)).result(5)
        assert writer.coalesced == 2 * SIGNALS
        assert writer.pending_retry == 3000  # the kept rows, and only them
        assert not writer.healthy
        writer.set_max_size(None)  # space returns
        assert recovered.wait(20)
        writer.flush(20)
        assert writer.healthy and writer.pending_retry == 0 and writer.coalesced == 0
    with JournalReader(path) as reader:
        assert reader.fills() == [_fill(i) for i in range(50)] + kept  # nothing committed lost
        signals = reader.db.execute(
            "SELECT strategy, status, coalesced, timestamp FROM signals ORDER BY strategy"
        ).fetchall()
        denials = reader.db.execute(
            "SELECT strategy, rule, coalesced FROM risk_events WHERE kind = 'denied' "
            "ORDER BY strategy").fetchall()
        assert reader.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert signals == [("ema", "denied", SIGNALS // 2, 61_000),  # the first one, with a count
                       ("rsi", "denied", SIGNALS // 2, 61_001)]
    assert denials == [("ema", "kill_switch", SIGNALS // 2), ("rsi", "kill_switch", SIGNALS // 2)]


def test_coalesced_signal_when_listed_then_its_count_is_shown(tmp_path, capsys):
    path = tmp_path / "j.sqlite"
    with JournalWriter(path, retry_interval_s=0.05) as writer:
        writer.write(_fill(1)).result(20)
        _halt(writer, path)
        with pytest.raises(JournalWriteError):
            writer.write(*[_fill(10 + i) for i in range(2000)]).result(20)
        for i in range(7):
            writer.write(SignalRecord(i, _signal("ema"), "denied", "halted")).result(5)
        writer.set_max_size(None)
        writer.flush(20)

    class Settings:
        journal_file = path

    assert journal_command(["signals"], Settings()) == 0
    assert "halted (x7 while the journal was halted)" in capsys.readouterr().out


def test_healthy_writer_when_signals_written_then_one_row_each(tmp_path):
    path = tmp_path / "j.sqlite"
    with JournalWriter(path) as writer:
        for i in range(5):
            writer.write(SignalRecord(i, _signal("ema"), "denied", "max positions")).result(5)
        assert writer.coalesced == 0
    with JournalReader(path) as reader:
        assert [(r["timestamp"], r["coalesced"]) for r in reader.signals()] == [
            (i, None) for i in range(5)]
