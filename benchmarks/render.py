"""Render time per frame: the chart, the book ladder, and the whole screen, against 10 ms.

Run: ``uv run python benchmarks/render.py [--frames N] [--sizes 120x40,240x70]``. Prints median
and p99 per frame; the whole screen at each size (both by default: the budget holds at 240x70).

What a "frame" is, per part:

* **chart** (80x25, 200 one-minute candles, EMA set + Bollinger + VWAP + SMC on): the work the
  chart widget does when the snapshot moves: ``Overlays.update`` plus ``ChartRenderer.render``
  (Strips ready for Textual). Most frames are live-candle ticks (the close moves); every 20th
  frame a bar closes, which recomputes SMC zones and the closed-bar arrays. Reported apart,
  since the budget matters for both. A cold frame (empty caches: first draw, resize, theme)
  is reported too.
* **book** (20 levels a side, 40x44): ``build_ladder`` + ``ladder_strips`` (what the widget
  draws: the level rows made as finished Strips over the widget's style) + the conversion of
  the other lines to Strips that :class:`LineCacheWidget` does, with sizes changing every
  frame. (Before the level rows were built as Strips the widget drew ``render_ladder``'s Text
  rows, and this timed those and their conversion.)
* **screen** (the real :class:`TradetermApp`, 120x40 and 240x70, headless ``run_test`` with the tests'
  ``FakeEngine``, all overlays on): from the snapshot changing to the screen update encoded as
  terminal bytes. Per frame: ``engine.step()`` (a tick: live candle, trade, book), the app's
  ``_redraw()`` (every panel but the book and tape computes its lines and marks changed
  regions; the book and tape redraw on their own ticks, timed as frames of their own when
  due, as the app's depth timer does half a period later; these depth frames are counted in
  the screen's figures and reported alone too, "depth"), the widgets that
  asked for a repaint marked dirty on the screen (what their idle handlers do), then what
  Textual's update timer would do next: ``Screen._on_timer_update()`` (layout if needed, the
  compositor renders the dirty regions) with ``App._display`` wrapped to encode the update to
  escape sequences as a real terminal driver does (headless skips that). The untimed
  ``pilot.pause()`` between frames lets the app process its messages. This uses private
  Textual methods and attributes (and pauses the app's own redraw timers, so that no redraw
  happens untimed in a pause); Textual is pinned (pyproject), so they are stable here.

Times are wall-clock ``perf_counter`` on an otherwise idle machine; run it twice and look at
the second run if the first one warms file caches. The screen frames are also reported as the
CPU time of the thread that draws them (``thread_time``, "(CPU)"): the same work without the
time the machine gave to other processes, which on a busy (shared, CI) machine is most of a
wall-clock p99.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "ui"))  # the FakeEngine

BUDGET_MS = 10.0


def report(name: str, samples: list[float], extra: str = "") -> None:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    median = statistics.median(ms)
    verdict = "ok" if p99 <= BUDGET_MS else "OVER BUDGET"
    print(f"{name:<28} median {median:7.3f} ms   p99 {p99:7.3f} ms   "
          f"({len(ms)} frames, budget {BUDGET_MS:.0f} ms: {verdict}){extra}")


def candles(n: int, seed: int = 3):
    from tradeterm.core.models import Candle
    from tradeterm.indicators.frame import synthetic_candles

    frame = synthetic_candles(n, seed=seed)
    columns = ("open_time", "open", "high", "low", "close", "volume")
    return [Candle(*row) for row in frame.select(columns).iter_rows()]


def bench_chart(frames: int) -> None:
    from tradeterm.ui.chart.overlays import Overlays
    from tradeterm.ui.themes import TradingColors
    from tradeterm.ui.chart.render import ChartRenderer

    rng = random.Random(1)
    series = candles(200)
    colors = TradingColors()
    overlays = Overlays(("ema", "bollinger", "vwap", "smc"))
    renderer = ChartRenderer()

    def frame() -> None:
        data = tuple(series)
        overlays.update(data)
        renderer.render(data, width=80, height=25, colors=colors, symbol="BTC/USDT",
                        timeframe="1m", series=overlays.series, zones=overlays.zones)

    frame()  # imports TA-Lib and polars: not a frame
    cold = []
    for _ in range(20):
        renderer = ChartRenderer()
        start = time.perf_counter()
        frame()
        cold.append(time.perf_counter() - start)
    ticks, closes = [], []
    for i in range(frames):
        last = series[-1]
        if i % 20 == 19:  # a bar closes, a new one opens
            series.pop(0)
            series.append(replace(last, open_time=last.open_time + 60_000, open=last.close,
                                  high=last.close, low=last.close, volume=0.0))
            bucket = closes
        else:
            close = last.close * (1 + rng.gauss(0, 0.0003))
            series[-1] = replace(last, close=close, high=max(last.high, close),
                                 low=min(last.low, close), volume=last.volume + 0.1)
            bucket = ticks
        start = time.perf_counter()
        frame()
        bucket.append(time.perf_counter() - start)
    report("chart 80x25, live tick", ticks)
    report("chart 80x25, bar close", closes)
    report("chart 80x25, cold caches", cold)


def bench_book(frames: int) -> None:
    from rich.console import Console

    from tradeterm.core.models import BookSnapshot
    from tradeterm.ui.themes import TradingColors
    from rich.style import Style

    from tradeterm.ui.widgets.book import build_ladder, ladder_strips
    from tradeterm.ui.widgets.lines import to_strip

    rng = random.Random(2)
    console = Console(width=40, color_system="truecolor")
    colors = TradingColors()
    base = Style(color=colors.foreground, bgcolor=colors.background)  # the widget's CSS style
    samples = []
    for _ in range(frames):
        mid = 64_000 + rng.gauss(0, 5)
        book = BookSnapshot(
            "BTC/USDT",
            bids=tuple((round(mid - 0.05 - i * 0.1, 2), rng.uniform(0.01, 3)) for i in range(20)),
            asks=tuple((round(mid + 0.05 + i * 0.1, 2), rng.uniform(0.01, 3)) for i in range(20)),
        )
        start = time.perf_counter()
        lines = ladder_strips(build_ladder(book, 20), 40, 44, colors, base=base)
        [to_strip(line, 40, console, base) for line in lines]
        samples.append(time.perf_counter() - start)
    report("book 20 levels, 40x44", samples)


async def bench_screen(frames: int, size: tuple[int, int] = (120, 40),
                       second_pane: str | None = None) -> None:
    """The whole screen per tick (``second_pane``: a second indicator pane, e.g. "atr")."""
    from fake_engine import FakeEngine

    from tradeterm.config import Settings
    from tradeterm.ui.app import TradetermApp
    from tradeterm.ui.chart.overlays import load_indicators

    load_indicators()  # as in one process, where the engine has (an attached screen defers them)
    settings = Settings(symbols=["BTC/USDT", "ETH/USDT"], data_dir=Path(tempfile.mkdtemp()))
    engine = FakeEngine(settings, bars=500)
    app = TradetermApp(settings, engine)
    written: list[int] = []

    def display(screen, renderable) -> None:  # what the terminal driver would encode
        if renderable is not None and hasattr(renderable, "render_segments"):
            written.append(len(renderable.render_segments(app.console)))

    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.5)
        await pilot.press("o", "v", "z")  # EMA is on by default: now all four
        if second_pane is not None:
            app._panes.set(2, second_pane)
        await pilot.pause(0.2)
        app._display = display  # type: ignore[method-assign]
        for timer in list(app._timers):  # the frames below are the app's redraws, timed
            if timer.name in ("redraw", "redraw-depth"):
                timer.pause()
        samples, cpu = [], []
        depth, depth_cpu = [], []  # the depth frames again, apart from the tick frames

        def frame(draw) -> tuple[float, float]:
            start, start_cpu = time.perf_counter(), time.thread_time()
            draw()
            post_updates(app.screen)
            app.screen._on_timer_update()
            took = time.perf_counter() - start, time.thread_time() - start_cpu
            samples.append(took[0])
            cpu.append(took[1])
            return took

        def tick() -> None:
            engine.step()
            app._redraw()

        for _ in range(frames):
            frame(tick)
            await pilot.pause()
            if app._depth_pending and time.monotonic() >= app._depth_due:
                took = frame(app._redraw_depth)  # the book and tape's own tick (4 a second)
                depth.append(took[0])
                depth_cpu.append(took[1])
                await pilot.pause()
        average = sum(written) / max(1, len(written))
        name = f"screen {size[0]}x{size[1]}, tick" + (f", RSI + {second_pane}" if second_pane else "")
        report(name, samples, f"  ~{average:.0f} bytes/frame")
        report(f"{name} (CPU)", cpu)
        if depth:  # included above; here alone, since they are a different kind of frame
            report(f"screen {size[0]}x{size[1]}, depth", depth)
            report(f"screen {size[0]}x{size[1]}, depth (CPU)", depth_cpu)


def post_updates(screen) -> None:
    """What each widget's idle handler and the screen's Update handler would do next: the
    widgets that asked for a repaint join the screen's dirty set (Textual sends them on idle,
    so without this the compositor's work would fall in the untimed pause)."""
    for widget in screen.walk_children(with_self=False):
        if widget._repaint_required:
            widget._repaint_required = False
            if widget.display:
                screen._dirty_widgets.add(widget)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--sizes", default="120x40,240x70",
                        help="screen sizes COLSxROWS, comma-separated")
    parser.add_argument("--only-screen", action="store_true", help="skip the chart and book parts")
    args = parser.parse_args()
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    if not args.only_screen:
        bench_chart(args.frames)
        bench_book(args.frames)
    for size in sizes:
        asyncio.run(bench_screen(max(50, args.frames // 4), size))


def parse_size(text: str) -> tuple[int, int]:
    cols, _, rows = text.partition("x")
    return int(cols), int(rows)


if __name__ == "__main__":
    main()
