"""The strategy engine: guard at enable, safe wrapper, signals at a bar close, reload."""

from __future__ import annotations

import os

from strat_samples import RAISES_SRC, always_source, write

from tradeterm.config import StrategySettings
from tradeterm.core.events import SignalEmitted, StrategyFailed
from tradeterm.core.models import Candle, Signal, StrategyState
from tradeterm.indicators.frame import candles_frame, synthetic_candles
from tradeterm.strategy.engine import StrategyEngine

PEEK_SRC = always_source("peek", cls="Peek").replace(
    "entry_long=pl.lit(True)", "entry_long=pl.col('close').shift(-1) > pl.col('close')"
)

SIGNALS_SRC = '''
import polars as pl
from tradeterm.strategy import Strategy


class Shaped(Strategy):
    name = "shaped"
    symbols = ("ETH/USDT",)
    timeframe = "5m"
    warmup = 2

    def signals(self, frame):
        up = pl.col("close") > pl.col("open")
        return frame.with_columns(
            entry_long=up, entry_short=pl.lit(None, pl.Boolean),
            exit_long=pl.lit(False), exit_short=up,
            entry=pl.col("close") - 1.0,
            stop=pl.col("low") - 0.5,
            target_1=pl.col("close") + 2.0, target_2=pl.lit(None, pl.Float64),
            target_3=pl.col("close") + 6.0,
            confidence=pl.lit(0.75),
            reasons=pl.lit("close>open;  momentum ;"),
        )
'''


class Recorder:
    def __init__(self) -> None:
        self.events: list = []

    def __call__(self, event) -> None:
        self.events.append(event)

    def of(self, cls):
        return [e for e in self.events if isinstance(e, cls)]


def make_engine(tmp_path, enabled, events=None, cuts=4):
    settings = StrategySettings(dir=tmp_path, enabled=enabled, lookahead_cuts=cuts)
    return StrategyEngine(settings, events or Recorder(), lambda: 1_000, guard_bars=300)


def candles(n: int, *, up_last: bool = True) -> list[Candle]:
    frame = synthetic_candles(n, seed=2, interval_ms=300_000)
    out = [Candle(*row) for row in frame.iter_rows()]
    last = out[-1]
    lo, hi = sorted((last.open, last.close))
    o, c = (lo, hi) if up_last else (hi, lo)
    out[-1] = Candle(last.open_time, o, max(last.high, hi), last.low, c, last.volume)
    return out


def health(engine, name):
    return {h.name: h for h in engine.health()}[name]


async def test_on_bar_closed_emits_signals_for_the_last_bar_with_all_fields(tmp_path):
    write(tmp_path, "shaped.py", SIGNALS_SRC)
    rec = Recorder()
    engine = make_engine(tmp_path, ["shaped"], rec)
    await engine.load()
    assert health(engine, "shaped").state is StrategyState.ENABLED
    bars = candles(50)
    signals = await engine.on_bar_closed("ETH/USDT", "5m", bars)
    last = bars[-1]
    common = dict(
        strategy="shaped", symbol="ETH/USDT", timeframe="5m", bar_time=last.open_time,
        confidence=0.75, reasons=("close>open", "momentum"),
    )
    assert signals == [
        Signal(kind="entry", side="buy", entry=last.close - 1.0, stop=last.low - 0.5,
               targets=(last.close + 2.0, last.close + 6.0), **common),
        Signal(kind="exit", side="buy", entry=last.close, **common),
    ]
    assert [e.signal for e in rec.of(SignalEmitted)] == signals
    assert engine.signals() == tuple(signals)
    h = health(engine, "shaped")
    assert h.signals == 2 and h.last_run_ms == 1_000 and h.last_duration_ms is not None


async def test_no_signal_for_other_keys_a_flat_bar_or_the_same_bar_twice(tmp_path):
    write(tmp_path, "shaped.py", SIGNALS_SRC)
    engine = make_engine(tmp_path, ["shaped"])
    await engine.load()
    bars = candles(50)
    assert await engine.on_bar_closed("BTC/USDT", "5m", bars) == []  # not its symbol
    assert await engine.on_bar_closed("ETH/USDT", "1m", bars) == []  # not its timeframe
    assert await engine.on_bar_closed("ETH/USDT", "5m", candles(50, up_last=False)) == []
    in_warmup = candles_frame([bars[0], bars[-1]])  # the up bar is row 1, warm-up is 2
    assert await engine.on_bar_closed("ETH/USDT", "5m", in_warmup) == []
    assert len(await engine.on_bar_closed("ETH/USDT", "5m", bars)) == 2
    assert await engine.on_bar_closed("ETH/USDT", "5m", bars) == []  # already signalled


