"""The contract between the UI tests' fake engine (``tests/ui/fake_engine.py``) and the real
``Engine``: the same ticket drafts give the same previews (size, risk, fees, verdict), and the
same trading commands leave the same orders and positions. The real Engine runs against the
simulator over loopback sockets with a real journal; both are given one order book (in one
synchronous block, so the live feed cannot move the real one in between) and the real market's
rules. Any drift of the fake from the desk (a copied verdict, a missing broker check, another
cancel rule) fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from test_engine_harness import running_engine, settings, until
from ui.fake_engine import FakeEngine  # tests/ is on sys.path (tests/conftest.py)

from tradeterm.broker.paper import PaperBroker
from tradeterm.core.commands import CancelOrder, ClosePosition, Command, PlaceOrder
from tradeterm.core.models import BookSnapshot
from tradeterm.core.money import ZERO, to_step, to_tick
from tradeterm.core.preview import TicketDraft
from tradeterm.core.trading import Bracket, OrderRequest, OrderType
from tradeterm.sim import SimServer

pytestmark = pytest.mark.integration

SYMBOL = "BTC/USDT"


def book_around(mid: Decimal, tick: Decimal) -> BookSnapshot:
    """Ten levels a side, one tick apart, growing deeper away from the touch."""
    bid = to_tick(mid, tick, "buy") - tick
    return BookSnapshot(
        SYMBOL,
        bids=tuple((float(bid - i * tick), 0.05 * (i + 1)) for i in range(10)),
        asks=tuple((float(bid + (i + 2) * tick), 0.05 * (i + 1)) for i in range(10)),
    )


def drafts(mid: Decimal) -> list[TicketDraft]:
    """Allowed, refused by risk, by the exchange filters and by the ticket's own rules."""
    d = Decimal
    below, above = (mid * d("0.99")).quantize(d("0.01")), (mid * d("1.01")).quantize(d("0.01"))
    return [
        TicketDraft(SYMBOL, "buy", OrderType.MARKET, d(100), "quote"),
        TicketDraft(SYMBOL, "buy", OrderType.MARKET, d(250), "quote", stop=below, target=above),
        TicketDraft(SYMBOL, "sell", OrderType.MARKET, d(250), "quote", stop=above, target=below),
        TicketDraft(SYMBOL, "buy", OrderType.MARKET, d("0.5"), "risk", stop=below),
        TicketDraft(SYMBOL, "buy", OrderType.MARKET, d("0.5"), "risk"),  # needs a stop
        TicketDraft(SYMBOL, "buy", OrderType.MARKET, d(3), "risk", stop=below),  # over 1 %
        TicketDraft(SYMBOL, "buy", OrderType.MARKET, d("0.003"), "base", stop=below),
        TicketDraft(SYMBOL, "buy", OrderType.MARKET, d(1), "quote"),  # under the min notional
        TicketDraft(SYMBOL, "buy", OrderType.MARKET, d(1_000_000), "quote"),  # over the caps
        TicketDraft(SYMBOL, "sell", OrderType.LIMIT, d(200), "quote", price=above),
        TicketDraft(SYMBOL, "buy", OrderType.LIMIT, d(200), "quote", price=mid * d("0.8")),
        TicketDraft(SYMBOL, "buy", OrderType.LIMIT, d(200), "quote", price=below,
                    stop=above),  # stop on the wrong side
        TicketDraft(SYMBOL, "buy", OrderType.LIMIT, d(200), "quote"),  # no price
        TicketDraft("NOPE/USDT", "buy", OrderType.MARKET, d(100), "quote"),  # no market
    ]


Step = Callable[[PaperBroker], Command]
"""A command built from a broker's state (order ids differ between the two brokers)."""


def working(broker: PaperBroker, kind: OrderType) -> str:
    return next(o.id for o in broker.working_orders() if o.request.type is kind)


