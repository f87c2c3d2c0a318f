"""The order ticket at machine speed: whole bursts of keys (open, close, reopen, Tab, digits,
Enter, with no pause between them) reach the app at once, while mounting and previewing are made
slow. Every order the engine receives must be exactly what the ticket showed when Enter was
pressed, and every value shown must be one typed into that very field (a digit that landed in
another field would show as a value nobody typed there)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from fake_engine import FakeEngine
from textual import events

from tradeterm.config import Settings
from tradeterm.core.commands import PlaceOrder
from tradeterm.core.money import to_tick
from tradeterm.core.preview import OrderPreview, SizeUnit, TicketDraft
from tradeterm.core.trading import OrderRequest, OrderType
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.screens.ticket import OrderTicket, parse_amount

MOUNT_DELAY_S = 0.03
PREVIEW_DELAY_S = 0.004
CHARS = {"escape": "\x1b", "tab": "\t", "enter": "\r"}


@pytest.fixture(autouse=True)
def fresh_memory() -> Iterator[None]:
    saved = OrderTicket.remembered
    OrderTicket.remembered = ("100", "quote")
    yield
    OrderTicket.remembered = saved


class SlowPreviewEngine(FakeEngine):
    """The fake engine whose preview takes a while (it blocks the loop, as a slow computation
    would): keys pile up in the queues meanwhile."""

    def preview(self, draft: TicketDraft) -> OrderPreview:
        time.sleep(PREVIEW_DELAY_S)
        return super().preview(draft)


@dataclass(frozen=True)
class Shown:
    """What the ticket showed when Enter was handled: side, type, unit and the visible fields."""

    side: str
    type: OrderType
    unit: SizeUnit
    size: str
    price: str | None  # None: the limit row is hidden (market order)
    stop: str
    target: str


def shown(ticket: OrderTicket) -> Shown:
    def value(name: str) -> str:
        return ticket.query_one(f"#field-{name}").value

    limit = ticket.query_one("#row-price").display
    return Shown(ticket.side, ticket.order_type, ticket.unit, value("size"),
                 value("price") if limit else None, value("stop"), value("target"))


def expected_request(engine: FakeEngine, symbol: str, seen: Shown) -> OrderRequest | None:
    draft = TicketDraft(
        symbol, seen.side, seen.type, parse_amount(seen.size, required=True), seen.unit,  # type: ignore[arg-type]
        price=parse_amount(seen.price, required=True) if seen.price is not None else None,
        stop=parse_amount(seen.stop, required=False),
        target=parse_amount(seen.target, required=False),
    )
    return FakeEngine.preview(engine, draft).request


def burst(app: TradetermApp, keys: list[str]) -> None:
    """Every key onto the app's queue at once: nothing is handled before the last is sent."""
    for key in keys:
        event = events.Key(key, CHARS.get(key, key if len(key) == 1 else None))
        event.set_sender(app)
        app._driver.send_message(event)  # as the terminal driver does (and Pilot, one by one)


def cycles(price: int) -> tuple[list[list[str]], dict[str, set[str]]]:
    """The typed cycles and, per field, every value typed into it (or its default)."""
    buy_stop, buy_target = str(price - 5), str(price + 30)
    sell_stop, sell_target = str(price + 6), str(price - 10)
    near_stop = str(price - 4)
    keys = [
        ["b", "escape", "b", "tab", *buy_stop, "tab", *buy_target, "enter"],
        ["b", "tab", *near_stop, "enter"],
        ["s", "escape", "s", "tab", *sell_stop, "tab", *sell_target, "enter"],
        ["b", "escape", "b", "escape", "b", "tab", *buy_stop, "enter"],
        ["b", "tab", *buy_stop, "tab", *buy_target, "escape"],  # typed, then cancelled
        ["b", "u", "tab", *near_stop, "enter", "escape"],  # 100 BTC: refused, stays, closed
        ["b", "l", "tab", "tab", *buy_stop, "enter", "escape"],  # limit at the last close
        ["b", "enter", "escape"],  # no stop: asks first when so configured
        ["s", "tab", *sell_stop, "tab", "tab", "enter"],
        ["b", "escape", "b", "tab", *near_stop, "tab", *buy_target, "enter"],
    ]
    typed = {
        "stop": {"", buy_stop, sell_stop, near_stop},
        "target": {"", buy_target, sell_target},
        "size": {"100"},
    }
    return keys, typed


