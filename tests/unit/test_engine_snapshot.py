"""Engine snapshot: immutable, cached, and ``seq`` grows exactly when something changed."""

from tradeterm.config import Settings
from tradeterm.core.commands import SwitchSymbol, SwitchTimeframe
from tradeterm.core.models import BookSnapshot, Candle, EnginePhase
from tradeterm.core.events import CommandIgnored
from tradeterm.engine import Engine


def make() -> Engine:
    return Engine(Settings(symbols=["BTC/USDT", "ETH/USDT"], timeframe="5m"), clock=lambda: 7)


def test_snapshot_before_run_shows_the_configured_selection():
    snap = make().snapshot()
    assert snap.phase is EnginePhase.STARTING
    assert (snap.symbol, snap.timeframe) == ("BTC/USDT", "5m")
    assert snap.symbols == ("BTC/USDT", "ETH/USDT")
    assert snap.market.candles == () and snap.streams == () and snap.mode == "paper"


def test_seq_is_unchanged_without_changes_and_grows_with_each_update():
    engine = make()
    first = engine.snapshot()
    assert engine.snapshot() is first
    engine.state.merge_candles("BTC/USDT", "5m", [Candle(0, 1, 1, 1, 1, 1)])
    second = engine.snapshot()
    assert second.seq > first.seq and len(second.market.candles) == 1
    engine.state.set_book(BookSnapshot("BTC/USDT", bids=((1.0, 1.0),), nonce=1))
    third = engine.snapshot()
    assert third.seq > second.seq and third.market.book.nonce == 1
    key = engine.health.register("book", "BTC/USDT")
    engine.health.message(key)
    fourth = engine.snapshot()
    assert fourth.seq > third.seq and fourth.streams[0].stream == "book"
    assert engine.snapshot() is fourth


def test_writes_to_other_symbols_still_bump_seq_but_keep_the_visible_market():
    engine = make()
    before = engine.snapshot()
    engine.state.set_book(BookSnapshot("ETH/USDT", nonce=3))
    after = engine.snapshot()
    assert after.seq > before.seq and after.market == before.market


async def test_switch_commands_before_connecting_update_the_selection_or_are_ignored():
    engine = make()
    events = []
    engine.add_listener(events.append)
    engine.add_listener(lambda e: 1 / 0)  # a broken listener must not break the engine
    await engine._handle(SwitchSymbol("ETH/USDT"))
    await engine._handle(SwitchTimeframe("1h"))
    await engine._handle(SwitchSymbol("NOPE/USDT"))
    await engine._handle(SwitchTimeframe("2m"))
    snap = engine.snapshot()
    assert (snap.symbol, snap.timeframe) == ("ETH/USDT", "1h")
    assert [type(e) for e in events] == [CommandIgnored, CommandIgnored]


async def test_a_desk_change_alone_makes_a_new_snapshot(tmp_path):
    """The desk's version is part of the cache key: an order, a fill or the kill switch (nothing
    else changed) must reach the next snapshot, not the cached one."""
    from decimal import Decimal

    from tradeterm.core.commands import KillSwitch, PlaceOrder
    from tradeterm.core.trading import OrderRequest, OrderType

    engine = Engine(Settings(journal_path=tmp_path / "journal.sqlite"))
    await engine.desk.start()
    try:
        engine.desk.attach_markets({"BTC/USDT": {
            "symbol": "BTC/USDT", "precision": {"price": 0.01, "amount": 0.00001},
            "limits": {"amount": {"min": 0.00001}, "cost": {"min": 5.0}},
        }})
        engine.desk.on_book("BTC/USDT", BookSnapshot("BTC/USDT", bids=((100.0, 5.0),),
                                                     asks=((101.0, 5.0),), nonce=1))
        before = engine.snapshot()
        order = OrderRequest("BTC/USDT", "buy", OrderType.LIMIT, Decimal("0.1"),
                             price=Decimal(99))
        assert engine.desk.handle(PlaceOrder(order)) is None
        placed = engine.snapshot()
        assert placed is not before and placed.seq > before.seq
        assert [o.request for o in placed.account.orders] == [order]
        assert engine.desk.handle(KillSwitch("test")) is None
        halted = engine.snapshot()
        assert halted.seq > placed.seq and halted.trading_state.lower() == "halted"
        assert halted.account.orders == ()
    finally:
        await engine.desk.close()
