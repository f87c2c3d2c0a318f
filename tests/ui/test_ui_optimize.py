"""The backtest screen's optimisation view, on the real app with the engine's own request path
(``FakeEngine.ask`` is the engine's handler table: the search runs in the backtest child on
generated candles in a temporary store): the progress bar while it runs, then the heatmap, the
best equity curves and the trial table."""

from __future__ import annotations

import math
from pathlib import Path

from fake_engine import FakeEngine
from rich.color import Color
from test_ui_backtest import open_screen, settings, shown, store_candles
from textual.widgets import DataTable, Input, ProgressBar, Select, Static, TabbedContent
from ui_helpers import wait_for

from tradeterm.core.events import OptimizeProgressed
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.screens.optimize_view import OptimizeView
from tradeterm.ui.themes import TradingColors


async def test_the_optimisation_view_shows_progress_then_the_heatmap(tmp_path: Path) -> None:
    config = settings(tmp_path)
    store_candles(tmp_path, bars=4000)
    app = TradetermApp(config, engine=FakeEngine(config))
    async with app.run_test(size=(120, 40)) as pilot:
        bt = await open_screen(app, pilot)
        view = bt.query_one(OptimizeView)
        # the first two numeric parameters are mapped by default
        await wait_for(pilot, lambda: view.query_one("#opt-x", Select).value == "fast")
        assert view.query_one("#opt-y", Select).value == "slow"
        view.query_one("#opt-method", Select).value = "grid"
        trials = view.query_one("#opt-trials", Input)
        trials.value = ""
        trials.focus()
        await pilot.press("3")  # grid: 3 values per parameter
        seen: list[tuple[str, float, float | None]] = []  # the bar after each progress event
        bar = view.query_one("#opt-progress", ProgressBar)
        progressed = view.progressed

        def watch(event: OptimizeProgressed) -> None:
            progressed(event)
            if bar.display:
                seen.append((event.phase, bar.progress, bar.total))

        view.progressed = watch  # type: ignore[method-assign]
        await pilot.press("enter")  # enter in the trials field runs the search
        assert bt.query_one("#bt-tabs", TabbedContent).active == "tab-optimize"
        await wait_for(pilot, lambda: view.report is not None, timeout=120)
        # fast {2, 26, 50} x slow {5, 52, 100}: (26, 5) and (50, 5) break fast < slow
        assert [(p, t) for phase, p, t in seen if phase == "trials"] == [
            (k, 7) for k in range(1, 8)], seen
        assert not bar.display  # hidden once finished
        report = view.report
        assert report is not None and len(report.trials) == 7 and report.refused == 2
        text = shown(bt, "#opt-heatmap")
        assert "2 26 50" in text and "· never tried" in text
        rows = {label: line for label, line in zip(
            ("5", "52", "100"), [ln for ln in str(view.query_one("#opt-heatmap", Static)
                                              .content).splitlines()[2:5]], strict=True)}
        by = {dict(t.params)["slow"]: [] for t in report.trials}
        for t in report.trials:
            by[dict(t.params)["slow"]].append(t)
        for slow, line in rows.items():
            assert line.split()[0] == slow
            shown_cells = line.split()[1:]
            want = {dict(t.params)["fast"]: f"{t.objective:.2f}" for t in by.get(slow, [])}
            assert shown_cells == [want.get(fast, "·") for fast in ("2", "26", "50")], line
        # the best cell is drawn in the profit colour, the worst in the loss colour
        heat = view.query_one("#opt-heatmap", Static).content
        best, worst = f"{report.trials[0].objective:.2f}", f"{report.trials[-1].objective:.2f}"
        colours = {heat.plain[s.start:s.end].strip(): s.style.bgcolor for s in heat.spans
                   if not isinstance(s.style, str) and s.style.bgcolor is not None}
        palette = TradingColors()
        assert colours[best].triplet == Color.parse(palette.profit).triplet
        assert colours[worst].triplet == Color.parse(palette.loss).triplet
        assert all(math.isfinite(t.objective) for t in report.trials)

        table = view.query_one("#opt-trials-table", DataTable)
        assert table.row_count == 7
        first = [str(c) for c in table.get_row_at(0)]
        assert first[2:5] == [dict(report.trials[0].params)["fast"],
                              dict(report.trials[0].params)["slow"], best]
        assert "Equity of the best 5" in shown(bt, "#opt-curves")
        assert [c.trial for c in report.curves] == [t.number for t in report.trials[:5]]

        # keyboard: ctrl+g walks the results (heatmap, best curves, trials); ctrl+o is there
        inner = view.query_one("#opt-tabs", TabbedContent)
        assert inner.active == "opt-tab-heatmap"
        await pilot.press("ctrl+g")
        assert inner.active == "opt-tab-curves"
        await pilot.press("ctrl+g")
        assert inner.active == "opt-tab-trials"
        bt.query_one("#bt-tabs", TabbedContent).active = "tab-metrics"
        await pilot.press("ctrl+g")  # from another tab: back to the optimisation view
        assert bt.query_one("#bt-tabs", TabbedContent).active == "tab-optimize"

        # the search is the engine's: a screen opened afterwards shows its result
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not bt)
        again = await open_screen(app, pilot)
        await wait_for(pilot, lambda: again.query_one(OptimizeView).report == report)


async def test_the_optimisation_view_says_what_is_wrong(tmp_path: Path) -> None:
    config = settings(tmp_path)
    store_candles(tmp_path, bars=600)
    app = TradetermApp(config, engine=FakeEngine(config))
    async with app.run_test(size=(120, 40)) as pilot:
        bt = await open_screen(app, pilot)
        view = bt.query_one(OptimizeView)
        await wait_for(pilot, lambda: view.query_one("#opt-y", Select).value == "slow")
        view.query_one("#opt-y", Select).value = "fast"
        await pilot.press("ctrl+o")  # from the metrics tab: shows the form, runs nothing
        assert "ctrl+o runs it" in shown(bt, "#opt-status")
        await pilot.press("ctrl+o")
        assert "choose two different parameters" in shown(bt, "#opt-status")

        # the engine refuses: with fast fixed at 60 every grid point breaks its bound (<= 50)
        view.query_one("#opt-x", Select).value = "trend"
        view.query_one("#opt-y", Select).value = "atr_n"
        view.query_one("#opt-method", Select).value = "grid"
        bt.query_one("#param-fast", Input).value = "60"
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: "refused" in shown(bt, "#opt-status"), timeout=60)
        # trials 50 for a grid: above 40 values per parameter it is a total, 7 x 7
        assert "all 49 candidates are refused by ema_cross" in shown(bt, "#opt-status")
        assert view.report is None and not view.query_one("#opt-progress").display


async def test_ctrl_o_from_another_tab_opens_the_form_and_starts_nothing(tmp_path: Path) -> None:
    config = settings(tmp_path)
    store_candles(tmp_path, bars=600)
    app = TradetermApp(config, engine=FakeEngine(config))
    async with app.run_test(size=(120, 40)) as pilot:
        bt = await open_screen(app, pilot)
        view = bt.query_one(OptimizeView)
        tabs = bt.query_one("#bt-tabs", TabbedContent)
        tabs.active = "tab-metrics"
        await pilot.pause()
        started: list[dict[str, object]] = []
        bt._start_optimize = started.append  # type: ignore[method-assign]
        await pilot.press("ctrl+o")
        assert tabs.active == "tab-optimize"
        assert started == [] and "ctrl+o runs it" in shown(bt, "#opt-status")
        await pilot.press("ctrl+o")  # on the form: now it runs
        assert len(started) == 1 and view.report is None
