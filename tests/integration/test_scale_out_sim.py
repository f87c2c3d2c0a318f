"""A scaling-out strategy paper-traded against the replaying simulator (real sockets, unmodified
ccxt, a real journal): its entry's bracket is a stop plus three take-profit legs of its sizes;
target 1 fills and the stop's quantity shrinks to the position left, amended and journaled."""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from tradeterm.config import StrategySettings
from tradeterm.core.events import OrderUpdated
from tradeterm.core.scale_out import leg_of, leg_weights, split_quantity
from tradeterm.core.trading import OrderStatus, OrderType
from tradeterm.journal import JournalReader
from tradeterm.sim import SimServer

from test_engine_harness import running_engine, settings, until

pytestmark = pytest.mark.integration

STRATEGY = '''
import polars as pl
from tradeterm.strategy import Strategy


class Scaler(Strategy):
    """Long at once (one position: later entries are ignored), half off 0.01 % up, a quarter
    at +50 % and +100 % (never), the stop 2 % down."""
    name = "scaler"
    timeframe = "1m"
    scale_out = (0.5, 0.25, 0.25)

    def signals(self, frame):
        close = pl.col("close")
        return frame.with_columns(
            entry_long=pl.lit(True), entry_short=pl.lit(False),
            exit_long=pl.lit(False), exit_short=pl.lit(False),
            stop=close * 0.98, target_1=close * 1.0001, target_2=close * 1.5,
            target_3=close * 2.0, confidence=pl.lit(0.5), reasons=pl.lit("scale"),
        )
'''


async def test_target_1_fills_and_the_stop_shrinks_to_the_position_left(
    fast_sim: SimServer, tmp_path: Path
):
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "scaler.py").write_text(textwrap.dedent(STRATEGY))
    config = settings()
    config.journal_path = tmp_path / "journal.sqlite"
    config.strategies = StrategySettings(dir=folder, enabled=["scaler"], lookahead_cuts=2)
    config.risk.max_orders_per_minute = 10_000  # the replay runs 600x the wall clock

    def amended() -> list[OrderUpdated]:
        return [e for e in run.of(OrderUpdated)
                if (e.order.reason or "").startswith("amended: target 1 filled")]

    async with running_engine(fast_sim.base_url, config) as run:
        broker = run.engine.desk.broker

        def target_1_done() -> bool:  # it may fill in parts: one amendment per fill
            # Events are published after their journal commit, so they may trail the broker's
            # live state (under load they did): done when target 1 has left the book AND the
            # last amendment published is the live stop's quantity (it only ever shrinks).
            working = broker.working_orders()
            stops = [o.request.quantity for o in working if leg_of(o.request.client_id) is None]
            updates = amended()
            return (bool(updates) and all(leg_of(o.request.client_id) != 1 for o in working)
                    and stops == [updates[-1].order.request.quantity])

        await until(target_1_done, "target 1's fill and the stop's amendment")
        updates = amended()
        first, update = updates[0], updates[-1]
        (position,) = broker.positions()
        working = {leg_of(o.request.client_id): o for o in broker.working_orders()}
        stop = working[None]
        entry_id = stop.parent_id
        journal = config.journal_file

    with JournalReader(journal) as reader:
        orders = {o.id: o for o in reader.orders()}
        fills = reader.fills()
    entry = orders[entry_id]
    total = entry.filled_quantity
    legs = split_quantity(total, leg_weights((0.5, 0.25, 0.25)), Decimal("0.00001"))
    assert sum(legs, Decimal(0)) == total and legs[0] > 0
    children = [o for o in orders.values() if o.parent_id == entry_id]
    # one order per leg: a target that filled while the entry still walked the book must not
    # be placed again when the legs are re-split (the position then fell below the stop)
    assert sorted(str(leg_of(o.request.client_id)) for o in children) == ["1", "2", "3", "None"]
    tp = {leg_of(o.request.client_id): o for o in children}
    # the bracket: the stop and three reduce-only take-profits of the strategy's sizes
    assert [tp[n].request.quantity for n in (1, 2, 3)] == list(legs)
    assert all(tp[n].request.type is OrderType.LIMIT and tp[n].request.reduce_only
               for n in (1, 2, 3))
    assert tp[1].status is OrderStatus.FILLED
    assert sum((f.quantity for f in fills if f.order_id == tp[1].id), Decimal(0)) == legs[0]
    # the stop now covers exactly what is left, live and in the journal, saying why
    assert update.order.id == stop.id and stop.request.type is OrderType.STOP_MARKET
    # one instant (the broker read with no await between): the stop covers the position, which
    # is all the entry bought less all that every target sold
    assert position.quantity == stop.request.quantity
    sold = sum((f.quantity for f in fills if f.order_id in {o.id for o in children}), Decimal(0))
    assert position.quantity == total - sold == total - legs[0]
    assert update.order.request.quantity == total - legs[0]
    assert (first.order.reason or "").startswith("amended: target 1 filled ")
    assert f", stop quantity {total} -> " in (first.order.reason or "")
    assert (update.order.reason or "").endswith(f" -> {total - legs[0]}")
    assert orders[stop.id].request.quantity == total - legs[0]
    assert orders[stop.id].status is OrderStatus.OPEN
    assert {n for n in working if n is not None} == {2, 3}
