"""Replay: drive one symbol's trades from a parquet of candles.

The file has columns ``timestamp_ms:int64, open, high, low, close, volume`` (the format of the
shared 1m/5m archives). Each candle becomes a schedule of trades that walks open -> low -> high
-> close (bullish) or open -> high -> low -> close (bearish) with a few intermediate prints,
whose quantities sum to the candle's volume (in lot steps). Because the live candles are
aggregated from those trades, the replayed candles reproduce the file's OHLC (and its volume up
to the lot step).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from tradeterm.indicators.candle_file import CandleFileError, read_candle_file
from tradeterm.sim.spec import SymbolSpec

TRADES_PER_CANDLE = 12
_WAYPOINT_FRACTIONS = (0.02, 0.3, 0.65, 0.98)


COLUMNS = ("timestamp_ms", "open", "high", "low", "close", "volume")

ReplayFileError = CandleFileError
"""A replay file that cannot be used (one line: file and problem); the candle reader's error."""


def load_candles(path: Path) -> pl.DataFrame:
    """Read and check a candle parquet (:func:`read_candle_file`) as the replay's ``COLUMNS``
    (time as ``timestamp_ms``, the archives' name); :class:`ReplayFileError` says what is wrong."""
    return read_candle_file(path).rename({"open_time": "timestamp_ms"})


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def split_at(path: Path, df: pl.DataFrame, from_ms: int | None) -> tuple[pl.DataFrame,
                                                                         pl.DataFrame]:
    """(warm-up bars before ``from_ms``, the bars replayed from it). The first replayed bar is
    the one whose open is ``from_ms`` or the first after it; a start outside the file's bars is
    a :class:`ReplayFileError` naming the file's range."""
    if from_ms is None:
        return df.head(0), df
    t = df["timestamp_ms"]
    first, last = int(t[0]), int(t[-1])
    if not first <= from_ms <= last:
        raise ReplayFileError(
            f"{path}: --from {_utc(from_ms)} UTC is outside the file "
            f"(bars from {_utc(first)} to {_utc(last)} UTC)")
    return df.filter(pl.col("timestamp_ms") < from_ms), df.filter(
        pl.col("timestamp_ms") >= from_ms)


def replay_symbols(files: Sequence[Path], symbols: tuple[str, ...]) -> list[str]:
    """The symbol each file replays; two files of one symbol are a :class:`ReplayFileError`."""
    seen: dict[str, Path] = {}
    for path in files:
        sym = replay_symbol(path, symbols)
        if sym in seen:
            raise ReplayFileError(f"{path}: replays {sym} like {seen[sym]}: give one file per "
                                  f"symbol, its symbol in the name ({', '.join(symbols)})")
        seen[sym] = path
    return list(seen)


