"""The order ticket and the confirmations against the fake engine (whose preview runs the real
sizing and risk rules on its made-up book): what the form shows, what Enter sends, what it
refuses to send."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from textual.color import Color
from fake_engine import FakeEngine
from ui_helpers import screen_text, wait_for

from tradeterm.config import Settings
from tradeterm.core.commands import FlattenAll, KillSwitch, PlaceOrder, ResumeTrading
from tradeterm.core.money import dec, to_step
from tradeterm.core.preview import TicketDraft
from tradeterm.core.trading import Bracket, OrderType
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.screens.confirm import ConfirmScreen
from tradeterm.ui.screens.ticket import OrderTicket, parse_amount


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(symbols=["BTC/USDT", "ETH/USDT"], data_dir=tmp_path)


@pytest.fixture(autouse=True)
def fresh_memory() -> Iterator[None]:
    """The ticket remembers the last size across tickets (class state): isolate the tests."""
    saved = OrderTicket.remembered
    OrderTicket.remembered = ("100", "quote")
    yield
    OrderTicket.remembered = saved


def ticket(app: TradetermApp) -> OrderTicket:
    screen = app.screen
    assert isinstance(screen, OrderTicket)
    return screen


async def type_into(pilot, app: TradetermApp, name: str, text: str) -> None:
    """Replace a field's text by typing, as a user would."""
    ticket(app).query_one(f"#field-{name}").focus()
    await pilot.press("end", "ctrl+u", *text)
    await pilot.pause()


def places(engine: FakeEngine) -> list[PlaceOrder]:
    return [c for c in engine.commands if isinstance(c, PlaceOrder)]


def test_parse_amount_when_bad_or_empty_then_message_or_none():
    assert parse_amount(" 1,250.5 ", required=True) == Decimal("1250.5")
    assert parse_amount("", required=False) is None
    for text, message in (("", "required"), ("abc", "not a number"), ("-1", "must be positive"),
                          ("0", "must be positive"), ("nan", "must be positive")):
        with pytest.raises(ValueError, match=message):
            parse_amount(text, required=True)


async def test_ticket_when_market_buy_with_stop_then_enter_places_the_previewed_order(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderTicket))
        text = screen_text(app)
        assert "BUY  BTC/USDT" in text and "● market" in text and "USDT" in text
        ask = dec(engine.snapshot().market.book.asks[0][0])
        await pilot.press("tab", *"95")  # size stays 100 quote; tab goes to the stop
        await pilot.press("tab", *"130")
        await wait_for(pilot, lambda: "✓ allowed" in screen_text(app))
        text = screen_text(app)
        quantity = to_step(Decimal(100) / ask, Decimal("0.0001"))
        assert f"{quantity:f} BTC" in text
        assert "At risk" in text and "% of equity" in text and "R:R" in text
        previewed = ticket(app).current
        assert previewed is not None and previewed.request is not None
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, OrderTicket))
        (place,) = places(engine)
        assert place.request == previewed.request
        assert (place.request.type, place.request.quantity) == (OrderType.MARKET, quantity)
        assert place.request.bracket == Bracket(Decimal("95.00"), Decimal("130.00"))
        assert place.request.strategy is None


async def test_ticket_when_field_invalid_then_message_beside_it_and_nothing_placed(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderTicket))
        await type_into(pilot, app, "stop", "9x")
        await wait_for(pilot, lambda: "✗ not a number" in screen_text(app))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, OrderTicket)
        assert places(engine) == []
        await type_into(pilot, app, "size", "0")
        await wait_for(pilot, lambda: "✗ must be positive" in screen_text(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, OrderTicket))
        assert places(engine) == []


