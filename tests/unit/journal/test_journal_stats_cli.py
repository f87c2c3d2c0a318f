"""Stats against a hand-computed trade list, and the ``tradeterm journal`` views and CSV."""

from __future__ import annotations

import argparse
import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from tradeterm.core.trading import AccountSnapshot, ClosedTrade
from tradeterm.journal import AccountRecord, JournalWriter
from tradeterm.journal.cli import add_journal_parser, journal_command, parse_since
from tradeterm.journal.stats import compute_stats, max_drawdown

DAY = 86_400_000
D2 = parse_since("2024-05-02")


def _trade(pnl: str, r: str | None, closed_ms: int, strategy: str | None) -> ClosedTrade:
    return ClosedTrade("BTC/USDT", "buy", Decimal("0.1"), Decimal("100"), Decimal("101"),
                       closed_ms - 1, closed_ms, Decimal(pnl), Decimal("0.02"),
                       None if r is None else Decimal(r), Decimal("-1"), Decimal("2"), strategy)


# PnL 100, -50, 200, -100, -80, 50 -> cumulative 100, 50, 250, 150, 70, 120
TRADES = [
    _trade("100", "1", D2 - DAY + 1, "ema"),
    _trade("-50", "-0.5", D2 - DAY + 2, "rsi"),
    _trade("200", "2", D2 - DAY + 3, "ema"),
    _trade("-100", "-1", D2 + 1, "ema"),
    _trade("-80", "-0.8", D2 + 2, "rsi"),
    _trade("50", "0.5", D2 + 3, None),
]


def test_hand_computed_trades_when_summarised_then_exact_stats():
    st = compute_stats(TRADES)
    assert (st.trades, st.wins, st.win_rate) == (6, 3, Decimal("0.5"))
    assert st.net_pnl == Decimal("120")
    assert st.profit_factor == Decimal(350) / Decimal(230)
    assert st.expectancy == Decimal("20")
    assert st.expectancy_r == Decimal("0.2")  # (1 - 0.5 + 2 - 1 - 0.8 + 0.5) / 6
    assert st.avg_win_r == Decimal("3.5") / 3
    assert st.avg_loss_r == Decimal("-2.3") / 3
    assert st.max_drawdown == Decimal("180")  # peak 250 -> trough 70


def test_equity_curve_when_given_then_drawdown_from_it_and_no_loss_means_no_profit_factor():
    st = compute_stats(TRADES[:1], [Decimal(v) for v in ("1000", "1100", "990", "1200", "1150")])
    assert st.max_drawdown == Decimal("110")
    assert st.profit_factor is None
    assert max_drawdown([]) == 0
    assert compute_stats(TRADES, [Decimal("1")]).max_drawdown == Decimal("180")


@dataclass
class _Settings:
    journal_file: Path


def _journal(tmp_path: Path) -> _Settings:
    path = tmp_path / "journal.sqlite"
    snap = AccountSnapshot("USDT", Decimal("10120"), Decimal("10120"), Decimal(0), Decimal(0))
    with JournalWriter(path) as writer:
        writer.write(*TRADES, AccountRecord(D2 + 4, snap)).result(20)
    return _Settings(path)


def _csv(capsys) -> list[list[str]]:
    return list(csv.reader(io.StringIO(capsys.readouterr().out)))


def test_stats_csv_when_requested_then_overall_by_strategy_and_by_day(tmp_path, capsys):
    settings = _journal(tmp_path)
    assert journal_command(["stats", "--csv"], settings) == 0
    rows = {(r[0], r[1]): r for r in _csv(capsys)[1:]}
    overall = rows[("all", "all")]
    assert overall[2:5] == ["6", "50.0", "1.52"]
    assert overall[5] == "120" and overall[7] == "0.20"
    assert overall[10] == "180"  # a single equity point is no curve: cumulative PnL decides
    assert rows[("strategy", "ema")][2:4] == ["3", "66.7"]
    assert rows[("strategy", "manual")][5] == "50"
    assert rows[("day", "2024-05-01")][5] == "250"
    assert rows[("day", "2024-05-02")][5] == "-130"


def test_trades_csv_when_filtered_by_since_and_strategy_then_only_matching_rows(tmp_path, capsys):
    settings = _journal(tmp_path)
    assert journal_command(["trades", "--since", "2024-05-02", "--strategy", "ema", "--csv"],
                           settings) == 0
    header, *rows = _csv(capsys)
    assert header[:3] == ["closed (UTC)", "symbol", "side"]
    strategy = header.index("strategy")
    assert [(r[6], r[8], r[strategy]) for r in rows] == [("-100", "-1", "ema")]
    assert rows[0][0] == "2024-05-02 00:00:00"


def test_stats_table_when_printed_then_rich_table_with_strategies(tmp_path, capsys):
    settings = _journal(tmp_path)
    assert journal_command(["stats"], settings) == 0
    out = capsys.readouterr().out
    assert "PF" in out and "by strategy" in out and "by day" in out
    assert "ema" in out and "rsi" in out and "2024-05-02" in out


def test_missing_journal_when_viewed_then_plain_message_and_exit_1(tmp_path, capsys):
    assert journal_command(["trades"], _Settings(tmp_path / "none.sqlite")) == 1
    assert "no journal at" in capsys.readouterr().out


def test_foreign_file_when_viewed_then_clear_error_and_exit_2(tmp_path, capsys):
    path = tmp_path / "foreign.sqlite"
    path.write_bytes(b"x" * 200)
    assert journal_command(["orders"], _Settings(path)) == 2
    assert "not a SQLite database" in capsys.readouterr().err
    assert path.read_bytes() == b"x" * 200


def test_journal_subcommand_when_wired_into_a_parser_then_namespace_accepted(tmp_path, capsys):
    settings = _journal(tmp_path)
    parser = argparse.ArgumentParser(prog="tradeterm")
    add_journal_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["journal", "positions", "--csv"])
    assert args.command == "journal"
    assert journal_command(args, settings) == 0
    assert _csv(capsys) == [["opened (UTC)", "symbol", "side", "qty", "entry", "stop", "target",
                             "realized", "fees", "strategy"]]