def check_replay(files: Sequence[Path], from_ms: int | None,
                 symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT", "SOLUSDT")) -> None:
    """Everything a replay start would refuse, before anything starts (the CLI's check)."""
    replay_symbols(files, symbols)
    intervals = set()
    for path in files:
        df = load_candles(path)
        split_at(path, df, from_ms)
        intervals.add(infer_interval_ms(df))
    if len(intervals) > 1:
        raise ReplayFileError(f"{', '.join(map(str, files))}: replayed together, the files "
                              "must have one bar interval")


def infer_interval_ms(df: pl.DataFrame) -> int:
    ts = df["timestamp_ms"].to_numpy()
    if len(ts) < 2:
        return 60_000
    return int(np.median(np.diff(ts)))


def replay_symbol(path: Path, symbols: tuple[str, ...]) -> str:
    """The symbol named in the file name, else the first one served."""
    name = path.name.upper()
    for sym in symbols:
        if sym in name:
            return sym
    return symbols[0]


def waypoints(o: int, h: int, low: int, c: int) -> list[int]:
    """The order a candle's extremes are visited in: open -> low -> high -> close for a bullish
    (or flat) candle, open -> high -> low -> close for a bearish one (prices in ticks)."""
    h, low = max(h, o, c), min(low, o, c)
    return [o, low, h, c] if c >= o else [o, h, low, c]


def tick_path(o: int, h: int, low: int, c: int) -> list[int]:
    """Every tick the candle passes through along :func:`waypoints`, once per visit: a price
    path with no jumps, so a stop or a target inside the candle is printed exactly at its price
    (the lockstep replay prints it; the parity test hands it to the backtester as its lower
    timeframe)."""
    points = waypoints(o, h, low, c)
    path = [points[0]]
    for a, b in zip(points, points[1:], strict=False):
        step = 1 if b >= a else -1
        path.extend(range(a + step, b + step, step))
    return path


class ReplayDriver:
    """Produces each candle's trade schedule lazily as the simulated clock reaches it."""

    def __init__(self, df: pl.DataFrame, spec: SymbolSpec, seed: int) -> None:
        self.spec = spec
        self.interval = infer_interval_ms(df)
        self._t = df["timestamp_ms"].to_numpy().astype(np.int64)
        self._ohlc = np.stack([df[c].cast(pl.Float64).to_numpy()
                               for c in ("open", "high", "low", "close")], axis=1)
        self._vol = df["volume"].cast(pl.Float64).to_numpy()
        self._rng = np.random.default_rng([seed, 0x2E91])
        self._row = 0
        self._queue: list[tuple[int, int, int, bool]] = []

    def __len__(self) -> int:
        return len(self._t)

    def bar(self, row: int) -> tuple[int, int, int, int, int, int]:
        """Candle ``row`` as (open time, open, high, low, close in ticks, volume in steps)."""
        o, h, low, c = (self.spec.to_ticks(x) for x in self._ohlc[row])
        return int(self._t[row]), o, h, low, c, self.spec.to_steps(float(self._vol[row]))

    @property
    def start_ms(self) -> int:
        return int(self._t[0])

    @property
    def start_price(self) -> float:
        return float(self._ohlc[0, 0])

    @property
    def end_ms(self) -> int:
        return int(self._t[-1]) + self.interval

    def scheduled(self, until_ms: int) -> list[tuple[int, int, int, bool]]:
        while self._row < len(self._t) and self._t[self._row] <= until_ms:
            self._queue.extend(self._schedule(self._row))
            self._row += 1
        due = [x for x in self._queue if x[0] <= until_ms]
        self._queue = [x for x in self._queue if x[0] > until_ms]
        return due

    def _schedule(self, row: int) -> list[tuple[int, int, int, bool]]:
        spec, rng = self.spec, self._rng
        o, h, low, c = (spec.to_ticks(x) for x in self._ohlc[row])
        h, low = max(h, o, c), min(low, o, c)
        total = spec.to_steps(float(self._vol[row]))
        if total <= 0:
            return []
        ways = waypoints(o, h, low, c)
        n = min(TRADES_PER_CANDLE, total)
        if n < 4:
            ways = ways[:1] + ways[-(n - 1):] if n > 1 else [c]
        extra = n - len(ways)
        # intermediate prints between waypoints, inside [low, high]
        prices: list[int] = []
        fracs: list[float] = []
        per_leg = [extra // 3 + (1 if k < extra % 3 else 0) for k in range(3)] if len(ways) == 4 \
            else [0] * (len(ways) - 1)
        wf = list(_WAYPOINT_FRACTIONS) if len(ways) == 4 else \
            list(np.linspace(0.02, 0.98, len(ways)))
        for k in range(len(ways)):
            prices.append(ways[k])
            fracs.append(wf[k])
            if k < len(ways) - 1:
                for j in range(per_leg[k]):
                    a = (j + 1) / (per_leg[k] + 1)
                    p = ways[k] + a * (ways[k + 1] - ways[k])
                    p += rng.normal(0, 0.1) * (h - low)
                    prices.append(int(min(h, max(low, round(p)))))
                    fracs.append(wf[k] + a * (wf[k + 1] - wf[k]))
        weights = rng.dirichlet(np.ones(len(prices)))
        qty = np.floor(weights * (total - len(prices))).astype(np.int64) + 1
        qty[-1] += total - int(qty.sum())
        t0 = int(self._t[row])
        out: list[tuple[int, int, int, bool]] = []
        prev = prices[0]
        for p, f, q in zip(prices, fracs, qty, strict=True):
            buys = p > prev or (p == prev and bool(rng.random() < 0.5))
            out.append((t0 + int(f * self.interval), int(p), int(q), buys))
            prev = p
        return out