def steps(mid: Decimal, step: Decimal) -> list[Step]:
    d = Decimal
    qty = to_step(d(300) / mid, step)
    stop, target = (mid * d("0.98")).quantize(d("0.01")), (mid * d("1.02")).quantize(d("0.01"))
    bracket_buy = PlaceOrder(OrderRequest(SYMBOL, "buy", OrderType.MARKET, qty,
                                          bracket=Bracket(stop, target)))
    resting = PlaceOrder(OrderRequest(SYMBOL, "buy", OrderType.LIMIT, qty,
                                      price=(mid * d("0.97")).quantize(d("0.01"))))
    return [
        lambda b: bracket_buy,
        lambda b: CancelOrder(working(b, OrderType.STOP_MARKET), keep_other_leg=True),
        lambda b: resting,
        lambda b: CancelOrder(working(b, OrderType.LIMIT) if len(b.working_orders()) < 2
                              else b.working_orders()[-1].id),
        lambda b: ClosePosition(SYMBOL),  # the lone target goes with the position
        lambda b: ClosePosition(SYMBOL),  # nothing left to close
        lambda b: bracket_buy,
        lambda b: CancelOrder(working(b, OrderType.LIMIT)),  # the target: both legs go
        lambda b: bracket_buy,  # a second position on top of the first, its own bracket
        lambda b: ClosePosition(SYMBOL),
        lambda b: CancelOrder("P-nope"),
    ]


def state(broker: PaperBroker) -> tuple[object, ...]:
    """Positions and working orders, without the ids (each broker numbers its own)."""
    account = broker.account()
    positions = tuple((p.symbol, p.quantity, p.average_entry, p.stop, p.target, p.fees)
                      for p in account.positions)
    orders = tuple((o.request, o.status, o.filled_quantity, o.parent_id is not None,
                    o.oco_group is not None) for o in account.orders)
    return positions, orders, account.balance


async def test_fake_engine_and_engine_agree_on_previews_and_commands(
    sim: SimServer, tmp_path: Path
):
    config = settings()
    config.journal_path = tmp_path / "journal.sqlite"
    async with running_engine(sim.base_url, config) as run:
        engine = run.engine

        def ready() -> bool:
            snap = engine.snapshot()
            book = snap.market.book
            return (snap.account is not None and SYMBOL in engine.desk.broker.rules
                    and book is not None and bool(book.bids) and bool(book.asks))

        await until(ready, "the engine trading on a live book")
        rules = engine.desk.broker.rules[SYMBOL]
        fake = FakeEngine(config, trading=True, rules=rules)
        live = engine.snapshot().market.book
        assert live is not None and live.mid is not None
        book = book_around(Decimal(repr(live.mid)), rules.tick)
        mid = Decimal(repr(book.mid))

        # One synchronous block from here: no await, so the feed cannot touch the real desk.
        engine.desk.on_book(SYMBOL, book)
        fake.set_book(book)
        previews = [(draft, engine.preview(draft), fake.preview(draft)) for draft in drafts(mid)]
        outcomes = []
        for build in steps(mid, rules.step):
            real_command, fake_command = build(engine.desk.broker), build(fake.broker)
            outcomes.append((real_command, engine.desk.handle(real_command),
                             fake.handle(fake_command), state(engine.desk.broker),
                             state(fake.broker)))

    assert sum(p.allowed for _, p, _ in previews) >= 4  # not only refusals compared
    assert sum(not p.allowed for _, p, _ in previews) >= 6
    for draft, real, faked in previews:
        assert faked == real, draft
    assert any(real_state[0] for *_, real_state, _ in outcomes)  # positions were opened
    for command, real_reason, fake_reason, real_state, fake_state in outcomes:
        assert fake_reason == real_reason, command
        assert fake_state == real_state, command
    final_positions, final_orders, _ = outcomes[-2][3]
    assert final_positions == () and final_orders == ()
    assert outcomes[-2][3][2] < config.paper.starting_balance  # fees were paid
    assert outcomes[0][3][0][0][1] > ZERO  # the bracket entry filled
