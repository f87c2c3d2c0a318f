"""The guard at every fired bar: a strategy that peeks on a few bars is caught every time, on
every dataset; honest strategies (the shipped ones too) pass; the cache answers a second time."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from lookahead_samples import RARE_PEEK_SRC, REPAINT_SRC, peeked_bars, write
from strat_samples import SmaCross

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.api import Strategy
from tradeterm.strategy.bar_guard import check_signal_bars, fired_bars, window_bars
from tradeterm.strategy.guard import cached_guard, run_guard
from tradeterm.strategy.loader import load_directory, load_file
from tradeterm.strategy.lookahead import check_lookahead
from tradeterm.strategy.recheck import Recheck

REPO = Path(__file__).resolve().parents[3]
DATASETS = [(seed, start) for seed in (1, 2, 3, 4, 5) for start in (0, 7)]
"""(seed, minutes the data starts later): the rare bars fall elsewhere in each."""


def dataset(seed: int, start: int, n: int = 6000) -> pl.DataFrame:
    return synthetic_candles(n, seed=seed, start_ms=1_704_067_200_000 + start * 60_000)


def rare_peek(tmp_path: Path) -> type[Strategy]:
    [cls] = load_file(write(tmp_path, RARE_PEEK_SRC, "rare_peek"))
    return cls


@pytest.mark.parametrize(("seed", "start"), DATASETS)
def test_a_strategy_peeking_on_a_few_bars_is_caught_at_the_first_of_them(tmp_path, seed, start):
    frame = dataset(seed, start)
    peeked = peeked_bars(frame)
    assert 1 <= len(peeked) <= 12  # a handful of bars in 6,000
    verdict = run_guard(rare_peek(tmp_path)(), frame, cuts=12)
    assert not verdict.ok
    first = peeked[0]
    time = frame.get_column("open_time")[first]
    assert verdict.line.startswith(f"at bar {first} (")
    assert "entry_long is True with the later bars, False without them" in verdict.line
    report = check_signal_bars(rare_peek(tmp_path)(), frame, threads=2)
    assert [c.bar for c in report.found] == peeked[:3]
    assert report.found[0].bar_time == time


def test_random_cuts_alone_let_the_same_strategy_through(tmp_path):
    """Why the fired bars are checked: the prefix cuts pass it on most datasets."""
    cls = rare_peek(tmp_path)
    passed = [check_lookahead(cls(), dataset(s, t), cuts=12, seed=0).ok for s, t in DATASETS]
    assert sum(passed) >= len(DATASETS) // 2


def test_a_strategy_that_fires_on_every_bar_only_when_it_peeks_is_caught(tmp_path):
    frame = dataset(9, 0, 3000)
    [cls] = load_file(write(tmp_path, RARE_PEEK_SRC, "every_bar", every=1))
    report = check_signal_bars(cls(), frame)
    assert not report.ok and len(report.found) == 3  # stops after a few


class RowIndex(SmaCross):
    """Honest, but uses the row number: a window starting later numbers its rows differently."""

    name = "row_index"

    def signals(self, frame: pl.DataFrame) -> pl.DataFrame:
        out = super().signals(frame)
        odd = pl.int_range(pl.len()) % 2 == 1
        return out.with_columns(entry_long=pl.col("entry_long") & odd)


def test_a_window_that_disagrees_is_settled_on_the_exact_prefix_not_refused():
    frame = dataset(3, 0, 3000)
    report = check_signal_bars(RowIndex(), frame)
    assert report.ok and report.window_only > 0
    assert report.checked == report.fired == len(fired_bars(RowIndex().evaluate(frame)))


def test_honest_strategies_pass():
    frame = dataset(3, 0, 3000)
    verdict = run_guard(SmaCross(), frame, cuts=12)
    assert verdict.ok and verdict.fired > 50 and verdict.window == window_bars(20) == 64


@pytest.fixture(scope="module")
def shipped() -> dict[str, type[Strategy]]:
    loaded = load_directory(REPO / "strategies")
    assert not loaded.errors
    return {name: found.cls for name, found in loaded.strategies.items()}


@pytest.mark.parametrize("name", ["bollinger_breakout", "confluence", "ema_cross", "macd_trend",
                                  "rsi_reversion", "smc_order_blocks"])
def test_every_shipped_strategy_passes(shipped, name):
    frame = synthetic_candles(2500, seed=21)
    verdict = run_guard(shipped[name](), frame, cuts=8)
    assert verdict.ok, verdict.line
    assert verdict.fired > 0


def test_the_verdict_is_cached_by_file_params_and_data(tmp_path):
    file = write(tmp_path, RARE_PEEK_SRC, "rare_peek")
    [cls] = load_file(file)
    cache = tmp_path / "cache"
    frame = dataset(1, 0)
    first = cached_guard(file, cls(), frame, cuts=4, cache_dir=cache)
    again = cached_guard(file, cls(), frame, cuts=4, cache_dir=cache)
    assert not first.ok and not first.cached
    assert again.cached and again.line == first.line
    other = cached_guard(file, cls(), dataset(2, 0), cuts=4, cache_dir=cache)
    assert not other.cached  # other candles: judged again
    file.write_text(file.read_text() + "\n# edited\n")
    assert not cached_guard(file, cls(), frame, cuts=4, cache_dir=cache).cached
    assert len(list(cache.glob("*.json"))) == 3


# -- the live recheck -------------------------------------------------------------------------


def test_the_recheck_stops_a_signal_that_changed_once_later_bars_exist(tmp_path):
    [cls] = load_file(write(tmp_path, REPAINT_SRC, "repaint", every=50))
    strategy, frame, key = cls(), dataset(4, 0, 400), ("BTC/USDT", "1m")
    recheck = Recheck(bars=3)
    fired_at = None
    for end in range(100, 400):
        bars = frame.head(end)
        reason = recheck.verify(strategy, key, bars, 60_000)
        if reason is not None:
            break
        evaluated = strategy.evaluate(bars)
        if evaluated.get_column("entry_long")[-1]:
            fired_at = fired_at or end - 1
        recheck.acted(key, bars, evaluated)
    assert fired_at is not None and reason is not None
    assert end - 1 == fired_at + 3  # caught exactly three bars after it acted
    bar_time = frame.get_column("open_time")[fired_at]
    assert f"(open_time {bar_time}) was True when it acted and is False 3 bars later" in reason


def test_the_recheck_passes_an_honest_strategy_and_drops_what_it_checked():
    strategy, frame, key = SmaCross(), dataset(4, 0, 800), ("BTC/USDT", "1m")
    recheck = Recheck(bars=3)
    acted = 0
    for end in range(100, 800):
        bars = frame.head(end).tail(200)  # a sliding history, as live
        assert recheck.verify(strategy, key, bars, 60_000) is None
        evaluated = strategy.evaluate(bars)
        acted += any(evaluated.row(-1, named=True)[c] for c in ("entry_long", "exit_long"))
        recheck.acted(key, bars, evaluated)
    assert acted > 5
    assert len(recheck._pending[key]) <= 3  # rechecked ones are gone
