"""The workstation on a running engine: plain ``tradeterm`` attaches when an engine holds the
journal, ``tradeterm attach`` with none is one line, and stopping the engine is its own
confirmed action that says what stays open. Real engine process, real socket, real app."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from service_helpers import EngineProcess, PtyScreen, attached, until

from tradeterm.config import load_settings
from tradeterm.core.commands import PlaceOrder
from tradeterm.core.trading import OrderRequest, OrderType
from tradeterm.journal.lock import engine_holding
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.screens.confirm import ConfirmScreen
from tradeterm.wire.remote import RemoteEngine

pytestmark = pytest.mark.integration


def test_attach_without_an_engine_is_one_line(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")}
    done = subprocess.run([sys.executable, "-m", "tradeterm", "attach"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith("tradeterm: cannot attach: no engine socket at ")
    assert "tradeterm engine start" in lines[0]


async def test_the_app_attached_to_an_engine_stops_it_only_when_confirmed(
    tmp_path: Path,
) -> None:
    engine = EngineProcess(tmp_path)
    try:
        await engine.ready()
        async with attached(engine.socket) as trader:  # one open position to be warned about
            await until(trader, lambda s: s.market.book is not None)
            trader.submit(PlaceOrder(OrderRequest("BTC/USDT", "buy", OrderType.MARKET,
                                                  Decimal("0.001"))))
            await until(trader, lambda s: len(s.account.positions) == 1, timeout=15)
        settings = load_settings(tmp_path / "config.toml")
        app = TradetermApp(settings, RemoteEngine(engine.socket, symbol="ETH/USDT"))
        async with app.run_test(size=(120, 40)) as pilot:
            deadline = time.monotonic() + 30
            while app.engine.snapshot().market.book is None:  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the attached app never got the market"
                await pilot.pause(0.1)
            snap = app.engine.snapshot()  # type: ignore[union-attr]
            assert snap.symbol == "ETH/USDT" and snap.market.book.symbol == "ETH/USDT"
            app.action_stop_engine()
            await pilot.pause(0.2)
            assert isinstance(app.screen, ConfirmScreen)
            assert "1 open position(s) and 0 working order(s)" in app.screen.body
            await pilot.press("n")  # not confirmed: nothing happens
            await pilot.pause(0.5)
            assert engine.proc.poll() is None
            app.action_stop_engine()
            await pilot.pause(0.2)
            await pilot.press("y")
            deadline = time.monotonic() + 30
            while engine.proc.poll() is None:
                assert time.monotonic() < deadline, "the engine did not stop"
                await pilot.pause(0.2)
            await pilot.pause(0.5)
            snap = app.engine.snapshot()  # type: ignore[union-attr]
            assert snap.phase.value == "stopped" and "engine is stopping" in (snap.error or "")
        assert engine.proc.returncode == 0
        assert engine_holding(engine.journal) is None
    finally:
        engine.stop()


async def test_plain_tradeterm_attaches_when_an_engine_runs(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path)
    screen: PtyScreen | None = None
    try:
        await engine.ready()
        screen = PtyScreen([], env=engine.env, cwd=tmp_path)
        deadline = time.monotonic() + 60
        while "screen attached as trader" not in engine.log_text():
            assert screen.proc.poll() is None, "plain tradeterm ended instead of attaching"
            assert time.monotonic() < deadline, "plain tradeterm never attached"
            screen.pump(0.2)
        screen.pump(1.0)
        screen.press(b"q")  # detach: the engine goes on
        deadline = time.monotonic() + 30
        while screen.proc.poll() is None:
            assert time.monotonic() < deadline, "q did not close the attached screen"
            screen.pump(0.1)
        assert screen.proc.returncode == 0
        deadline = time.monotonic() + 10
        while "screen detached" not in engine.log_text():
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        assert engine.proc.poll() is None
    finally:
        if screen is not None:
            screen.close()
        engine.stop()


ATTACHED_SCREEN = """
import asyncio, json, sys
from pathlib import Path
from tradeterm.config import load_settings
from tradeterm.ui.app import TradetermApp
from tradeterm.wire.remote import RemoteEngine

async def main():
    app = TradetermApp(load_settings(Path(sys.argv[2])), RemoteEngine(Path(sys.argv[1])))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(300):
            if app.engine.snapshot().market.candles and app.engine.snapshot().market.book:
                break
            await pilot.pause(0.1)
        await pilot.pause(1.0)  # a second of drawing: overlays, panes, the book
        snap = app.engine.snapshot()
        print(json.dumps({"candles": len(snap.market.candles),
                          "modules": sorted(m for m in sys.modules if m.split(".")[0] in
                                            ("ccxt", "tradeterm"))}))

asyncio.run(main())
"""


async def test_an_attached_screen_holds_no_ccxt_and_no_engine_parts(tmp_path: Path) -> None:
    import json

    engine = EngineProcess(tmp_path)
    try:
        await engine.ready()
        done = subprocess.run([sys.executable, "-c", ATTACHED_SCREEN, str(engine.socket),
                               str(tmp_path / "config.toml")], capture_output=True, text=True,
                              env=engine.env, cwd=tmp_path, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        seen = json.loads(done.stdout.strip().splitlines()[-1])
        assert seen["candles"] > 50  # it drew the engine's market
        modules = set(seen["modules"])
        assert not {m for m in modules if m.split(".")[0] == "ccxt"}
        forbidden = ("tradeterm.engine", "tradeterm.exchange", "tradeterm.strategy",
                     "tradeterm.desk", "tradeterm.sim", "tradeterm.service", "tradeterm.market",
                     "tradeterm.broker", "tradeterm.risk")
        assert not {m for m in modules if m.startswith(forbidden)}, sorted(modules)
    finally:
        engine.stop()
