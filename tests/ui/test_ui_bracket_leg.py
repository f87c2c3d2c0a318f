"""``x`` on one leg of a bracket asks: cancel both legs, keep the other, or (escape) nothing.
The fake engine trades through the real paper broker, so what the broker keeps working is
checked, not only the command sent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fake_engine import FakeEngine
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.core.commands import CancelOrder, PlaceOrder
from tradeterm.core.money import dec
from tradeterm.core.trading import Bracket, OrderRequest, OrderType
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.screens.bracket_leg import BracketLegScreen


def bracket_buy(engine: FakeEngine) -> tuple[str, str]:
    """A long of 0.5 with a stop 5 below and a target 5 above; the ids of (stop, target)."""
    ask = dec(engine.snapshot().market.book.asks[0][0])
    request = OrderRequest("BTC/USDT", "buy", OrderType.MARKET, Decimal("0.5"),
                           bracket=Bracket(ask - 5, ask + 5))
    assert engine.handle(PlaceOrder(request)) is None
    stop, target = engine.broker.working_orders()
    assert stop.request.type is OrderType.STOP_MARKET and target.oco_group == stop.oco_group
    return stop.id, target.id


def working_ids(engine: FakeEngine) -> list[str]:
    return [o.id for o in engine.broker.working_orders()]


def cancels(engine: FakeEngine) -> list[CancelOrder]:
    return [c for c in engine.commands if isinstance(c, CancelOrder)]


async def test_x_on_a_bracket_leg_asks_then_escape_keep_or_both(tmp_path: Path):
    settings = Settings(symbols=["BTC/USDT", "ETH/USDT"], data_dir=tmp_path)
    engine = FakeEngine(settings, trading=True)
    stop_id, target_id = bracket_buy(engine)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: "STOP" in screen_text(app) and "LMT" in screen_text(app))
        assert "no stop" not in screen_text(app)

        await pilot.press("x")  # the first row: the stop
        await wait_for(pilot, lambda: isinstance(app.screen, BracketLegScreen))
        text = screen_text(app)
        assert "Cancel the stop" in text and "b: cancel both" in text and "k: keep the target" in text
        await pilot.press("escape")  # nothing
        await wait_for(pilot, lambda: not isinstance(app.screen, BracketLegScreen))
        assert cancels(engine) == [] and working_ids(engine) == [stop_id, target_id]

        await pilot.press("x", "k")  # only the stop; the target keeps working
        await wait_for(pilot, lambda: cancels(engine) != [])
        assert cancels(engine) == [CancelOrder(stop_id, keep_other_leg=True)]
        assert working_ids(engine) == [target_id]
        assert engine.broker.positions()[0].quantity == Decimal("0.5")
        await wait_for(pilot, lambda: "no stop: BTC/USDT" in screen_text(app))

        await pilot.press("x")  # a lone target: no sibling, no question
        await wait_for(pilot, lambda: len(cancels(engine)) == 2)
        assert not isinstance(app.screen, BracketLegScreen)
        assert cancels(engine)[-1] == CancelOrder(target_id) and working_ids(engine) == []

        stop_id, target_id = bracket_buy(engine)
        await wait_for(pilot, lambda: "STOP" in screen_text(app))
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, BracketLegScreen))
        await pilot.press("b")  # both legs
        await wait_for(pilot, lambda: len(cancels(engine)) == 3)
        assert cancels(engine)[-1] == CancelOrder(stop_id, keep_other_leg=False)
        assert working_ids(engine) == []