async def test_ticket_when_limit_then_price_field_prefilled_and_limit_order_sent(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("s")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderTicket))
        assert "SELL  BTC/USDT" in screen_text(app)
        assert not ticket(app).query_one("#row-price").display
        await pilot.press("l")
        await pilot.pause()
        form = ticket(app)
        assert form.query_one("#row-price").display and "● limit" in screen_text(app)
        last = Decimal(repr(engine.snapshot().market.candles[-1].close))
        assert form.query_one("#field-price").value == f"{last:f}"
        await type_into(pilot, app, "price", "150")  # a sell far above the market: rests
        await type_into(pilot, app, "stop", "80")  # wrong side for a sell
        await wait_for(pilot, lambda: "✗ stop 80 is not above the entry 150" in screen_text(app))
        await pilot.press("enter")
        await pilot.pause()
        assert places(engine) == []
        await type_into(pilot, app, "stop", "")
        await wait_for(pilot, lambda: "✗ price_band" in screen_text(app))  # 150 is > 5 % away
        limit = to_step(dec(engine.snapshot().market.book.bids[0][0]) * Decimal("1.03"),
                        Decimal("0.01"))
        await type_into(pilot, app, "price", f"{limit:f}")
        await wait_for(pilot, lambda: "✓ allowed" in screen_text(app))
        await pilot.press("enter")  # no stop: asks first ([ui] confirm_order_without_stop)
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "has no stop" in screen_text(app) and places(engine) == []
        await pilot.press("y")
        await wait_for(pilot, lambda: places(engine) != [])
        request = places(engine)[0].request
        assert (request.side, request.type, request.price) == ("sell", OrderType.LIMIT, limit)
        assert request.quantity == to_step(Decimal(100) / limit, Decimal("0.0001"))


async def test_ticket_when_unit_cycled_to_risk_then_stop_required_and_size_remembered(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderTicket))
        await pilot.press("u")
        await wait_for(pilot, lambda: ticket(app).unit == "base" and "BTC" in screen_text(app))
        await pilot.press("u")
        await type_into(pilot, app, "size", "0.5")
        await wait_for(pilot, lambda: "% equity at risk" in screen_text(app))
        await wait_for(pilot, lambda: "✗ risk % sizing needs a stop" in screen_text(app))
        await pilot.press("enter")
        await pilot.pause()
        assert places(engine) == [] and isinstance(app.screen, OrderTicket)
        ask = dec(engine.snapshot().market.book.asks[0][0])
        stop = to_step(ask - 2, Decimal("0.01"))
        await type_into(pilot, app, "stop", f"{stop:f}")
        await wait_for(pilot, lambda: "✓ allowed" in screen_text(app))
        expected = engine.preview(TicketDraft("BTC/USDT", "buy", OrderType.MARKET,
                                              Decimal("0.5"), "risk", stop=stop))
        await pilot.press("enter")
        await wait_for(pilot, lambda: places(engine) != [])
        # 0.5 % of 10000 = 50 over the stop distance, floored to the step
        assert places(engine)[0].request.quantity == expected.quantity == to_step(
            Decimal(50) / (expected.reference_price - stop), Decimal("0.0001"))
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, OrderTicket))
        assert ticket(app).unit == "risk"
        assert ticket(app).query_one("#field-size").value == "0.5"


async def test_ticket_when_risk_denies_then_reason_shown_and_enter_only_notifies(settings):
    engine = FakeEngine(settings)
    engine.risk.kill("test halt")
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: "✗ kill_switch: trading halted" in screen_text(app))
        await pilot.press("enter")
        await pilot.pause()
        assert places(engine) == [] and isinstance(app.screen, OrderTicket)
        assert any("Order not placed: kill_switch" in n.message for n in app._notifications)


async def test_confirm_when_n_or_escape_then_nothing_and_when_y_or_enter_then_sent(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("F")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Flatten all" in screen_text(app) and "y / Enter" in screen_text(app)
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        await pilot.press("K")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert engine.commands == []
        await pilot.press("F", "y")
        await wait_for(pilot, lambda: FlattenAll() in engine.commands)
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: ResumeTrading() in engine.commands)
        assert not any(isinstance(c, KillSwitch) for c in engine.commands)


