"""Strategies inside the Engine, against the simulator replaying candles at 600x (a 1m bar
closes every 0.1 s), over real sockets with unmodified ccxt."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tradeterm.config import StrategySettings
from tradeterm.core.commands import SwitchSymbol
from tradeterm.core.events import SignalEmitted
from tradeterm.core.models import StrategyState
from tradeterm.sim import SimServer

from test_engine_harness import running_engine, settings, until

pytestmark = pytest.mark.integration

STRATEGY = '''
import polars as pl
from tradeterm.strategy import Strategy


class {cls}(Strategy):
    name = "{name}"
    symbols = {symbols!r}
    timeframe = "1m"

    def signals(self, frame):
        return frame.with_columns(
            entry_long=pl.lit(True), entry_short=pl.lit(False),
            exit_long=pl.lit(False), exit_short=pl.lit(False),
            confidence=pl.lit(0.6), reasons=pl.lit("every bar"),
        )
'''


def strategy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "strategies"
    folder.mkdir()
    for name, cls, symbols in (("any", "Any", ()), ("eth", "Eth", ("ETH/USDT",))):
        source = STRATEGY.format(name=name, cls=cls, symbols=symbols)
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
    return folder


async def test_engine_emits_signals_at_real_candle_closes_on_chart_and_background_keys(
    fast_sim: SimServer, tmp_path: Path
):
    config = settings()
    config.strategies = StrategySettings(
        dir=strategy_dir(tmp_path), enabled=["any", "eth"], lookahead_cuts=2
    )
    async with running_engine(fast_sim.base_url, config) as run:

        def signals():
            return [e.signal for e in run.of(SignalEmitted)]

        await until(
            lambda: {(s.strategy, s.symbol) for s in signals()}
            >= {("any", "BTC/USDT"), ("eth", "ETH/USDT")},
            "signals from the chart's symbol and the background symbol",
        )
        snap = run.engine.snapshot()
        assert {(h.name, h.state) for h in snap.strategies} == {
            ("any", StrategyState.ENABLED), ("eth", StrategyState.ENABLED),
        }
        assert snap.signals and set(snap.signals) <= set(signals())
        assert not any(s.strategy == "eth" and s.symbol != "ETH/USDT" for s in signals())
        # ETH is not on the chart: strategy streams serve it, each once.
        eth_streams = [(h.stream, h.symbol) for h in snap.streams if h.symbol == "ETH/USDT"]
        # (book and trades too: the paper broker needs them for a symbol a strategy trades)
        assert sorted(eth_streams) == [
            ("book", "ETH/USDT"), ("ohlcv 1m", "ETH/USDT"), ("trades", "ETH/USDT"),
        ]

        # Each signal is for a closed bar: a later bar exists, and entry is that bar's close.
        btc = [s for s in signals() if s.symbol == "BTC/USDT"]
        candles = {c.open_time: c for c in run.engine.state.candles("BTC/USDT", "1m")}
        newest = max(candles)
        for signal in btc:
            assert signal.bar_time < newest
            assert (signal.kind, signal.side, signal.timeframe) == ("entry", "buy", "1m")
            assert signal.reasons == ("every bar",) and signal.confidence == 0.6
            if signal.bar_time in candles:
                assert signal.entry == candles[signal.bar_time].close
        assert len({s.bar_time for s in btc}) == len(btc)  # one signal per bar

        # The chart moves to ETH: its stream serves both strategies; no duplicate stream.
        run.engine.submit(SwitchSymbol("ETH/USDT"))
        def streams() -> list[tuple[str, str]]:
            return sorted((h.stream, h.symbol) for h in run.engine.snapshot().streams)

        chart = {("book", "ETH/USDT"), ("ohlcv", "ETH/USDT"), ("tickers", "*"),
                 ("trades", "ETH/USDT")}
        await until(
            lambda: chart <= set(streams()) and ("ohlcv 1m", "ETH/USDT") not in streams()
            and not any(s == "ohlcv 1m" or s == "ohlcv" for s, sym in streams()
                        if sym == "BTC/USDT"),
            "the chart's streams on ETH, serving the ETH strategy too",
        )
        assert len(streams()) == len(set(streams()))  # never a duplicate stream
        # BTC keeps book and trades only while the paper broker holds something there.
        held = "BTC/USDT" in run.engine.desk.symbols_in_use()
        btc = {s for s, sym in streams() if sym == "BTC/USDT"}
        assert btc == ({"book", "trades"} if held else set())
        seen = len(signals())
        await until(
            lambda: len([s for s in signals()[seen:] if s.symbol == "ETH/USDT"]) >= 2,
            "ETH signals from the chart's stream",
        )


async def test_start_and_stop_strategy_commands_toggle_it_and_unknown_names_are_ignored(
    fast_sim: SimServer, tmp_path: Path
):
    from tradeterm.core.commands import StartStrategy, StopStrategy
    from tradeterm.core.events import CommandIgnored

    config = settings()
    config.strategies = StrategySettings(dir=strategy_dir(tmp_path), enabled=[], lookahead_cuts=2)
    async with running_engine(fast_sim.base_url, config) as run:

        def state(name: str) -> StrategyState | None:
            return next((h.state for h in run.engine.snapshot().strategies if h.name == name), None)

        await until(lambda: state("any") is StrategyState.DISABLED, "strategies loaded, disabled")
        run.engine.submit(StartStrategy("any"))
        await until(lambda: state("any") is StrategyState.ENABLED, "'any' enabled")
        await until(lambda: any(e.signal.strategy == "any" for e in run.of(SignalEmitted)),
                    "a signal once enabled")
        run.engine.submit(StopStrategy("any"))
        await until(lambda: state("any") is StrategyState.DISABLED, "'any' disabled again")
        run.engine.submit(StartStrategy("nope"))
        await until(lambda: run.of(CommandIgnored), "unknown strategy ignored")
        assert "no strategy named 'nope'" in run.of(CommandIgnored)[-1].reason
