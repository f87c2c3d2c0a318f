"""Replay is a sandbox (issue 12, item 7), through the path a trader uses: ``Engine`` with the
replay settings (what ``tradeterm --replay FILE`` builds) and the real ``tradeterm --replay FILE
run --headless`` process. Real parts: the simulator on loopback, unmodified ccxt, strategy
worker processes, SQLite journals.

* the replay journals into its own file beside the data, stamped with the replayed bars' time;
  the paper journal is left byte for byte unchanged, also beside a running paper engine;
* the same candles give the same trades at two speeds (one paced by wall time, paused and sped
  up on the way), equal to the backtester's trade by trade;
* ``--from`` starts at that bar, with the bars before it as warm-up history.

The candles are generated here (tests pass on a fresh clone): a 1m random walk in whole ticks
near 100.00, quiet stretches breaking into loud trending ones, so the strategy trades often.
"""

from __future__ import annotations

import tempfile

import asyncio
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from strategy_copies import one_minute_copy
from walk_candles import tick_walk

from tradeterm import __version__
from tradeterm.backtest.runner import BacktestConfig, rules_for, run_backtest
from tradeterm.config import Settings
from tradeterm.core.commands import ReplayControl, Shutdown
from tradeterm.core.events import Event, ReplayFinished
from tradeterm.engine import Engine
from tradeterm.journal import JournalReader, JournalWriter, RunRecord
from tradeterm.journal.lock import engine_holding
from tradeterm.sim.paced import MAX_PRINTS, coarse_path
from tradeterm.strategy.loader import load_directory

pytestmark = pytest.mark.integration

# the shipped strategies on 1m bars (their defaults trade 1h): the replays here are of 1m bars
STRATEGIES = one_minute_copy(Path(tempfile.mkdtemp(prefix="tt-strategies-1m-")))
STRATEGY = "rsi_reversion"  # cheap to evaluate and trades often on these candles
START = 1_704_067_200_000  # 2024-01-01 00:00 UTC
MINUTE = 60_000
TICK = 0.01
SYMBOL = "BTC/USDT"
RUN_TIMEOUT_S = 180.0  # liveness only: a replay that never ends fails instead of hanging


def candles(bars: int, seed: int = 11) -> pl.DataFrame:
    return tick_walk(bars, seed, time_column="timestamp_ms")


def path_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The replay's prints as one-price candles: the backtester's lower timeframe."""
    times, prices = [], []
    for t0, *ohlc in frame.select("timestamp_ms", "open", "high", "low", "close").iter_rows():
        path = coarse_path(*(round(x / TICK) for x in ohlc), MAX_PRINTS)
        times += [t0 + j * MINUTE // len(path) for j in range(len(path))]
        prices += [round(p * TICK, 2) for p in path]
    return pl.DataFrame({"open_time": times, "open": prices, "high": prices, "low": prices})


def settings_for(data: Path, replay: Path, speed: float, **sim: Any) -> Settings:
    """What ``tradeterm --replay FILE --speed S`` builds (``--replay`` implies the demo)."""
    return Settings(
        data_dir=data, symbols=[SYMBOL], demo=True,
        sim={"replay": replay, "speed": speed, **sim},
        feed={"history_bars": 60},
        strategies={"dir": STRATEGIES, "enabled": [STRATEGY], "lookahead_cuts": 2},
        risk={"max_orders_per_minute": 10_000},  # a bar is a minute of the replay's clock
    )


async def replay(settings: Settings, steer: Any = None) -> Engine:
    """Run the engine on a replay to its end (``ReplayFinished``), then shut it down."""
    engine = Engine(settings)
    finished = asyncio.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, ReplayFinished):
            finished.set()

    engine.add_listener(on_event)
    task = asyncio.create_task(engine.run())
    try:
        if steer is not None:
            await steer(engine)
        await asyncio.wait_for(finished.wait(), RUN_TIMEOUT_S)
    finally:
        engine.submit(Shutdown())
        await asyncio.wait_for(task, 60)
    return engine


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def paper_journal(path: Path) -> None:
    """A paper journal as an engine leaves it (a run recorded), to be left alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = JournalWriter(path, run=RunRecord(1_700_000_000_000, __version__, "paper", "x"))
    writer.start()
    writer.close()


