"""The live recheck and a strategy that replaces an input on purpose (``recheck_epoch``: ml_signal's
retrained model): a bar acted on under the old epoch is not compared again, while a changed
signal under the same epoch is still look-ahead."""

from __future__ import annotations

import polars as pl

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy import Strategy
from tradeterm.strategy.recheck import Recheck


class Switchable(Strategy):
    """Longs on every bar whose close is above its open; ``flipped``: below (a new 'model')."""

    name = "switchable"
    timeframe = "1m"
    flipped = False

    def signals(self, frame: pl.DataFrame) -> pl.DataFrame:
        up = pl.col("close") > pl.col("open")
        cond = ~up if self.flipped else up
        return frame.with_columns(entry_long=cond, entry_short=pl.lit(False),
                                  exit_long=pl.lit(False), exit_short=pl.lit(False))


def acted_then_switched(epoch_changes: bool) -> str | None:
    frame = synthetic_candles(60, seed=3)
    strategy = Switchable()
    strategy.recheck_epoch = "v1"
    recheck = Recheck()
    key = ("BTC/USDT", "1m")
    end = next(i for i in range(20, 50) if frame["close"][i] > frame["open"][i]) + 1
    evaluated = strategy.evaluate(frame.head(end))
    assert evaluated["entry_long"][-1]  # it acts on the last bar
    recheck.acted(key, frame.head(end), evaluated, strategy.recheck_epoch)
    strategy.flipped = True  # the new model says otherwise about that bar
    if epoch_changes:
        strategy.recheck_epoch = "v2"
    return recheck.verify(strategy, key, frame.head(end + 3), 60_000)


def test_a_bar_acted_on_under_a_replaced_model_is_not_rechecked():
    assert acted_then_switched(epoch_changes=True) is None


def test_the_same_change_without_a_new_epoch_is_look_ahead():
    reason = acted_then_switched(epoch_changes=False)
    assert reason is not None and "was True when it acted and is False 3 bars later" in reason
