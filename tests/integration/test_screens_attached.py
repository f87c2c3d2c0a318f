"""The journal and backtest screens of an attached workstation get everything from the engine:
a real headless engine process (demo market through unmodified ccxt, a real journal), the real
Textual app on a ``RemoteEngine`` over the real socket, driven through Pilot.

The app's own settings point at an empty directory: whatever the screens show can only have
come through the socket. A separate interpreter checks that an attached screen that opened both
screens never imported SQLite, the journal reader, the backtester, polars or a strategy."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from service_helpers import EngineProcess, attached, until
from textual.widgets import DataTable, Static
from ui.ui_helpers import wait_for

from tradeterm.backtest.data.store import candle_path, write_atomic
from tradeterm.config import Settings
from tradeterm.core.commands import PlaceOrder
from tradeterm.core.events import BacktestFinished, BacktestProgressed, Event, OrderFilled
from tradeterm.core.trading import OrderRequest, OrderType
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.screens.backtest import BacktestScreen
from tradeterm.ui.screens.history import HistoryScreen
from tradeterm.wire.remote import RemoteEngine, RequestFailed

pytestmark = pytest.mark.integration

BTC = "BTC/USDT"
STRATEGIES = Path(__file__).resolve().parents[2] / "strategies"
BARS = 3000


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    root = tmp_path_factory.mktemp("screens")
    proc = EngineProcess(root)
    try:
        (root / "strategies").symlink_to(STRATEGIES)  # the engine's strategies.dir (its cwd)
        write_atomic(synthetic_candles(BARS, seed=11, start_price=60_000.0),
                     candle_path(proc.journal.parent, "BTCUSDT", "1m"))
        # the screen opens on the strategy's own timeframe (ema_cross: 1h)
        write_atomic(synthetic_candles(BARS, seed=12, start_price=60_000.0,
                                       interval_ms=3_600_000),
                     candle_path(proc.journal.parent, "BTCUSDT", "1h"))
        asyncio.run(proc.ready())
        yield proc
    finally:
        proc.stop()


def _app(tmp_path: Path, engine: EngineProcess) -> tuple[TradetermApp, RemoteEngine]:
    """The workstation attached to ``engine``; its own settings name an empty data directory."""
    link = RemoteEngine(engine.socket, client="pilot")
    settings = Settings(data_dir=tmp_path / "nothing-here", symbols=[BTC])
    return TradetermApp(settings, engine=link), link


def _rows(table: DataTable) -> list[list[str]]:
    return [[str(c).strip() for c in table.get_row_at(i)] for i in range(table.row_count)]


def _table(app: TradetermApp, name: str) -> DataTable | None:
    found = app.screen.query(f"#table-{name}")
    return found.first(DataTable) if found else None


async def test_the_journal_screen_shows_what_the_engine_journaled(
    engine: EngineProcess, tmp_path: Path,
) -> None:
    async with attached(engine.socket) as trader:
        await until(trader, lambda s: s.market.book is not None)
        fills: list[OrderFilled] = []
        trader.add_listener(lambda e: fills.append(e) if isinstance(e, OrderFilled) else None)
        trader.submit(PlaceOrder(OrderRequest(BTC, "buy", OrderType.MARKET, Decimal("0.01"))))
        await until(trader, lambda s: bool(fills), timeout=15)
    with sqlite3.connect(engine.journal) as db:  # what the engine wrote (the test may look)
        journaled = db.execute("SELECT COUNT(*) FROM fills").fetchone()[0]
    assert journaled >= 1

    app, _ = _app(tmp_path, engine)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.engine.snapshot().account is not None, timeout=20)
        await pilot.press("j")

        def fills_shown() -> bool:
            table = _table(app, "fills")
            return isinstance(app.screen, HistoryScreen) and table is not None \
                and table.row_count == journaled

        await wait_for(pilot, fills_shown, timeout=20)
        newest = _rows(_table(app, "fills"))[0]
        assert newest[1:3] == [BTC, "buy"]
        assert any(cell.startswith("0.01") for cell in newest)  # the quantity we bought
        assert _rows(_table(app, "orders"))  # the order that filled
        title = app.screen.query_one("#history-title", Static)
        assert str(engine.journal) in str(title.content)  # the engine's journal, not ours
        await wait_for(pilot, lambda: bool(_table(app, "stats").row_count), timeout=20)
        await pilot.press("escape")
    assert not (tmp_path / "nothing-here" / "journal.sqlite").exists()


async def test_a_backtest_started_by_one_client_streams_to_another_screen(
    engine: EngineProcess, tmp_path: Path,
) -> None:
    app, link = _app(tmp_path, engine)
    watched: list[Event] = []  # what the screen's own link received
    link.add_listener(lambda e: watched.append(e)
                      if isinstance(e, BacktestProgressed | BacktestFinished) else None)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.engine.snapshot().account is not None, timeout=20)
        await pilot.press("t")

        def ready() -> bool:
            return isinstance(app.screen, BacktestScreen) and "ema_cross" in app.screen.strategies

        await wait_for(pilot, ready, timeout=60)
        bt = app.screen
        assert isinstance(bt, BacktestScreen)
        try:
            await wait_for(pilot, lambda: f"{BARS:,} bars" in str(
                bt.query_one("#bt-data", Static).content), timeout=30)  # the engine's store
        except AssertionError:
            raise AssertionError(str(bt.query_one("#bt-data", Static).content)) from None

        async with attached(engine.socket, client="starter") as starter:
            heard: list[Event] = []
            starter.add_listener(lambda e: heard.append(e)
                                 if isinstance(e, BacktestProgressed | BacktestFinished) else None)
            async with attached(engine.socket, role="read-only", client="watcher") as watcher:
                with pytest.raises(RequestFailed, match="read-only"):
                    await watcher.ask("backtest.start", {"strategy": "ema_cross", "symbol": BTC,
                                                         "timeframe": "1m"})
            started = await starter.ask("backtest.start", {
                "strategy": "ema_cross", "symbol": BTC, "timeframe": "1m",
                "params": {"fast": "7"}})
            job = started["job"]
            with pytest.raises(RequestFailed, match="a backtest is running"):
                await starter.ask("backtest.start", {"strategy": "ema_cross", "symbol": BTC,
                                                     "timeframe": "1m"})
            await wait_for(pilot, lambda: bt.finished is not None and bt.finished.job == job,
                           timeout=90)
            await until(starter, lambda s: any(isinstance(e, BacktestFinished) for e in heard))

        report = bt.report
        assert report is not None and report.bars == BARS and report.trades_total > 3
        ended = [e for e in heard if isinstance(e, BacktestFinished)]
        assert ended[0].report == report  # the starter and the screen got the same report
        stages = [e.stage for e in watched if isinstance(e, BacktestProgressed) and e.job == job]
        assert stages == ["starting the backtest process", "loading BTC/USDT 1m candles",
                          f"running ema_cross on {BARS:,} bars", "computing the metrics"]
        status = str(bt.query_one("#bt-status", Static).content)
        assert f"{report.trades_total} trades over {BARS:,} bars" in status
        assert bt.query_one("#bt-trades", DataTable).row_count == report.trades_total

        # a screen opened after the run shows it too (backtest.state)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, BacktestScreen))
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, BacktestScreen)
                       and app.screen.report == report, timeout=30)


PROBE = """
import asyncio, sys
from pathlib import Path
from tradeterm.config import Settings
from tradeterm.ui.app import TradetermApp
from tradeterm.wire.remote import RemoteEngine

