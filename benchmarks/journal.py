"""The journal's figures: durable fills per second, and reading a 1,000,000-trade journal.

Writing (``synchronous=FULL``, fsync at every commit, temporary file):
- burst: N fills submitted at once by asyncio tasks, each awaiting ``commit`` (group commit);
- one at a time: each fill awaited before the next is sent (one transaction per fill: the
  disk's fsync latency is the limit, which is why the engine never waits like this).

Reading (a journal of ``--trades`` closed trades, 2 fills and 2 orders each, a signal every
fifth trade and an equity point a minute, built once through the real schema by bulk insert and
kept at ``--path``), each figure measured in a fresh child process so imports and caches of one
do not help another:
- the journal screen's first page (``read_pages``, what the engine's thread runs to answer the
  screen's ``journal.page`` request): seconds, and peak memory above the process's baseline
  once the modules are imported
  (budget 0.5 s, under 100 MB);
- ``tradeterm journal stats`` (budget 2 s): the writer keeps a checkpoint of the statistics
  (``journal/stats_checkpoint.py``); the bulk-inserted journal gets it when the writer first
  opens it, as a journal written by older code does when the engine starts (timed apart);
- ``tradeterm journal trades --since <the last day>`` (budget 0.3 s).
The CLI figures time ``journal_command`` with stdout piped to /dev/null (the non-terminal path:
full values, no cutting), once with its lazy imports and once with them done beforehand (the
budget is for the work); interpreter start-up is not included.

Run: ``uv run python benchmarks/journal.py [--fills N] [--trades N] [--path FILE] [--skip-write]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from tradeterm.core.trading import Fill, Liquidity
from tradeterm.journal import JournalWriter

BUDGET = 5_000
START_MS = 1_700_000_000_000  # 2023-11-14
MINUTE_MS = 60_000
SCREEN_BUDGET_S, SCREEN_BUDGET_MB, STATS_BUDGET_S, SINCE_BUDGET_S = 0.5, 100, 2.0, 0.3
STRATEGIES = ("ema_cross", "breakout", "rsi_revert", None)


def _fill(i: int) -> Fill:
    return Fill(f"f{i}", f"o{i % 97}", "BTC/USDT", "buy" if i % 2 else "sell",
                Decimal("64990.12") + Decimal(i % 100) / 100, Decimal("0.00123"),
                Decimal("0.0799378476"), Liquidity.TAKER, START_MS + i)


async def _burst(writer: JournalWriter, n: int) -> float:
    start = time.perf_counter()
    await asyncio.gather(*(writer.commit(_fill(i)) for i in range(n)))
    return n / (time.perf_counter() - start)


async def _sequential(writer: JournalWriter, n: int, offset: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        await writer.commit(_fill(offset + i))
    return n / (time.perf_counter() - start)


async def write_figures(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp, JournalWriter(Path(tmp) / "j.sqlite") as writer:
        burst = await _burst(writer, n)
        seq = await _sequential(writer, min(n, 500), n)
    verdict = "ok" if burst >= BUDGET else "OVER BUDGET"
    print(f"durable fills/s, burst of {n} (group commit, synchronous=FULL): {burst:,.0f} "
          f"(budget {BUDGET:,}/s: {verdict})")
    print(f"durable fills/s, one at a time (one fsync each): {seq:,.0f}", flush=True)


# -- a big journal ------------------------------------------------------------------------------


def _money(rng: random.Random, low: int, high: int) -> str:
    """A money string as the engine stores them: mostly cents, some with 20+ digits (a
    weighted average price or an R multiple divides)."""
    cents = rng.randint(low, high)
    if rng.random() < 0.1:
        return str(Decimal(cents) / 100 / 7)  # 28 significant digits, like the real ones
    return str(Decimal(cents) / 100)


def build(path: Path, trades: int) -> None:
    """``trades`` closed trades (one a minute, over ~``trades`` minutes) with their fills and
    orders, signals and an equity point a minute, bulk-inserted through the real schema."""
    JournalWriter(path).start().close()  # creates and migrates: the real schema
    rng = random.Random(11)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous = OFF")
    positions, fills, orders, signals, equity = [], [], [], [], []
    balance = Decimal(10_000)
    for i in range(trades):
        opened = START_MS + i * MINUTE_MS
        closed = opened + 45_000
        side = "buy" if i % 3 else "sell"
        strategy = STRATEGIES[i % len(STRATEGIES)]
        entry = Decimal(60_000 + rng.randint(0, 900_000)) / 100
        exit_ = entry + Decimal(rng.randint(-30_000, 32_000)) / 100
        qty = Decimal(rng.randint(1, 5_000)) / 100_000
        pnl = _money(rng, -2_000, 2_100)
        fee = str((entry * qty * Decimal("0.001")).quantize(Decimal("0.00000001")))
        r = None if i % 10 == 0 else str(Decimal(pnl) / Decimal(rng.randint(500, 2_000)) * 100)
        positions.append((i + 1, 1, "BTC/USDT", side, str(qty), str(entry), str(exit_), opened,
                          closed, pnl, fee, r, _money(rng, -900, 0), _money(rng, 0, 900),
                          strategy))
        for leg, (when, price) in enumerate(((opened, entry), (closed, exit_))):
            oid = f"o{i}-{leg}"
            buy = (side == "buy") == (leg == 0)
            fills.append((f"f{i}-{leg}", 1, oid, "BTC/USDT", "buy" if buy else "sell",
                          str(price), str(qty), fee, "taker", when, strategy))
            orders.append((oid, 1, "BTC/USDT", "buy" if buy else "sell", "market", str(qty),
                           None, None, None, "gtc", leg, None, None, strategy, None, "filled",
                           when, when, str(qty), str(price), fee, None, None, None, None))
        if i % 5 == 0:
            signals.append((1, opened - 1_000, strategy or "ema_cross", "BTC/USDT", "1m",
                            opened - MINUTE_MS, "entry", "buy", str(entry), str(entry - 100),
                            str(entry + 200), 0.7, "[]", "submitted", None, f"o{i}-0"))
        balance += Decimal(pnl)
        equity.append((closed + 1, str(balance), str(balance), "0"))
    with db:
        db.executemany("INSERT INTO positions (id, run_id, symbol, side, quantity, entry_price, "
                       "exit_price, opened_ms, closed_ms, pnl, fees, r_multiple, mae, mfe, "
                       f"strategy) VALUES ({','.join('?' * 15)})", positions)
        db.executemany(f"INSERT INTO fills VALUES ({','.join('?' * 11)})", fills)
        db.executemany(f"INSERT INTO orders VALUES ({','.join('?' * 25)})", orders)
        db.executemany("INSERT INTO signals (run_id, timestamp, strategy, symbol, timeframe, "
                       "bar_time, kind, side, entry, stop, targets, confidence, reasons, "
                       "status, reason, order_id) VALUES (" + ",".join("?" * 16) + ")", signals)
        db.executemany("INSERT INTO equity (timestamp, equity, balance, unrealized_pnl) "
                       "VALUES (?, ?, ?, ?)", equity)
    db.execute("ANALYZE")
    db.close()


def ensure_journal(path: Path, trades: int) -> None:
    """Build the journal once; later runs reuse it (migrated to this code's schema)."""
    if not path.is_file():
        started = time.perf_counter()
        print(f"building a {trades:,}-trade journal at {path} ...", flush=True)
        build(path, trades)
        print(f"  built in {time.perf_counter() - started:.1f} s "
              f"({path.stat().st_size / 1e6:,.0f} MB)", flush=True)
    # Open it once with the writer, as the engine does at start: it migrates an older file and
    # catches the statistics' checkpoint up with rows written without it (the bulk insert
    # above, or a journal of code before the checkpoint); a journal the writer kept is current
    # and this costs nothing.
    started = time.perf_counter()
    JournalWriter(path).start().close()
    print(f"  opened by the writer (migration, statistics checkpoint caught up) in "
          f"{time.perf_counter() - started:.1f} s", flush=True)


_CHILD = r"""
import json, os, sys, threading, time
from pathlib import Path
import psutil
what, path, since = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
me = psutil.Process()
peak = [0]
def sample():  # peak RSS, sampled (ru_maxrss would include the parent's, inherited at fork)
    while True:
        peak[0] = max(peak[0], me.memory_info().rss)
        time.sleep(0.002)
threading.Thread(target=sample, daemon=True).start()
if what == "screen":
    from tradeterm.service.journal_requests import read_pages
    import tradeterm.journal.reader, tradeterm.journal.cli  # what the engine has loaded anyway
    time.sleep(0.05)
    base = peak[0] = me.memory_info().rss
    t = time.perf_counter()
    result = read_pages(path, ("trades",), 500, False)
    took = time.perf_counter() - t
    time.sleep(0.01)
    assert "tables" in result, result
    print(json.dumps({"s": took, "mb": (peak[0] - base) / 2**20}))
elif what == "curve":
    from tradeterm.service.journal_requests import read_curve
    from tradeterm.journal.filters import JournalFilter, filter_of
    import tradeterm.journal.reader, tradeterm.journal.curve
    flt = JournalFilter() if since == "all" else filter_of({"from": since})
    time.sleep(0.05)
    base = peak[0] = me.memory_info().rss
    t = time.perf_counter()
    result = read_curve(path, flt, 200)
    took = time.perf_counter() - t
    time.sleep(0.01)
    assert "equity" in result and len(result["equity"]) <= 200, result
    print(json.dumps({"s": took, "mb": (peak[0] - base) / 2**20}))
else:
    from tradeterm.journal.cli import journal_command
    if os.environ.get("BENCH_WARM"):  # the command's own imports done before the clock starts
        import tradeterm.journal.reader, tradeterm.journal.views
    class S:
        journal_file = path
    args = ["stats"] if what == "stats" else ["trades", "--since", since]
    out = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    t = time.perf_counter()
    code = journal_command(args, S())
    sys.stdout.flush()
    took = time.perf_counter() - t
    os.dup2(out, 1)
    assert code == 0, code
    print(json.dumps({"s": took, "mb": peak[0] / 2**20}))
"""


def _child(what: str, path: Path, since: str, warm: bool = False) -> dict[str, float]:
    env = {**os.environ, "BENCH_WARM": "1" if warm else ""}
    done = subprocess.run([sys.executable, "-c", _CHILD, what, str(path), since],
                          capture_output=True, text=True, check=False, timeout=900, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _verdict(value: float, budget: float) -> str:
    return "ok" if value <= budget else "OVER BUDGET"


def read_figures(path: Path, trades: int) -> None:
    ensure_journal(path, trades)
    last_ms = START_MS + (trades - 1) * MINUTE_MS  # the journal's last day: one day of trades
    day = time.strftime("%Y-%m-%d", time.gmtime(last_ms / 1000))
    screen = _child("screen", path, day)
    print(f"journal screen, first page, {trades:,} trades: {screen['s']:.2f} s "
          f"(budget {SCREEN_BUDGET_S} s: {_verdict(screen['s'], SCREEN_BUDGET_S)}), "
          f"{screen['mb']:,.0f} MB above baseline "
          f"(budget {SCREEN_BUDGET_MB} MB: {_verdict(screen['mb'], SCREEN_BUDGET_MB)})",
          flush=True)
    for since, label in (("all", "every trade"), (day, f"from {day}")):
        curve = _child("curve", path, since)
        print(f"journal screen charts (journal.curve, 200 points), {label}: {curve['s']:.2f} s "
              f"in the engine's reader thread, {curve['mb']:,.0f} MB above baseline", flush=True)
    for what, label, budget in (("stats", "journal stats", STATS_BUDGET_S),
                                ("since", f"journal trades --since {day}", SINCE_BUDGET_S)):
        cold, warm = _child(what, path, day), _child(what, path, day, warm=True)
        print(f"{label}: {cold['s']:.2f} s with the command's imports (sqlite-utils, which "
              f"imports numpy), {warm['s']:.2f} s without (budget {budget} s: "
              f"{_verdict(warm['s'], budget)}), peak {cold['mb']:,.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fills", nargs="?", type=int, default=50_000)
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--path", type=Path,
                        default=Path(tempfile.gettempdir()) / "tradeterm-bench-journal.sqlite")
    parser.add_argument("--skip-write", action="store_true", help="only the reading figures")
    args = parser.parse_args()
    if not args.skip_write:
        asyncio.run(write_figures(args.fills))
    read_figures(args.path, args.trades)


if __name__ == "__main__":
    main()
