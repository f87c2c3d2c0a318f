"""Trade tape: bounded, deduplicated by trade id."""

from tradeterm.core.models import Trade
from tradeterm.market.trades import TradeTape


def t(i: int) -> Trade:
    return Trade(id=str(i), timestamp=1000 + i, price=100.0 + i, amount=1.0, side="buy")


def test_repeated_trade_ids_are_dropped():
    tape = TradeTape(10)
    assert tape.add([t(1), t(2)])
    assert not tape.add([t(2), t(1)])
    assert tape.add([t(2), t(3)])
    assert [x.id for x in tape.trades()] == ["1", "2", "3"]


def test_tape_keeps_the_newest_and_forgets_evicted_ids():
    tape = TradeTape(3)
    tape.add([t(i) for i in range(5)])
    assert [x.id for x in tape.trades()] == ["2", "3", "4"]
    # An evicted id is no longer remembered: the id set stays bounded with the tape.
    assert tape.add([t(0)])
    assert [x.id for x in tape.trades()] == ["3", "4", "0"]
