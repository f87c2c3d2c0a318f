"""The screen during a full disk: the halt, every denial and the recovery are shown, as the desk
publishes them (``tests/unit/test_desk_journal_halt.py`` checks the desk publishes them)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fake_engine import FakeEngine
from ui_helpers import wait_for

from tradeterm.config import Settings
from tradeterm.core.events import OrderDenied, TradingStateChanged
from tradeterm.core.trading import OrderRequest, OrderType
from tradeterm.ui.app import TradetermApp

HALT = "journal: j.sqlite: could not commit to the journal (database or disk is full)"
BACK = "journal: writes recovered, nothing committed was lost; trading stays halted until resumed"


async def test_full_disk_when_halted_then_halt_each_denial_and_recovery_notified(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, symbols=["BTC/USDT"])
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: bool(engine.listeners))
        engine.emit(TradingStateChanged(1, "halted", HALT))
        for i in range(6):
            request = OrderRequest("BTC/USDT", "buy", OrderType.MARKET, Decimal("0.01"),
                                   strategy="ema")
            engine.emit(OrderDenied(2 + i, request, f"kill switch: {HALT} #{i}", "kill_switch"))
        engine.emit(TradingStateChanged(9, "halted", BACK))
        # the six denials arrive in one burst: one toast counts them (ui/notices.py)
        await wait_for(pilot, lambda: any(n.message.startswith("6 denials")
                                          for n in app._notifications))
        messages = [n.message for n in app._notifications]
        logged = [n.text for n in app.notices.newest_first()]
    assert any(HALT in m and "HALTED" in m for m in messages)
    assert any("writes recovered" in m for m in messages)
    assert len(messages) == 3  # the halt, the denials' summary, the recovery
    # each denial is in the notification log (N)
    assert all(any(f"#{i}" in m and "denied" in m for m in logged) for i in range(6))
