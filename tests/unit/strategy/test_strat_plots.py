"""Strategy columns declared plottable (``plots``): checked at definition and by the guard, sent
back by the worker with each live evaluation, served by the ``strategy.plots`` request."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from strat_samples import SmaCross, write
from test_strat_engine import candles, health, make_engine

from tradeterm.core.models import StrategyState
from tradeterm.indicators import ta
from tradeterm.indicators.frame import candles_frame
from tradeterm.service.local import local_answerer
from tradeterm.strategy.api import StrategyDefinitionError
from tradeterm.strategy.worker import PLOT_BARS
from tradeterm.wire.remote import RequestFailed

PLOTTER_SRC = '''
import polars as pl
from tradeterm.indicators import ta
from tradeterm.strategy import Strategy


class Plotter(Strategy):
    name = "plotter"
    symbols = ("ETH/USDT",)
    timeframe = "5m"
    plots = ("ema_9", "spread")

    def indicators(self, frame):
        return ta.ema(frame, 9).with_columns(spread=pl.col("high") - pl.col("low"))

    def signals(self, frame):
        return frame.with_columns(entry_long=pl.lit(False), entry_short=pl.lit(False),
                                  exit_long=pl.lit(False), exit_short=pl.lit(False))
'''


async def test_an_evaluation_keeps_the_declared_columns_of_the_newest_bars(tmp_path):
    write(tmp_path, "plotter.py", PLOTTER_SRC)
    engine = make_engine(tmp_path, ["plotter"])
    try:
        await engine.load()
        assert health(engine, "plotter").state is StrategyState.ENABLED
        assert health(engine, "plotter").plots == ("ema_9", "spread")
        assert engine.plots("plotter", "ETH/USDT", "5m") is None  # not evaluated yet
        bars = candles(PLOT_BARS + 200)
        await engine.on_bar_closed("ETH/USDT", "5m", bars)
        times, columns = engine.plots("plotter", "ETH/USDT", "5m")
        frame = ta.ema(candles_frame(bars), 9).tail(PLOT_BARS)
        assert list(times) == frame.get_column("open_time").to_list()
        assert list(columns["ema_9"]) == frame.get_column("ema_9").to_list()
        assert columns["spread"][-1] == pytest.approx(bars[-1].high - bars[-1].low)
        # only what a screen lacks: from open time ``since`` on
        since = bars[-3].open_time
        times, columns = engine.plots("plotter", "ETH/USDT", "5m", since)
        assert list(times) == [b.open_time for b in bars[-3:]]
        assert len(columns["ema_9"]) == 3
        assert engine.plots("plotter", "BTC/USDT", "5m") is None

        ask = local_answerer(SimpleNamespace(strategies=engine))  # the real handler table
        answer = await ask("strategy.plots", {"strategy": "plotter", "symbol": "ETH/USDT",
                                              "timeframe": "5m", "since": since})
        assert answer["open_times"] == [b.open_time for b in bars[-3:]]
        assert answer["columns"]["ema_9"] == frame.get_column("ema_9").to_list()[-3:]
        window = await ask("strategy.plots", {"strategy": "plotter", "symbol": "ETH/USDT",
                                               "timeframe": "5m", "first": bars[-5].open_time})
        assert window["open_times"] == [b.open_time for b in bars[-5:]]  # the chart's window
        both = await ask("strategy.plots", {"strategy": "plotter", "symbol": "ETH/USDT",
                                             "timeframe": "5m", "first": bars[-5].open_time,
                                             "since": since})
        assert both["open_times"] == [b.open_time for b in bars[-3:]]
        empty = await ask("strategy.plots", {"strategy": "other", "symbol": "ETH/USDT",
                                             "timeframe": "5m"})
        assert empty == {"open_times": [], "columns": {}}
        with pytest.raises(RequestFailed, match="since and first"):
            await ask("strategy.plots", {"strategy": "plotter", "symbol": "ETH/USDT",
                                         "timeframe": "5m", "since": "yesterday"})
    finally:
        await engine.close()


async def test_a_declared_column_the_frame_lacks_is_refused_by_the_guard(tmp_path):
    write(tmp_path, "plotter.py", PLOTTER_SRC.replace('("ema_9", "spread")', '("ema_99",)'))
    engine = make_engine(tmp_path, ["plotter"])
    try:
        await engine.load()
        state = health(engine, "plotter")
        assert state.state is StrategyState.FAILED
        assert "plots names 'ema_99', which its frame does not have" in state.last_error
    finally:
        await engine.close()


def test_plots_must_be_a_tuple_of_names():
    class Bad(SmaCross):
        plots = "fast"

    with pytest.raises(StrategyDefinitionError, match="plots must be a tuple"):
        Bad.check_definition()

    class Good(SmaCross):
        plots = ("fast", "slow")

    Good.check_definition()
