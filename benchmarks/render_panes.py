"""Render time per frame with two indicator panes, and the cost of one pane per indicator.

Run: ``uv run python benchmarks/render_panes.py [--frames N]``. Prints median and p99 against the
10 ms budget of ``benchmarks/render.py``:

* **pane**: one :class:`IndicatorPane` (500 candles of the tests' ``FakeEngine``, an 80-column
  plot, 5 rows) per choice: the series for the candles after a tick of the live candle
  (``values_for``) plus its lines (``build_lines``), what a pane does when the snapshot moves.
  ``strategy`` is a strategy's column (values by open time, as the engine sends them).
* **screen**: ``render.py``'s whole-screen frame (the real app at 120x40, all overlays on, a
  tick, the redraw, the compositor, the update encoded as terminal bytes) with pane 1 RSI and
  pane 2 each of ATR, volume and relative volume.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "ui"))  # the FakeEngine
sys.path.insert(0, str(REPO / "benchmarks"))

from render import bench_screen, report  # noqa: E402


def bench_panes(frames: int) -> None:
    from fake_engine import FakeEngine

    from tradeterm.config import Settings
    from tradeterm.ui.chart.overlays import load_indicators
    from tradeterm.ui.widgets.indicator_pane import MODES, IndicatorPane, plot_choice

    load_indicators()  # what the pane computes with (a screen in one process has them)

    settings = Settings(symbols=["BTC/USDT"], data_dir=Path(tempfile.mkdtemp()))
    engine = FakeEngine(settings, bars=500)
    for mode in (*MODES, plot_choice("strategy", "column")):
        pane = IndicatorPane(mode=mode)
        pane.plot = {c.open_time: c.close for c in engine.snapshot().market.candles}
        samples = []
        for _ in range(frames):
            engine.step()
            pane._candles = engine.snapshot().market.candles
            start = time.perf_counter()
            pane.build_lines(88, 5)
            samples.append(time.perf_counter() - start)
        report(f"pane {mode.split(':')[0]}, 88x5", samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000)
    args = parser.parse_args()
    bench_panes(args.frames)
    for second in ("atr", "volume", "rvol"):
        asyncio.run(bench_screen(max(50, args.frames // 4), (120, 40), second))


if __name__ == "__main__":
    main()
