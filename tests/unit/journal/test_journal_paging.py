"""The journal reads what it shows: pages by index, statistics streamed yet equal to the
whole-list computation, money shown by the display policy and never cut when piped."""

from __future__ import annotations

import csv
import io
import os
import random
import sqlite3
import subprocess
import sys
from dataclasses import fields
from decimal import Decimal
from pathlib import Path

import pytest

from tradeterm.core.trading import AccountSnapshot, ClosedTrade, Fill, Liquidity
from tradeterm.journal import AccountRecord, JournalWriter
from tradeterm.journal.cli import parse_since
from tradeterm.journal.markets import grid_unit, quote_of
from tradeterm.journal.reader import JournalReader
from tradeterm.journal.stats import (
    TradeStats,
    by_day,
    by_strategy,
    compute_stats,
    stats_by,
)
from tradeterm.journal.views import when
from tradeterm.service.journal_requests import read_pages, read_stats

DAY = 86_400_000
T0 = parse_since("2024-05-01")
LONG = "64994.77005769996020692399522"  # 28 significant digits, as the issue saw them
STRATEGIES = ("ema", "rsi", None)


def _digits(rng: random.Random) -> Decimal:
    """Money with up to 28 significant digits, so sums round and their order matters."""
    value = Decimal(rng.randint(-50_000, 52_000)) / 100
    return value / 7 if rng.random() < 0.5 else value


