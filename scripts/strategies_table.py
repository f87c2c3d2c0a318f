"""Regenerate the out-of-sample results table of the shipped strategies in docs/strategies.md.

    uv run python scripts/strategies_table.py [--data DIR] [--print-only] [--in-sample]

Each shipped strategy runs at its defaults (its own timeframe; 1m candles are resampled to it,
complete buckets only) through the backtester with the paper account's costs (0.1 % taker and
maker fees, 1 tick of slippage, the ``[risk]`` defaults), on public Binance candles (the
``shared/data`` folder of the development machines: spot BTC/USDT and ETH/USDT). The table is
**out-of-sample**: the defaults were chosen on the in-sample ranges only (2021-11-11 to
2021-12-11 and 2023-03-16 to 2023-05-01, ``--in-sample`` prints them), and every range shown
starts in 2024 or later. Losing strategies stay in the table as losing: it is a reproducible
measurement, not a promise.

Columns: trades, win rate (PnL after fees > 0), profit factor (gross profit / gross loss after
fees), max drawdown of the equity curve (% of its peak), return, and the share of fees: the
fees over the sum of every trade's absolute PnL before fees (100 % means the fees cost as much
as the average price move the trades captured; above 100 % costs dominate).

The table sits between the ``<!-- strategies-table:begin -->`` and ``end`` markers.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

from tradeterm.backtest.metrics import result_metrics
from tradeterm.backtest.runner import BacktestConfig, rules_for, simulate
from tradeterm.core.models import timeframe_ms
from tradeterm.strategy.loader import load_directory

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "strategies.md"
BEGIN, END = "<!-- strategies-table:begin -->", "<!-- strategies-table:end -->"
IN_SAMPLE = ("2021-11-11_2021-12-11", "2023-03-16_2023-05-01")


def default_data_dir() -> Path:
    for base in (ROOT.parent, ROOT.parents[1]):
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Source:
    path: Path
    symbol: str  # BTC/USDT
    timeframe: str  # of the file

    @property
    def span(self) -> str:
        return self.path.stem.split("_")[4] + "_" + self.path.stem.split("_")[5]

    @property
    def in_sample(self) -> bool:
        return self.span in IN_SAMPLE


def sources(data: Path) -> list[Source]:
    out = []
    for path in sorted(data.glob("binance_spot_*USDT_*m_*.parquet")):
        parts = path.stem.split("_")  # binance spot BTCUSDT 1m from to who
        pair, tf = parts[2], parts[3]
        out.append(Source(path, f"{pair[:-4]}/{pair[-4:]}", tf))
    return out


def load(source: Source, timeframe: str) -> pl.DataFrame:
    """The file's candles at ``timeframe`` (resampled; only complete buckets are kept)."""
    frame = pl.read_parquet(source.path).rename({"timestamp_ms": "open_time"}, strict=False)
    frame = frame.select("open_time", "open", "high", "low", "close", "volume").cast(
        {"open_time": pl.Int64, "open": pl.Float64, "high": pl.Float64, "low": pl.Float64,
         "close": pl.Float64, "volume": pl.Float64}).sort("open_time")
    step, size = timeframe_ms(source.timeframe), timeframe_ms(timeframe)
    if size == step:
        return frame
    if size % step:
        raise ValueError(f"cannot make {timeframe} bars from {source.timeframe} bars")
    return (frame.with_columns(bucket=pl.col("open_time") // size * size)
            .group_by("bucket", maintain_order=True)
            .agg(pl.col("open").first(), pl.col("high").max(), pl.col("low").min(),
                 pl.col("close").last(), pl.col("volume").sum(), pl.len().alias("n"))
            .filter(pl.col("n") == size // step)
            .select(pl.col("bucket").alias("open_time"), "open", "high", "low", "close",
                    "volume"))


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


def row(name: str, cls: type, source: Source) -> list[str] | None:
    strategy = cls()
    tf = strategy.timeframe
    if timeframe_ms(tf) < timeframe_ms(source.timeframe):
        return None
    candles = load(source, tf)
    if candles.height <= strategy.warmup + 50:
        return None
    cfg = BacktestConfig(rules=rules_for(source.symbol))
    result = simulate(strategy.evaluate(candles), cfg, timeframe_ms(tf), symbol=source.symbol,
                      strategy=name)
    m = result_metrics(result)
    s = m.stats
    frame = result.table.frame() if result.table is not None else None
    moved = Decimal(0)
    if frame is not None and frame.height:
        moved = sum((abs(p + f) for p, f in zip(frame["pnl"].to_list(), frame["fees"].to_list(),
                                               strict=True)), Decimal(0))
    fee_share = f"{s.fees / moved * 100:.0f} %" if moved else "-"
    pf = f"{s.profit_factor:.2f}" if s.profit_factor is not None else "-"
    wr = f"{s.win_rate * 100:.1f} %" if s.win_rate is not None else "-"
    first, last = int(candles["open_time"][0]), int(candles["open_time"][-1])
    return [name, f"{source.symbol} {tf}", f"{_day(first)} to {_day(last)}",
            f"{candles.height:,}", str(s.trades), wr, pf, f"{m.drawdown.depth_pct:.1f} %",
            f"{m.return_pct:+.1f} %", fee_share]


HEADER = ["strategy", "market", "data range (UTC)", "bars", "trades", "win rate",
          "profit factor", "max drawdown", "return", "share of fees"]


def table(data: Path, in_sample: bool) -> str:
    strategies = load_directory(ROOT / "strategies").strategies
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    chosen = [s for s in sources(data) if s.in_sample == in_sample]
    for name in sorted(strategies):
        tf = strategies[name].cls.timeframe
        # a 1m range and the 5m range overlap in 2024: take the finest file for each span
        seen: set[tuple[str, str]] = set()
        for source in sorted(chosen, key=lambda s: (s.symbol, s.span, timeframe_ms(s.timeframe))):
            if (source.symbol, source.span) in seen:
                continue
            cells = row(name, strategies[name].cls, source)
            if cells is None:
                continue
            seen.add((source.symbol, source.span))
            lines.append("| " + " | ".join(cells) + " |")
            print("  ".join(cells), file=sys.stderr, flush=True)
        del tf
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data_dir())
    parser.add_argument("--print-only", action="store_true", help="do not edit the doc")
    parser.add_argument("--in-sample", action="store_true",
                        help="the in-sample ranges instead (printed, never written)")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"no candles at {args.data}: pass --data DIR", file=sys.stderr)
        raise SystemExit(2)
    text = table(args.data, args.in_sample)
    print(text)
    if args.print_only or args.in_sample:
        return
    doc = DOC.read_text()
    if BEGIN not in doc or END not in doc:
        print(f"{DOC}: markers {BEGIN} / {END} not found", file=sys.stderr)
        raise SystemExit(2)
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
    print(f"written to {DOC}", file=sys.stderr)


if __name__ == "__main__":
    main()
