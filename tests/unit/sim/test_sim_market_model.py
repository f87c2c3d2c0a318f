"""The simulator's market model without sockets: sequencing, candles vs tape, history, replay."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from tradeterm.sim.bars import aggregate
from tradeterm.sim.history import SyntheticHistory
from tradeterm.sim.market import SymbolMarket
from tradeterm.sim.replay import ReplayDriver, load_candles
from tradeterm.sim.spec import DEFAULT_SPECS, INTERVAL_MS

START = 1_700_000_123_456  # a fixed clock keeps every run identical
BTC = DEFAULT_SPECS["BTCUSDT"]


def _run(market: SymbolMarket, steps: int, start: int = START, step_ms: int = 100):
    trades, batches = [], []
    for k in range(1, steps + 1):
        trades.extend(market.advance(start + k * step_ms).trades)
        batch = market.cut_depth()
        if batch is not None:
            batches.append(batch)
    return trades, batches


def test_depth_events_are_contiguous_and_reproduce_the_book() -> None:
    market = SymbolMarket(BTC, seed=3, index=0, start_ms=START)
    bids = dict(market.book.bids.qty)
    asks = dict(market.book.asks.qty)
    snapshot_id = market.book.last_update_id
    _, batches = _run(market, 600)
    assert len(batches) > 500
    assert batches[0].first_id == snapshot_id + 1
    for prev, nxt in zip(batches, batches[1:], strict=False):
        assert nxt.first_id == prev.last_id + 1
        assert nxt.last_id >= nxt.first_id
    for b in batches:  # replaying the diffs on the snapshot gives the book
        for side, changes in ((bids, b.bids), (asks, b.asks)):
            for price, qty in changes.items():
                if qty:
                    side[price] = qty
                else:
                    side.pop(price, None)
    assert bids == market.book.bids.qty and asks == market.book.asks.qty
    assert market.book.last_update_id == batches[-1].last_id
    assert not market.book.crossed()
    assert 900 <= len(market.book.bids) <= 1100


def test_skip_request_makes_exactly_one_gap() -> None:
    market = SymbolMarket(BTC, seed=3, index=0, start_ms=START)
    _run(market, 5)
    market.request_gap()
    _, batches = _run(market, 20, start=START + 500)
    gaps = [n.first_id - p.last_id for p, n in zip(batches, batches[1:], strict=False)]
    assert sum(g != 1 for g in gaps) == 1 and max(gaps) == 11


def test_live_candles_are_the_tape_aggregated() -> None:
    market = SymbolMarket(DEFAULT_SPECS["SOLUSDT"], seed=5, index=2, start_ms=START)
    trades, _ = _run(market, 3_000)  # 5 simulated minutes
    assert len(trades) > 200
    one_minute = INTERVAL_MS["1m"]
    for candle in market.candles["1m"].closed[1:] + [market.candles["1m"].current]:
        inside = [t for t in trades if candle.t <= t.time < candle.t + one_minute]
        if not inside:
            assert candle.v == 0 and candle.o == candle.h == candle.l == candle.c
            continue
        assert candle.o == inside[0].price and candle.c == inside[-1].price
        assert candle.h == max(t.price for t in inside) and candle.l == min(t.price for t in inside)
        assert candle.v == sum(t.qty for t in inside) and candle.n == len(inside)
    assert market.candles["1m"].current.c == trades[-1].price


def test_taker_side_flag_matches_the_side_of_the_book_hit() -> None:
    market = SymbolMarket(BTC, seed=9, index=0, start_ms=START)
    best_bid, best_ask = market.book.bids.best(), market.book.asks.best()
    sells = market.sweep(False, 10, None, START + 1)
    buys = market.sweep(True, 10, None, START + 2)
    assert sells[0].price == best_bid and sells[0].buyer_maker is True
    assert buys[0].price == best_ask and buys[0].buyer_maker is False


def test_history_is_aligned_deterministic_and_connects_to_live() -> None:
    a = SyntheticHistory(BTC, seed=11, symbol_index=0, boundary_ms=START)
    b = SyntheticHistory(BTC, seed=11, symbol_index=0, boundary_ms=START)
    c = SyntheticHistory(BTC, seed=12, symbol_index=0, boundary_ms=START)
    for name in ("1m", "15m", "4h", "1d"):
        ms = INTERVAL_MS[name]
        bars = a.bars(ms, START - 2_500 * ms, START)
        assert len(bars) >= 2_000
        assert np.all(bars.t % ms == 0) and np.all(np.diff(bars.t) == ms)
        assert np.all(bars.l <= np.minimum(bars.o, bars.c))
        assert np.all(bars.h >= np.maximum(bars.o, bars.c))
        again = b.bars(ms, START - 2_500 * ms, START)
        assert np.array_equal(bars.c, again.c) and np.array_equal(bars.v, again.v)
    assert not np.array_equal(a.bars(60_000, START - 600_000, START).c,
                              c.bars(60_000, START - 600_000, START).c)
    minutes = a.bars(60_000, START - 3 * 86_400_000, START)
    assert minutes.c[-1] == a.last_close_ticks  # history ends where the live market starts


def test_coarse_history_is_the_aggregate_of_the_fine() -> None:
    h = SyntheticHistory(BTC, seed=11, symbol_index=0, boundary_ms=START)
    day = INTERVAL_MS["1d"]
    first = START - START % day - 3 * day
    minutes = h.bars(60_000, first, first + 3 * day - 1)
    for name in ("5m", "1h", "8h", "1d"):
        ms = INTERVAL_MS[name]
        direct = h.bars(ms, first, first + 3 * day - ms)
        built = aggregate(minutes, ms)
        for f in ("t", "o", "h", "l", "c", "v"):
            assert np.array_equal(getattr(direct, f), getattr(built, f)), (name, f)


def _candle_file(path: Path, n: int = 20) -> pl.DataFrame:
    rng = np.random.default_rng(1)
    t0 = 1_700_000_000_000 - 1_700_000_000_000 % 60_000
    close = 30_000 + np.cumsum(rng.normal(0, 20, n))
    open_ = np.r_[30_000, close[:-1]]
    high = np.maximum(open_, close) + rng.uniform(1, 30, n)
    low = np.minimum(open_, close) - rng.uniform(1, 30, n)
    df = pl.DataFrame({
        "timestamp_ms": t0 + np.arange(n, dtype=np.int64) * 60_000,
        "open": np.round(open_, 2), "high": np.round(high, 2), "low": np.round(low, 2),
        "close": np.round(close, 2), "volume": np.round(rng.uniform(5, 50, n), 5),
    })
    df.write_parquet(path)
    return df


def test_replay_reproduces_the_files_ohlcv(tmp_path: Path) -> None:
    file = tmp_path / "BTCUSDT_1m.parquet"
    df = _candle_file(file)
    driver = ReplayDriver(load_candles(file), BTC, seed=1)
    market = SymbolMarket(BTC, 1, 0, driver.start_ms, driver, driver.start_price)
    t = driver.start_ms
    while t < driver.end_ms + 60_000:
        t += 5_000
        market.advance(t)
        market.cut_depth()
    bars = market.klines("1m", driver.start_ms, None, 1000)
    assert len(bars) >= len(df)
    for i, row in enumerate(df.iter_rows(named=True)):
        assert bars.t[i] == row["timestamp_ms"]
        got = [int(bars.o[i]), int(bars.h[i]), int(bars.l[i]), int(bars.c[i])]
        assert got == [BTC.to_ticks(row[k]) for k in ("open", "high", "low", "close")]
        assert bars.v[i] == BTC.to_steps(row["volume"])