async def test_a_strategy_that_raises_is_disabled_and_the_others_still_run(tmp_path):
    write(tmp_path, "raises.py", RAISES_SRC)
    write(tmp_path, "always.py", always_source())
    rec = Recorder()
    engine = make_engine(tmp_path, ["raises", "always"], rec)
    await engine.load()
    assert {h.name: h.state for h in engine.health()} == {
        "always": StrategyState.ENABLED, "raises": StrategyState.ENABLED,
    }
    bars = [Candle(*r) for r in synthetic_candles(3001, seed=4).iter_rows()]
    signals = await engine.on_bar_closed("BTC/USDT", "1m", bars)
    assert [s.strategy for s in signals] == ["always"]
    failed = health(engine, "raises")
    assert failed.state is StrategyState.FAILED
    assert "RuntimeError: boom in user code" in failed.last_error
    assert "(raises.py:" in failed.last_error  # points at the user's line
    [event] = rec.of(StrategyFailed)
    assert event.strategy == "raises" and "boom" in event.reason
    # Disabled for good: the next bar evaluates only the healthy strategy.
    assert engine.targets("BTC/USDT", "1m") == ["always"]


async def test_a_peeking_strategy_is_refused_at_enable(tmp_path):
    write(tmp_path, "peek.py", PEEK_SRC)
    write(tmp_path, "always.py", always_source())
    rec = Recorder()
    engine = make_engine(tmp_path, ["peek", "always"], rec)
    await engine.load()
    peek = health(engine, "peek")
    assert peek.state is StrategyState.FAILED and "look-ahead in column 'entry_long'" in (
        peek.last_error or ""
    )
    assert [e.strategy for e in rec.of(StrategyFailed)] == ["peek"]
    assert engine.targets("BTC/USDT", "1m") == ["always"]


async def test_load_errors_unknown_names_and_disabled_strategies_show_in_health(tmp_path):
    write(tmp_path, "broken.py", "def f(:\n")
    write(tmp_path, "always.py", always_source())
    write(tmp_path, "idle.py", always_source("idle", cls="Idle"))
    rec = Recorder()
    engine = make_engine(tmp_path, ["always", "ghost"], rec)
    await engine.load()
    states = {h.name: (h.state, h.last_error) for h in engine.health()}
    assert states["always"] == (StrategyState.ENABLED, None)
    assert states["idle"] == (StrategyState.DISABLED, None)
    assert states["broken"][0] is StrategyState.FAILED and "broken.py:1" in states["broken"][1]
    assert states["ghost"][0] is StrategyState.FAILED and "no strategy named 'ghost'" in (
        states["ghost"][1]
    )
    assert "broken" in [e.strategy for e in rec.of(StrategyFailed)]


async def test_enable_and_disable_at_runtime(tmp_path):
    write(tmp_path, "always.py", always_source())
    write(tmp_path, "peek.py", PEEK_SRC)
    engine = make_engine(tmp_path, [])
    await engine.load()
    assert engine.targets("BTC/USDT", "1m") == []
    assert (await engine.enable("always")).state is StrategyState.ENABLED
    assert engine.targets("BTC/USDT", "1m") == ["always"]
    assert engine.wanted_streams("SOL/USDT") == {("SOL/USDT", "1m")}
    assert (await engine.enable("peek")).state is StrategyState.FAILED
    engine.disable("always")
    assert engine.targets("BTC/USDT", "1m") == [] and engine.wanted_streams("X/Y") == set()


async def test_wanted_streams_follow_the_chart_unless_symbols_are_listed(tmp_path):
    write(tmp_path, "any.py", always_source("any", warmup=30))
    write(tmp_path, "eth.py", always_source("eth", symbols=("ETH/USDT",), timeframe="5m",
                                             cls="Eth"))
    engine = make_engine(tmp_path, ["any", "eth"])
    await engine.load()
    assert engine.wanted_streams("BTC/USDT") == {("BTC/USDT", "1m"), ("ETH/USDT", "5m")}
    assert engine.history_bars() == 60


async def test_a_changed_file_is_reloaded_and_a_broken_edit_fails_it(tmp_path):
    path = write(tmp_path, "always.py", always_source())
    engine = make_engine(tmp_path, ["always"])
    await engine.load()
    assert not await engine.reload_changed()

    def touch_write(src: str) -> None:
        before = path.stat().st_mtime_ns
        path.write_text(src)
        os.utime(path, ns=(before + 2_000_000, before + 2_000_000))

    touch_write(always_source().replace("0.8", "0.3"))
    assert await engine.reload_changed()
    bars = [Candle(*r) for r in synthetic_candles(50, seed=1).iter_rows()]
    [signal] = await engine.on_bar_closed("BTC/USDT", "1m", bars)
    assert signal.confidence == 0.3

    touch_write(always_source() + "\ndef broken(:\n")
    assert await engine.reload_changed()
    h = health(engine, "always")
    assert h.state is StrategyState.FAILED and "syntax error" in h.last_error
    assert engine.targets("BTC/USDT", "1m") == []

    touch_write(always_source())
    assert await engine.reload_changed()
    assert health(engine, "always").state is StrategyState.ENABLED