def journal_times(path: Path) -> dict[str, list[int]]:
    """Every time the replay journal stamped: fills, orders, signals, equity, positions, runs."""
    columns = {"fills": ("timestamp",), "orders": ("created_ms", "updated_ms"),
               "signals": ("timestamp",), "equity": ("timestamp",),
               "positions": ("opened_ms", "closed_ms"), "runs": ("started_ms",)}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {f"{table}.{col}": [int(v) for (v,) in db.execute(
                    f"SELECT {col} FROM {table} WHERE {col} IS NOT NULL")]  # noqa: S608
                for table, cols in columns.items() for col in cols}
    finally:
        db.close()


def trade_keys(trades: list[Any]) -> list[tuple[Any, ...]]:
    return [(t.side, t.quantity, t.entry_price, t.exit_price, t.opened_ms // MINUTE,
             t.closed_ms // MINUTE, t.fees, t.pnl) for t in trades]


# -- the sandbox: its own journal, bar times, the paper journal untouched ---------------------------


async def test_replay_journals_in_its_own_file_on_bar_time_and_leaves_paper_alone(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    paper = data / "journal.sqlite"
    paper_journal(paper)
    before = sha256(paper)
    shift = 200 * MINUTE  # from 2023-12-31 20:40 UTC: the replay crosses midnight
    frame = candles(400).with_columns(pl.col("timestamp_ms") - shift)
    file = tmp_path / "candles" / "BTCUSDT_1m.parquet"
    file.parent.mkdir()
    frame.write_parquet(file)
    settings = settings_for(data, file, speed=1e9)
    assert settings.journal_file == tmp_path / "candles" / "BTCUSDT_1m.replay.sqlite"

    await replay(settings)

    assert sha256(paper) == before  # never opened, never written
    assert sorted(p.name for p in data.iterdir()) == ["journal.sqlite"]  # no lock, no sidecar
    first, end = START - shift, START - shift + len(frame) * MINUTE
    times = journal_times(settings.journal_file)
    assert len(times["fills.timestamp"]) >= 6, times  # it traded: entries and exits
    for column, values in times.items():
        assert all(first <= v <= end for v in values), (column, values[:5])
    with JournalReader(settings.journal_file) as reader:
        assert reader.trades() and reader.equity()
        realized = sum((t.pnl for t in reader.trades()), Decimal(0))
    assert realized != 0
    db = sqlite3.connect(f"file:{settings.journal_file}?mode=ro", uri=True)
    days = sorted(str(day) for (day,) in db.execute("SELECT day FROM day_state"))
    db.close()
    assert days == ["2023-12-31", "2024-01-01"]  # the trading days (and loss limit) replayed

    # A second run of the same replay starts afresh; the first one is kept beside it.
    first_run = sha256(settings.journal_file)
    await replay(settings_for(data, file, speed=1e9))
    previous = tmp_path / "candles" / "BTCUSDT_1m.replay.prev.sqlite"
    assert sha256(previous) == first_run
    assert len(journal_times(settings.journal_file)["runs.started_ms"]) == 1  # a fresh journal:
    # the configured balance, no position restored from the first run
    with JournalReader(settings.journal_file) as reader:
        again = reader.trades()
    with JournalReader(previous) as reader:
        assert trade_keys(again) == trade_keys(reader.trades())
    assert sha256(paper) == before


# -- determinism at any speed, and parity with the backtester --------------------------------------


async def test_replay_gives_the_same_trades_at_two_speeds_and_equals_the_backtester(
    tmp_path: Path,
) -> None:
    frame = candles(2_000)

    async def steer(engine: Engine) -> None:
        """The other run: as fast as the engine goes, then slowed to 500x (a bar every 120 ms:
        the prints wait for wall time), paused, resumed, and sped up again."""
        while engine.snapshot().replay is None:  # the replay's market is up
            await asyncio.sleep(0.01)
        await asyncio.sleep(1.0)
        engine.submit(ReplayControl("speed", 1 / 2_000))
        await asyncio.sleep(1.5)
        assert engine.snapshot().replay.speed == pytest.approx(500)
        engine.submit(ReplayControl("pause"))
        await asyncio.sleep(0.3)
        engine.submit(ReplayControl("resume"))
        await asyncio.sleep(0.5)
        engine.submit(ReplayControl("speed", 2_000))

    async def one(name: str, speed: float, control: Any) -> list[Any]:
        file = tmp_path / name / "BTCUSDT_1m.parquet"
        file.parent.mkdir()
        frame.write_parquet(file)
        settings = settings_for(tmp_path / name / "data", file, speed=speed)
        engine = await replay(settings, control)
        if control is not None:
            assert engine.snapshot().replay.speed == 1e6  # the speed changes took
        with JournalReader(settings.journal_file) as reader:
            return [reader.trades(), reader.open_positions()]

    # Side by side (two engines on one loop, each with its own strategy worker): half the time.
    runs = await asyncio.gather(one("fast", 1e9, None), one("steered", 1e6, steer))
    (fast, fast_open), (paced, paced_open) = runs
    file = tmp_path / "fast" / "BTCUSDT_1m.parquet"
    assert trade_keys(fast) == trade_keys(paced)
    assert [(p.quantity, p.average_entry) for p in fast_open] == \
        [(p.quantity, p.average_entry) for p in paced_open]

    cls = load_directory(STRATEGIES).strategies[STRATEGY].cls
    config = BacktestConfig.from_settings(settings_for(tmp_path, file, 1.0), rules_for(SYMBOL))
    result = run_backtest(cls(), frame.rename({"timestamp_ms": "open_time"}), config,
                          symbol=SYMBOL, lower=path_frame(frame))
    expected = [b.trade for b in result.trades if b.exit_reason != "end"]
    ends = [b.trade for b in result.trades if b.exit_reason == "end"]
    reasons = Counter(b.exit_reason for b in result.trades)
    assert len(expected) >= 20, reasons
    assert trade_keys(fast) == trade_keys(expected), dict(reasons)
    # A position the backtester closes at the end of the data is still open in the replay.
    assert [(abs(p.quantity), p.average_entry) for p in fast_open] == \
        [(t.quantity, t.entry_price) for t in ends]


# -- --from: the first replayed bar, with warm-up history before it -------------------------------


async def test_from_starts_at_that_bar_with_the_bars_before_it_as_history(
    tmp_path: Path,
) -> None:
    frame = candles(300)
    file = tmp_path / "BTCUSDT_1m.parquet"
    frame.write_parquet(file)
    start = START + 200 * MINUTE  # 2024-01-01 03:20 UTC
    settings = settings_for(tmp_path / "data", file, speed=1e9,
                            replay_from="2024-01-01T03:20:00Z")
    assert settings.sim.replay_from_ms == start
    seen: list[int] = []

    async def watch(engine: Engine) -> None:
        while engine.snapshot().replay is None:
            await asyncio.sleep(0.01)
        seen.append(engine.snapshot().replay.position_ms)

    engine = await replay(settings, watch)

    assert seen == [start]  # the first replayed bar is the given one
    chart = engine.state.candles(SYMBOL, "1m")
    history = [c for c in chart if c.open_time < start]
    # the chart's and the strategies' warm-up: a REST page of feed.history_bars, the live bar
    # (the first replayed one) included
    assert len(history) >= settings.feed.history_bars - 1
    by_time = {row[0]: row[1:] for row in frame.select(
        "timestamp_ms", "open", "high", "low", "close").iter_rows()}
    for c in history:  # the file's own bars, not an invented past
        assert (c.open, c.high, c.low, c.close) == by_time[c.open_time]
    replayed = [c for c in chart if c.open_time >= start]
    assert replayed[0].open_time == start  # the file's bar at --from, then on from there
    assert [(c.open, c.high, c.low, c.close) for c in replayed[:-1]] == \
        [by_time[c.open_time] for c in replayed[:-1]]
    times = journal_times(settings.journal_file)
    assert times["fills.timestamp"], "no trade after the start"
    assert all(v >= start for col, vals in times.items() for v in vals), times


# -- several files: several symbols on one clock ----------------------------------------------------


async def test_several_files_replay_their_symbols_together_into_one_journal(
    tmp_path: Path,
) -> None:
    btc, eth = candles(150, seed=3), candles(150, seed=4).with_columns(
        (pl.col(c) / 2).round(2) for c in ("open", "high", "low", "close"))
    files = [tmp_path / "BTCUSDT_1m.parquet", tmp_path / "ETHUSDT_1m.parquet"]
    btc.write_parquet(files[0])
    eth.write_parquet(files[1])
    settings = Settings(data_dir=tmp_path / "data", symbols=[SYMBOL, "ETH/USDT"], demo=True,
                        sim={"replay": files, "speed": 1e9}, feed={"history_bars": 60},
                        strategies={"enabled": []})
    assert settings.journal_file == tmp_path / "BTCUSDT_1m+ETHUSDT_1m.replay.sqlite"

    async def eth_chart(engine: Engine) -> None:
        while engine.snapshot().phase.value != "running":
            await asyncio.sleep(0.01)
        from tradeterm.core.commands import SwitchSymbol
        engine.submit(SwitchSymbol("ETH/USDT"))  # before the first bar: ETH's candles stream
        # BTC played too: its watchlist ticker (pushed once a second) reaches its last close
        last = float(btc["close"][-1])
        deadline = asyncio.get_running_loop().time() + 60
        while (t := engine.state.ticker(SYMBOL)) is None or t.last != last \
                or not (engine.snapshot().replay and engine.snapshot().replay.finished):
            assert asyncio.get_running_loop().time() < deadline, "BTC never reached its close"
            await asyncio.sleep(0.05)

    engine = await replay(settings, eth_chart)

    by_time = {row[0]: row[1:] for row in eth.select(
        "timestamp_ms", "open", "high", "low", "close").iter_rows()}
    bars = [c for c in engine.state.candles("ETH/USDT", "1m") if c.open_time in by_time]
    assert len(bars) == len(eth)  # the chart's symbol: every bar, the closed ones as in the file
    assert [(c.open, c.high, c.low, c.close) for c in bars[:-1]] == \
        [by_time[c.open_time] for c in bars[:-1]]
    assert engine.snapshot().replay.finished
    assert engine.snapshot().replay.position_ms == START + 149 * MINUTE
    assert journal_times(settings.journal_file)["runs.started_ms"] == [START]


# -- the real CLI: beside a running paper engine ---------------------------------------------------


def _tradeterm(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tradeterm", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, stdin=subprocess.DEVNULL, timeout=150)


def test_headless_replay_runs_beside_a_paper_engine_and_never_touches_its_journal(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    paper = tmp_path / "data" / "tradeterm" / "journal.sqlite"
    file = tmp_path / "BTCUSDT_1m.parquet"
    candles(300).write_parquet(file)
    config = tmp_path / "replay.toml"
    config.write_text(f'[strategies]\ndir = "{STRATEGIES}"\nenabled = ["{STRATEGY}"]\n'
                      '[risk]\nmax_orders_per_minute = 10000\n')
    args = ("--config", str(config), "--replay", str(file), "--speed", "1e9", "run",
            "--headless")
    engine = subprocess.Popen(
        [sys.executable, "-m", "tradeterm", "--demo", "run", "--headless"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while engine_holding(paper) is None:
            assert engine.poll() is None, "the paper engine ended"
            assert time.monotonic() < deadline, "the paper engine never took its journal"
            time.sleep(0.1)
        beside = _tradeterm(*args, env=env, cwd=tmp_path)  # one engine per journal: not this one
        assert beside.returncode == 0, beside.stderr
        assert "Traceback" not in beside.stderr
        assert engine.poll() is None and engine_holding(paper).pid == engine.pid  # type: ignore[union-attr]
    finally:
        engine.send_signal(signal.SIGTERM)
        engine.wait(timeout=30)
    journal = tmp_path / "BTCUSDT_1m.replay.sqlite"
    times = journal_times(journal)
    assert times["fills.timestamp"], beside.stdout[-2000:]
    end = START + 300 * MINUTE
    assert all(START <= v <= end for vals in times.values() for v in vals), times
    assert "2024-01-01" in beside.stdout  # the events it printed are on the replay clock

    before = sha256(paper)  # the paper engine has stopped: its journal is final
    again = _tradeterm(*args, env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert sha256(paper) == before
    assert (tmp_path / "BTCUSDT_1m.replay.prev.sqlite").is_file()
