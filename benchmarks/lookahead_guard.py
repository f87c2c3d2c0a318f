"""What the look-ahead guard costs on 130k bars, for each shipped strategy.

    uv run --extra test python benchmarks/lookahead_guard.py [--bars 130000] [--cuts 20]
        [--threads 2] [--only ema_cross,rsi_reversion]

On generated 1-minute candles (seeded), for each strategy in ``strategies/``: one full
evaluation (the reference), the random prefix cuts (the guard before issue 13), the check at
every fired bar (each one a recomputation on the window ending there), and the whole guard as
``backtest`` runs it the first time and then from its cache. Prints seconds, the fired bars,
the cost per fired bar, and the bars where only the short window disagreed (settled exactly).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.api import normalise_output
from tradeterm.strategy.bar_guard import check_signal_bars
from tradeterm.strategy.guard import cached_guard
from tradeterm.strategy.loader import load_directory
from tradeterm.strategy.lookahead import check_lookahead

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=130_000)
    parser.add_argument("--cuts", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", default="", help="comma-separated strategy names")
    args = parser.parse_args()
    frame = synthetic_candles(args.bars, seed=3)
    loaded = load_directory(ROOT / "strategies")
    only = {n for n in args.only.split(",") if n}
    print(f"{args.bars:,} generated 1m bars, {args.cuts} prefix cuts, {args.threads} thread(s)")
    print(f"{'strategy':<20}{'full s':>8}{'cuts s':>8}{'fired':>8}{'bars s':>8}"
          f"{'ms/bar':>8}{'win-only':>9}{'guard s':>9}{'cached s':>9}")
    for name, found in sorted(loaded.strategies.items()):
        if only and name not in only:
            continue
        strategy = found.cls()
        start = time.perf_counter()
        raw = strategy.compute(frame)
        evaluated = normalise_output(raw, frame.height, strategy.warmup, name)
        full_s = time.perf_counter() - start
        start = time.perf_counter()
        cut = check_lookahead(strategy, frame, cuts=args.cuts, seed=0, full=raw)
        cuts_s = time.perf_counter() - start
        start = time.perf_counter()
        bars = check_signal_bars(strategy, frame, evaluated, threads=args.threads)
        bars_s = time.perf_counter() - start
        with tempfile.TemporaryDirectory() as cache:
            start = time.perf_counter()
            verdict = cached_guard(found.file, strategy, frame, cuts=args.cuts,
                                   cache_dir=Path(cache), threads=args.threads)
            guard_s = time.perf_counter() - start
            start = time.perf_counter()
            again = cached_guard(found.file, strategy, frame, cuts=args.cuts,
                                 cache_dir=Path(cache), threads=args.threads)
            cached_s = time.perf_counter() - start
        assert cut.ok and bars.ok and verdict.ok and again.cached, (name, verdict.line)
        per_bar = 1000 * bars_s / max(1, bars.checked)
        print(f"{name:<20}{full_s:>8.2f}{cuts_s:>8.2f}{bars.checked:>8}{bars_s:>8.1f}"
              f"{per_bar:>8.2f}{bars.window_only:>9}{guard_s:>9.1f}{cached_s:>9.3f}", flush=True)


if __name__ == "__main__":
    main()