async def test_confirm_when_danger_then_drawn_in_the_error_colour(settings):
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    answers: list[bool | None] = []
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(ConfirmScreen("Kill switch", "HALT?", danger=True), answers.append)
        await wait_for(pilot, lambda: "HALT?" in screen_text(app))
        title = app.screen.query_one("#confirm-title")
        assert title.styles.color == Color.parse(app.get_css_variables()["error"])
        assert app.screen.has_class("-danger")
        await pilot.press("y")
        await wait_for(pilot, lambda: answers == [True])


def test_fmt_decimal_when_small_then_significant_digits_not_zero():
    from tradeterm.ui.fmt import fmt_decimal

    assert fmt_decimal(Decimal("1.25")) == "1.25"
    assert fmt_decimal(Decimal("-0.1411899912")) == "-0.14"
    assert fmt_decimal(Decimal("0.0046")) == "0.0046"
    assert fmt_decimal(Decimal("0")) == "0.00"


async def test_ticket_when_refreshed_after_close_then_nothing_touches_it(settings):
    """A refresh arriving after the ticket closed (its preview timer, an edit's after-refresh
    callback: the NoMatches crash of old) is harmless: no preview asked, nothing applied, and
    no key or action of the closed ticket places anything."""
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: "✓ allowed" in screen_text(app))
        form = ticket(app)
        shown = form.current
        calls: list[TicketDraft] = []

        def counting_preview(draft: TicketDraft):
            calls.append(draft)
            return engine.preview(draft)

        form.preview = counting_preview
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, OrderTicket))
        await wait_for(pilot, lambda: not form.is_attached)  # its widgets are gone
        for late in (form._refresh_preview, form.action_place, form.action_cycle_unit,
                     lambda: form.action_order_type("limit")):
            late()  # would raise NoMatches, or place, on a closed ticket
        await pilot.pause(0.6)  # longer than the preview timer
        assert calls == [] and form.current is shown
    assert places(engine) == []


@pytest.mark.parametrize("confirm", [True, False], ids=["asks", "configured-off"])
async def test_ticket_when_no_stop_then_asks_unless_configured_off(tmp_path: Path, confirm: bool):
    settings = Settings(symbols=["BTC/USDT", "ETH/USDT"], data_dir=tmp_path,
                        ui={"confirm_order_without_stop": confirm})
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: "✓ allowed" in screen_text(app))
        await pilot.press("enter")
        if confirm:
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "Order without a stop" in screen_text(app) and places(engine) == []
            await pilot.press("n")  # back to the ticket, nothing placed
            await wait_for(pilot, lambda: isinstance(app.screen, OrderTicket))
            assert places(engine) == []
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
        await wait_for(pilot, lambda: places(engine) != [])
        assert not isinstance(app.screen, (OrderTicket, ConfirmScreen))
        (place,) = places(engine)
        assert place.request.bracket is None and place.request.type is OrderType.MARKET


async def test_no_stop_question_when_a_whole_limit_typed_then_price_and_size_to_tick_and_step(
    settings,
):
    """Seen trying the demo: typing limit ``64500`` asked about "limit 64500" where every other
    price on screen reads ``64500.00``."""
    engine = FakeEngine(settings)
    app = TradetermApp(settings, engine)
    async with app.run_test(size=(120, 40)) as pilot:
        engine.step()
        await pilot.press("b")
        await wait_for(pilot, lambda: "✓ allowed" in screen_text(app))
        await pilot.press("l")
        await pilot.pause()
        whole = int(dec(engine.snapshot().market.book.bids[0][0]) * Decimal("0.98"))
        await type_into(pilot, app, "price", str(whole))
        await wait_for(pilot, lambda: "✓ allowed" in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        text = " ".join(screen_text(app).split())
        assert f"limit {whole}.00 has no stop" in text
        assert places(engine) == []