def _trades(n: int, seed: int = 5) -> list[ClosedTrade]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        closed = T0 + i * (DAY // 7) + rng.randint(0, 1000)
        r = None if i % 9 == 0 else _digits(rng) / 37
        if i % 13 == 0:
            r = Decimal("0.00") if i % 2 else Decimal("0")  # zero in two spellings
        pnl = Decimal("0.000") if i % 11 == 0 else _digits(rng)
        out.append(ClosedTrade("BTC/USDT", "buy", Decimal("0.1"), Decimal("100"),
                               Decimal("101"), closed - 60_000, closed, pnl, Decimal("0.02"),
                               r, Decimal("-1"), Decimal("2"), STRATEGIES[i % 3]))
    return out


def _journal(path: Path, trades: list[ClosedTrade], equity: list[Decimal]) -> None:
    with JournalWriter(path) as writer:
        writer.write(*trades).result(20)
        for i, value in enumerate(equity):
            snap = AccountSnapshot("USDT", value, value, Decimal(0), Decimal(0))
            writer.write(AccountRecord(T0 + i * 3_600_000, snap)).result(20)


def _same(a: TradeStats, b: TradeStats) -> None:
    """Equal and spelled the same (``0`` and ``0.00`` are equal Decimals but print apart)."""
    for f in fields(TradeStats):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert (f.name, str(x)) == (f.name, str(y))


@pytest.mark.parametrize("since,strategy", [(None, None), (T0 + 3 * DAY, None),
                                            (None, "ema"), (T0 + DAY, "manual")])
def test_streamed_stats_when_compared_with_whole_list_stats_then_identical(
    tmp_path, since, strategy,
):
    path = tmp_path / "j.sqlite"
    rng = random.Random(9)
    equity = [Decimal(10_000) + _digits(rng) for _ in range(300)]
    _journal(path, _trades(400), equity)
    with JournalReader(path) as reader:
        trades = reader.trades(since, strategy)  # today's way: the whole lists
        curve = [p.equity for p in reader.equity(since)] if strategy is None else None
        streamed = reader.stats(since, strategy)
    assert trades and streamed.overall.trades == len(trades)
    _same(streamed.overall, compute_stats(trades, curve))
    for mine, theirs in ((streamed.by_strategy, stats_by(trades, by_strategy)),
                         (streamed.by_day, stats_by(trades, by_day))):
        assert list(mine) == list(theirs)
        for name in theirs:
            _same(mine[name], theirs[name])


def test_streamed_stats_without_an_equity_curve_use_cumulative_pnl(tmp_path):
    path = tmp_path / "j.sqlite"
    _journal(path, _trades(50), [Decimal(1)])  # one point is no curve
    with JournalReader(path) as reader:
        _same(reader.stats().overall, compute_stats(reader.trades(), [Decimal(1)]))


def _plans(path: Path, run) -> list[str]:
    """The query plans of every SELECT ``run(reader)`` makes."""
    seen: list[str] = []
    with JournalReader(path) as reader:
        reader.db.conn.set_trace_callback(seen.append)
        run(reader)
        reader.db.conn.set_trace_callback(None)
        plans = []
        for sql in seen:
            if sql.lstrip().upper().startswith("SELECT") and "sqlite_master" not in sql:
                rows = reader.db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
                plans.append(" / ".join(r[-1] for r in rows))
    return plans


def test_first_page_when_read_then_by_index_newest_first_without_sorting_a_table(tmp_path):
    path = tmp_path / "j.sqlite"
    _journal(path, _trades(120), [])
    with JournalReader(path) as reader:
        page = list(reader.rows("positions", newest_first=True, limit=10))
        assert [r["closed_ms"] for r in page] == sorted(
            (t.closed_ms for t in reader.trades()), reverse=True)[:10]
        assert reader.count("positions") == 120
        assert reader.count("positions", T0 + 10 * DAY, "ema") == sum(
            1 for t in reader.trades(T0 + 10 * DAY, "ema"))

    def first_pages(reader: JournalReader) -> None:
        for table in ("positions", "fills", "signals", "orders"):
            list(reader.rows(table, newest_first=True, limit=10))
            list(reader.rows(table, None, "ema", newest_first=True, limit=10))
            list(reader.rows(table, T0, "manual", newest_first=True, limit=10))

    plans = _plans(path, first_pages)
    assert len(plans) == 12
    for plan in plans:  # each walks an index from its newest end: no table scan, no sort
        assert "USING INDEX" in plan and "TEMP B-TREE" not in plan, plan


def test_screen_first_page_when_many_trades_then_newest_rows_and_totals(tmp_path):
    path = tmp_path / "j.sqlite"
    _journal(path, _trades(120), [])
    tables = read_pages(path, ("trades",), 25, False)  # the tab the screen opens on, first
    assert list(tables["tables"]) == ["trades"]
    page = tables["tables"]["trades"]
    headers, rows, total = page["headers"], page["rows"], page["total"]
    assert total is None and len(rows) == 25  # a full page: counted in a second step
    counted = read_pages(path, ("trades", "fills"), 25, True)
    assert counted["tables"]["trades"]["total"] == 120
    assert (counted["tables"]["fills"]["rows"], counted["tables"]["fills"]["total"]) == ([], 0)
    with JournalReader(path) as reader:
        newest = reader.trades()[-1]
    assert rows[0][0] == when(newest.closed_ms)  # newest first
    assert rows[0][headers.index("pnl")] == f"{newest.pnl.quantize(Decimal('0.01')):.2f}"
    assert "stats" not in tables["tables"]  # statistics come after the first page
    stats = read_stats(path)
    assert stats["rows"][0][:3] == ["all", "all", "120"]


def _long_journal(path: Path) -> None:
    fill = Fill("f-1", "o-1", "BTC/USDT", "buy", Decimal("64994.77"), Decimal("0.00123"),
                Decimal("0.0799378476"), Liquidity.TAKER, T0, "ema")
    trade = ClosedTrade("BTC/USDT", "buy", Decimal("0.00123"), Decimal(LONG), Decimal("65002.9"),
                        T0, T0 + 60_000, Decimal("-1.2345678901234567890123456789"),
                        Decimal("0.0799378476"), Decimal("-0.3333333333333333333333333333"),
                        Decimal("-1.5"), Decimal("2.25"), "a_strategy_with_a_rather_long_name")
    snap = AccountSnapshot("USDT", Decimal("10000"), Decimal("10000"), Decimal(0), Decimal(0))
    with JournalWriter(path) as writer:
        writer.write(fill, trade, AccountRecord(T0 + 60_000, snap)).result(20)


def _cli(path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    config = path.parent / "config.toml"
    config.write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "tradeterm", "journal", *args],
        capture_output=True, text=True, timeout=60, cwd=path.parent, check=False,
        env={**os.environ, "TRADETERM_JOURNAL_PATH": str(path),
             "TRADETERM_DATA_DIR": str(path.parent), "TRADETERM_CONFIG": str(config),
             **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cli_table_when_piped_then_every_value_in_full_and_rounded_by_the_policy(tmp_path):
    path = tmp_path / "j.sqlite"
    _long_journal(path)
    out = _cli(path, "trades")
    assert "…" not in out
    line = next(ln for ln in out.splitlines() if "BTC/USDT" in ln).split()
    # qty to the step (0.00001 from the fills), prices to the tick (0.01), pnl and fees to the
    # cent, R to 2 decimals; never the 28 digits
    assert line[3:10] == ["buy", "0.00123", "64994.77", "65002.90", "-1.23", "0.08", "-0.33"]
    # no initial risk: MAE and MFE in R are blank (not split out), then held, the strategy,
    # opened, MAE and MFE in quote; no signal: no reasons
    assert line[10:13] == ["1m", "00s", "a_strategy_with_a_rather_long_name"]
    assert line[15:] == ["-1.50", "2.25"]
    assert LONG not in out

    exact = list(csv.reader(io.StringIO(_cli(path, "trades", "--csv"))))
    assert exact[1][4] == LONG and exact[1][8] == "-0.3333333333333333333333333333"


def test_cli_table_when_wider_than_the_terminal_then_plain_and_never_cut(tmp_path):
    path = tmp_path / "j.sqlite"
    _long_journal(path)
    out = _cli(path, "trades", env={"TTY_COMPATIBLE": "1", "COLUMNS": "50"})
    assert "…" not in out and "a_strategy_with_a_rather_long_name" in out
    assert "64994.77" in out and "65002.90" in out
    wide = _cli(path, "stats", env={"TTY_COMPATIBLE": "1", "COLUMNS": "250"})
    assert "┃" in wide or "│" in wide  # fits: a rich table in a terminal
    assert "-1.23" in wide and "…" not in wide


def test_display_grid_when_inferred_from_fills_then_ignores_values_off_any_grid():
    assert grid_unit(["64990.1", "64990.25", "65000"]) == Decimal("0.01")
    assert grid_unit([LONG, "100.5"]) == Decimal("0.1")
    assert grid_unit([LONG]) is None and grid_unit([]) is None
    assert quote_of("ETH/BTC") == "BTC" and quote_of("BTC/USDT:USDT") == "USDT"
    assert quote_of("WEIRD") is None


def _whole_list(path: Path) -> tuple[TradeStats, dict[str, TradeStats], dict[str, TradeStats]]:
    with JournalReader(path) as reader:
        trades = reader.trades()
        curve = [p.equity for p in reader.equity()]
    return compute_stats(trades, curve), stats_by(trades, by_strategy), stats_by(trades, by_day)


def _assert_stats_equal(path: Path) -> None:
    overall, strategies, days = _whole_list(path)
    with JournalReader(path) as reader:
        mine = reader.stats()
    _same(mine.overall, overall)
    assert list(mine.by_strategy) == list(strategies) and list(mine.by_day) == list(days)
    for name in strategies:
        _same(mine.by_strategy[name], strategies[name])
    for name in days:
        _same(mine.by_day[name], days[name])


def _bulk(path: Path, trades: list[ClosedTrade]) -> None:
    """Rows added behind the writer's back (older code, a bulk import): the checkpoint lags."""
    from tradeterm.journal.rows import trade_row

    conn = sqlite3.connect(path)
    with conn:
        for t in trades:
            row = trade_row(t, None)
            conn.execute(f"INSERT INTO positions ({', '.join(row)}) VALUES "
                         f"({', '.join('?' * len(row))})", tuple(row.values()))
    conn.close()


def _checkpoint(path: Path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        return dict(conn.execute("SELECT key, state FROM stats_checkpoint").fetchall())
    finally:
        conn.close()


def test_stats_checkpoint_when_kept_by_the_writer_then_equal_and_read_without_the_trades(
    tmp_path,
):
    path = tmp_path / "j.sqlite"
    rng = random.Random(3)
    trades = _trades(300, seed=8)
    with JournalWriter(path) as writer:
        for i in range(0, 300, 7):  # trades closing over time, with equity points between
            writer.write(*trades[i:i + 7]).result(20)
            value = Decimal(10_000) + _digits(rng)
            writer.write(AccountRecord(trades[min(i + 6, 299)].closed_ms + 1, AccountSnapshot(
                "USDT", value, value, Decimal(0), Decimal(0)))).result(20)
    kept = _checkpoint(path)
    assert '"trades_ok": true' in kept["meta"] and len(kept) > 10  # meta, all, strategies, days
    _assert_stats_equal(path)

    seen: list[str] = []
    with JournalReader(path) as reader:
        reader.db.conn.set_trace_callback(seen.append)
        reader.stats()
    assert not any("FROM [positions]" in sql for sql in seen)  # no streaming of every trade


def test_stats_checkpoint_when_rows_added_behind_its_back_then_caught_up_or_abandoned(tmp_path):
    path = tmp_path / "j.sqlite"
    trades = _trades(200, seed=12)
    _journal(path, trades[:120], [Decimal(10_000), Decimal(9_000), Decimal(9_500)])
    _bulk(path, trades[120:170])  # later closes: the reader catches up in memory
    _assert_stats_equal(path)
    with JournalWriter(path):  # the writer catches up on open and stores it
        pass
    assert '"trade_rowid": 170' in _checkpoint(path)["meta"]
    _assert_stats_equal(path)
    _bulk(path, trades[:5])  # closed before the last one: the checkpoint cannot follow
    _assert_stats_equal(path)
    with JournalWriter(path):
        pass
    assert '"trades_ok": false' in _checkpoint(path)["meta"]
    _assert_stats_equal(path)  # streamed, still equal


def test_cli_when_the_reader_of_the_pipe_stops_early_then_quiet_exit(tmp_path):
    path = tmp_path / "j.sqlite"
    _journal(path, _trades(3000), [])
    config = tmp_path / "config.toml"
    config.write_text("")
    env = {**os.environ, "TRADETERM_JOURNAL_PATH": str(path), "TRADETERM_CONFIG": str(config),
           "TRADETERM_DATA_DIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "tradeterm", "journal", "trades"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # like `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and "Traceback" not in err, err
