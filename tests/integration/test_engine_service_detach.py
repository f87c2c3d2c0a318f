"""Detach is not shutdown: a SIGKILLed screen leaves the engine trading. With no screen
attached the engine fills a position's stop or target and journals it; a screen attaching
again shows it. Real processes: the headless engine, ``tradeterm attach`` in a pseudo-terminal."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from decimal import Decimal
from pathlib import Path

import pytest
from service_helpers import EngineProcess, PtyScreen, attached, round_tick, until

from tradeterm.core.commands import PlaceOrder
from tradeterm.core.events import Event, OrderFilled
from tradeterm.core.trading import Bracket, OrderRequest, OrderType

pytestmark = pytest.mark.integration

BTC = "BTC/USDT"
BAND = Decimal("0.0003")  # stop and target 0.03 % away: the demo market reaches one in seconds


def _closed_trades(journal: Path) -> list[tuple[str, int]]:
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        return db.execute("SELECT symbol, closed_ms FROM positions ORDER BY id").fetchall()
    finally:
        db.close()


async def test_a_sigkilled_screen_leaves_the_engine_to_fill_the_stop_or_target(
    tmp_path: Path,
) -> None:
    engine = EngineProcess(tmp_path)
    screen: PtyScreen | None = None
    try:
        await engine.ready()
        screen = PtyScreen(["attach"], env=engine.env, cwd=tmp_path)
        deadline = time.monotonic() + 60
        drawn = b""  # from the start: a view goes at once on subscription, drawn early
        while "screen attached as trader" not in engine.log_text():
            assert screen.proc.poll() is None, "the screen ended"
            assert time.monotonic() < deadline, "the screen never attached"
            drawn += screen.pump(0.2)
        drawn += screen.pump(1.0)
        assert b"BTC/USDT" in drawn  # the attached screen draws the engine's market

        async with attached(engine.socket) as trader:
            snap = await until(trader, lambda s: s.market.book is not None
                               and s.precision(BTC) is not None)
            tick = snap.precision(BTC).tick
            mid = Decimal(str(snap.market.book.mid))
            bracket = Bracket(stop_loss=round_tick(float(mid * (1 - BAND)), tick),
                              take_profit=round_tick(float(mid * (1 + BAND)), tick))
            fills: list[OrderFilled] = []

            def on_fill(event: Event) -> None:
                if isinstance(event, OrderFilled):
                    fills.append(event)

            trader.add_listener(on_fill)
            trader.submit(PlaceOrder(OrderRequest(BTC, "buy", OrderType.MARKET, Decimal("0.01"),
                                                  bracket=bracket)))
            await until(trader, lambda s: bool(fills), timeout=15)
        # The position is open with its stop and target working; no client but the screen.
        os.kill(screen.proc.pid, signal.SIGKILL)
        killed_ms = time.time_ns() // 1_000_000
        screen.proc.wait(timeout=10)
        assert not _closed_trades(engine.journal), "closed before the screen was killed"

        deadline = time.monotonic() + 120
        while not (closed := _closed_trades(engine.journal)):
            assert engine.proc.poll() is None, f"the engine died: {engine.stderr()}"
            assert time.monotonic() < deadline, "the stop or target never filled"
            time.sleep(0.25)
        assert closed[0][0] == BTC and closed[0][1] > killed_ms  # closed with no screen attached
        assert engine.proc.poll() is None

        async with attached(engine.socket) as again:  # attaching again shows it
            snap = await until(again, lambda s: s.account is not None and bool(s.fills))
            assert not snap.account.positions
            assert len(snap.fills) >= 2 and snap.fills[-1].side == "sell"
            assert snap.fills[-1].timestamp >= killed_ms
            assert not snap.account.orders  # the other leg was cancelled with it
    finally:
        if screen is not None:
            screen.close()
        engine.stop()
