"""A venue whose ccxt client states precision in another mode than TICK_SIZE is refused at
start: the real Engine loads the simulator's markets through unmodified ccxt, with the client's
``precisionMode`` set to DECIMAL_PLACES (as a venue reporting decimal places would have), and
must refuse with one line naming the venue and the mode, never trading on the misread grid."""

from __future__ import annotations

import asyncio
import functools
from decimal import Decimal

import pytest
from ccxt.base.decimal_to_precision import DECIMAL_PLACES
from test_engine_harness import running_engine, until

import tradeterm.engine as engine_module
from tradeterm.core.commands import PlaceOrder, SwitchToDemo
from tradeterm.core.events import EngineReady, OrderFilled, VenueRefused
from tradeterm.core.models import EnginePhase
from tradeterm.core.preview import TicketDraft
from tradeterm.core.trading import OrderRequest, OrderType
from tradeterm.exchange.client import create_exchange
from tradeterm.headless import describe
from tradeterm.sim import SimServer

pytestmark = pytest.mark.integration


@pytest.fixture
def decimal_places_venue(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's clients are built by the real factory, with ccxt's precisionMode option."""
    monkeypatch.setattr(
        engine_module, "create_exchange",
        functools.partial(create_exchange, config={"precisionMode": DECIMAL_PLACES}),
    )


async def test_a_decimal_places_venue_is_refused_in_one_line_and_never_traded(
    sim: SimServer, decimal_places_venue: None
) -> None:
    # An unreachable exchange would be retried every 0.2 s here; a refused one is not.
    async with running_engine(sim.base_url, retry_unreachable_s=0.2) as run:
        snap = await until(
            lambda: (s := run.engine.snapshot()).phase is EnginePhase.REFUSED and s,
            "the refusal",
        )
        expected = ("binance states prices and amounts in ccxt's DECIMAL_PLACES precision mode; "
                    "tradeterm reads only TICK_SIZE")
        assert snap.error is not None and snap.error.startswith(expected)
        assert "\n" not in snap.error
        refused = run.of(VenueRefused)
        assert [(e.exchange, e.reason) for e in refused] == [("binance", snap.error)]
        # headless prints that event as its one line
        assert describe(refused[0]).endswith(f"VenueRefused exchange=binance reason={snap.error}")
        assert not run.of(EngineReady)

        # Trading refuses: the ticket's preview says why, an order is never filled.
        draft = TicketDraft("BTC/USDT", "buy", OrderType.MARKET, Decimal("0.001"), "base")
        preview = run.engine.preview(draft)
        assert not preview.allowed and snap.error in (preview.reason or "")
        run.engine.submit(PlaceOrder(OrderRequest("BTC/USDT", "buy", OrderType.MARKET,
                                                  Decimal("0.001"))))
        await asyncio.sleep(1.0)
        assert not run.of(OrderFilled) and not run.engine.desk.broker.rules
        # Not retried: a fixed precision mode will not change on its own.
        assert len(run.of(VenueRefused)) == 1 and run.engine.snapshot().phase is EnginePhase.REFUSED


async def test_the_demo_market_is_still_offered_from_a_refused_venue(
    sim: SimServer, decimal_places_venue: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`d` (SwitchToDemo) leaves the refused venue for the built-in simulator (TICK_SIZE) at
    once: the refused session waits for the switch, not for a retry."""
    async with running_engine(sim.base_url) as run:
        await until(lambda: run.engine.snapshot().phase is EnginePhase.REFUSED, "the refusal")
        monkeypatch.setattr(engine_module, "create_exchange", create_exchange)
        run.engine.submit(SwitchToDemo())
        await until(lambda: run.engine.snapshot().phase is EnginePhase.RUNNING, "the demo market")
        assert run.engine.snapshot().demo and run.engine.desk.broker.rules["BTC/USDT"].tick > 0
        assert len(run.of(EngineReady)) == 1


async def test_the_workstation_shows_the_refusal_instead_of_a_chart(
    tmp_path, decimal_places_venue: None
) -> None:
    """The real app on the demo market, whose client states DECIMAL_PLACES: the main area shows
    the one line, the status bar says refused, and nothing can be traded."""
    from ui.ui_helpers import (  # tests/ is on sys.path (tests/conftest.py)
        screen_text,
        wait_for,
    )

    from tradeterm.config import Settings
    from tradeterm.ui.app import TradetermApp

    settings = Settings(demo=True, data_dir=tmp_path, strategies={"enabled": []})
    app = TradetermApp(settings)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: "● refused" in screen_text(app), timeout=30)
        text = " ".join(screen_text(app).split())  # the line may wrap in the main area
        assert "states prices and amounts in ccxt's DECIMAL_PLACES precision mode" in text
        assert "press d to use the demo market" in text
        assert app.engine is not None and not app.engine.desk.broker.rules