async def main(socket, empty):
    app = TradetermApp(Settings(data_dir=Path(empty), symbols=["BTC/USDT"]),
                       engine=RemoteEngine(Path(socket)))
    async with app.run_test(size=(140, 40)) as pilot:
        async def until(check, timeout=60):
            loop = asyncio.get_running_loop()
            end = loop.time() + timeout
            while not check():
                assert loop.time() < end, "timed out"
                await pilot.pause(0.1)
        snap = app.engine.snapshot
        await until(lambda: snap().account is not None and len(snap().market.candles) > 50)
        await pilot.pause(1.0)  # the main screen drew its chart (its overlays use numpy)
        before = set(sys.modules)
        await pilot.press("j")
        await until(lambda: app.screen.query("#table-fills")
                    and app.screen.query_one("#table-fills").row_count > 0)
        await until(lambda: app.screen.query_one("#table-stats").row_count > 0)
        await pilot.press("escape")
        await pilot.press("t")
        await until(lambda: "ema_cross" in getattr(app.screen, "strategies", {}))
        await until(lambda: "bars" in str(app.screen.query_one("#bt-data").content))
        await until(lambda: getattr(app.screen, "report", None) is not None)
        await until(lambda: app.screen.query_one("#bt-trades").row_count > 0)
    opened = sorted(m for m in set(sys.modules) - before if m.startswith(HEAVY))
    anywhere = sorted(m for m in sys.modules if m.startswith(ENGINE_SIDE))
    print("OPENED", opened, "ANYWHERE", anywhere)