async def settle(app: TradetermApp, pilot) -> None:
    """Let every key sent be read, then close what the bursts left open (a ticket whose order
    was refused, a question), as a user would: escape."""
    for _ in range(20):
        await pilot.pause(0.2)
        if app.screen is app.main_screen:
            return
        burst(app, ["escape"])
    raise AssertionError(f"the screens did not close: {app.screen_stack}")


@pytest.mark.parametrize("confirm", [False, True], ids=["no-confirm", "confirm-no-stop"])
async def test_ticket_burst_when_keys_faster_than_mount_and_preview_then_orders_are_what_was_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, confirm: bool
):
    settings = Settings(symbols=["BTC/USDT", "ETH/USDT"], data_dir=tmp_path,
                        ui={"confirm_order_without_stop": confirm})
    engine = SlowPreviewEngine(settings)
    app = TradetermApp(settings, engine)
    enters: list[Shown] = []
    placed: list[tuple[Shown, OrderRequest]] = []
    at_enter: dict[int, Shown] = {}
    mount, place, close = OrderTicket.on_mount, OrderTicket.action_place, OrderTicket._close

    async def slow_mount(self: OrderTicket) -> None:
        await asyncio.sleep(MOUNT_DELAY_S)  # keys keep arriving while the ticket mounts
        mount(self)

    def recording_place(self: OrderTicket) -> None:
        if self._ready and not self._closed:
            at_enter[id(self)] = shown(self)
            enters.append(at_enter[id(self)])
        place(self)

    def recording_close(self: OrderTicket, request: OrderRequest | None) -> None:
        if request is not None:
            placed.append((at_enter[id(self)], request))
        close(self, request)

    monkeypatch.setattr(OrderTicket, "on_mount", slow_mount)
    monkeypatch.setattr(OrderTicket, "action_place", recording_place)
    monkeypatch.setattr(OrderTicket, "_close", recording_close)

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        price = int(Decimal(repr(engine.snapshot().market.candles[-1].close)))
        keys, typed = cycles(price)
        rng = random.Random(11)
        for _ in range(3):
            for cycle in keys:
                burst(app, cycle)
                # the next cycle arrives at once, or while the last ticket mounts or closes
                # the next cycle comes at once, while the last ticket mounts or closes, or
                # once the screen has settled
                gap = rng.choice((0.0, 0.005, 0.03, 0.1, -1.0, -1.0))
                if gap >= 0:
                    await asyncio.sleep(gap)
                else:
                    await settle(app, pilot)
        await settle(app, pilot)
    # run_test re-raises any exception of the app (the NoMatches crash of old)

    orders = [c.request for c in engine.commands if isinstance(c, PlaceOrder)]
    assert orders == [request for _, request in placed]  # nothing reached the engine otherwise
    assert len(orders) >= 3, f"only {len(orders)} orders placed: the burst did not exercise much"
    symbol = settings.symbols[0]
    for seen, request in placed:
        assert request == expected_request(engine, symbol, seen), seen
        assert (request.side, request.type) == (seen.side, seen.type)
        bracket = request.bracket
        assert (bracket.stop_loss if bracket else None) == parse_amount(seen.stop, required=False)
        assert (bracket.take_profit if bracket else None) == parse_amount(seen.target,
                                                                         required=False)
        if seen.price is not None:  # the limit typed, on the tick (a buy never pays more)
            assert request.price == to_tick(parse_amount(seen.price, required=True),
                                            Decimal("0.01"), request.side)
        if confirm:
            assert bracket is not None and bracket.stop_loss is not None  # the question held it
    for seen in enters:  # every value shown is one typed into that field: none strayed
        assert seen.size in typed["size"], seen
        assert seen.stop in typed["stop"], seen
        assert seen.target in typed["target"], seen
    if not confirm:
        assert any(r.bracket is None for r in orders)  # "b enter" placed without a stop