HEAVY = ("polars", "numpy", "numba", "pyarrow")
ENGINE_SIDE = ("sqlite3", "_sqlite3", "tradeterm.journal", "tradeterm.backtest",
               "tradeterm.strategy", "tradeterm.engine", "tradeterm.service", "tradeterm.desk",
               "tradeterm.exchange", "ccxt")
asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


async def _journaled_fill_and_a_report(engine: EngineProcess) -> None:
    """What the probe waits to see on its screens: a fill in the journal, a backtest report."""
    async with attached(engine.socket) as trader:
        await until(trader, lambda s: s.market.book is not None)
        if not (await trader.ask("journal.page", {"tabs": ["fills"], "limit": 1}))["tables"][
                "fills"]["rows"]:
            fills: list[Event] = []
            trader.add_listener(lambda e: fills.append(e) if isinstance(e, OrderFilled) else None)
            trader.submit(PlaceOrder(OrderRequest(BTC, "buy", OrderType.MARKET, Decimal("0.01"))))
            await until(trader, lambda s: bool(fills), timeout=15)
        if (await trader.ask("backtest.state", {}))["last"] is None:
            await trader.ask("backtest.start", {"strategy": "ema_cross", "symbol": BTC,
                                                "timeframe": "1m"})
            for _ in range(600):
                if (await trader.ask("backtest.state", {}))["last"] is not None:
                    break
                await asyncio.sleep(0.1)


def test_an_attached_screen_imports_no_journal_backtest_or_strategy_code(
    engine: EngineProcess, tmp_path: Path,
) -> None:
    asyncio.run(_journaled_fill_and_a_report(engine))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(PROBE), str(engine.socket),
                           str(tmp_path / "empty")], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "OPENED [] ANYWHERE []" in done.stdout, done.stdout


async def test_an_in_process_engine_answers_as_the_attached_one(engine: EngineProcess) -> None:
    # the workstation's own engine asks its handler table directly (Engine.ask): the answer is
    # the one a socket client gets for the same journal, value for value
    from tradeterm.service.hosted import served_engine

    await _journaled_fill_and_a_report(engine)
    local = served_engine(Settings(data_dir=engine.journal.parent, symbols=[BTC]))
    args = {"tabs": ["trades", "fills", "signals", "orders"], "limit": 50, "counted": True}
    async with attached(engine.socket) as client:
        for _ in range(5):  # the engine may journal (equity points) between the two reads
            mine = await local.ask("journal.page", args)
            theirs = await client.ask("journal.page", args)
            if mine == theirs:
                break
        assert mine == theirs and mine["tables"]["fills"]["rows"]
        for _ in range(5):
            stats = await local.ask("journal.stats", {}), await client.ask("journal.stats", {})
            if stats[0] == stats[1]:
                break
        assert stats[0] == stats[1]
    with pytest.raises(RequestFailed, match="unknown request 'nope'"):
        await local.ask("nope", {})
    with pytest.raises(RequestFailed, match="limit: a number of rows"):
        await local.ask("journal.page", {"limit": 10**6})
