"""The backtest screen's optimisation view (its "Optimise" tab, ``ctrl+o`` runs it): the search's
own choices (method, trials, objective, the two parameters to map), a progress bar while the
engine searches, then a heatmap of the best objective over the two parameters, the equity curves
of the best few trials and the trial table.

The strategy, market, range and the other parameters' values are the backtest form's (the screen
adds them to the request). The search runs in the engine (``backtest.optimize``, the
``optimize`` command's machinery in the backtest child); what arrives is display-ready
(``OptimizeProgressed``, ``OptimizeFinished``), so this view computes nothing but colours.
"""

from __future__ import annotations

import math
import re
from typing import Any

from rich.color import Color, blend_rgb
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.widgets import (
    Button,
    DataTable,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from tradeterm.core.display import fmt_quote, quote_of
from tradeterm.core.events import (
    OPTIMIZE_METHODS,
    OPTIMIZE_OBJECTIVES,
    OptimizeHeatmap,
    OptimizeProgressed,
    OptimizeReport,
)
from tradeterm.ui.themes import TradingColors

METHODS = OPTIMIZE_METHODS
OBJECTIVES = OPTIMIZE_OBJECTIVES
SIDE_CELLS = ("trades", "PF", "ret %", "DD %", "sharpe")
_BACKGROUND = re.compile(r"\x1b\[48;5;\d+m")


def _cell_text(value: float | None) -> str:
    if value is None:
        return "·"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.2f}"


def heatmap_text(h: OptimizeHeatmap, colors: TradingColors) -> Text:
    """The grid as coloured cells (worst in the loss colour, best in the profit colour), rows
    and columns labelled with the parameter values, and a legend; a cell no trial landed in is
    a dim dot."""
    finite = [v for row in h.cells for v in row if v is not None and math.isfinite(v)]
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    worst, best = Color.parse(colors.loss).get_truecolor(), Color.parse(
        colors.profit).get_truecolor()
    width = max([6, *(len(v) + 1 for v in h.x_values),
                 *(len(_cell_text(v)) + 2 for row in h.cells for v in row)])
    label = max([len(h.y), *(len(v) for v in h.y_values)]) + 1
    out = Text(no_wrap=True, overflow="crop")  # a wide grid scrolls sideways, never wraps
    out.append(f"{h.y} ↓  {h.x} →".ljust(label) + "\n", style="bold")
    out.append(" " * label)
    for column in h.x_values:
        out.append(column.rjust(width), style="bold")
    out.append("\n")
    for name, row in zip(h.y_values, h.cells, strict=True):
        out.append(name.rjust(label - 1) + " ", style="bold")
        for value in row:
            if value is None:
                out.append("·".center(width), style="dim")
                continue
            if math.isinf(value):
                share = 1.0 if value > 0 else 0.0
            else:
                share = (value - low) / (high - low) if high > low else 1.0
            if h.lower_is_better:
                share = 1.0 - share
            shade = Color.from_triplet(blend_rgb(worst, best, share))
            out.append(_cell_text(value).center(width),
                       style=Style(color="black", bgcolor=shade, bold=share >= 1.0))
        out.append("\n")
    out.append("\nworse ")
    for k in range(8):
        out.append("  ", style=Style(bgcolor=Color.from_triplet(blend_rgb(worst, best, k / 7))))
    direction = "lower is better" if h.lower_is_better else "higher is better"
    out.append(f" better   ({_cell_text(low)} .. {_cell_text(high)}, {direction})\n")
    out.append("· never tried; each cell shows its best trial", style="dim")
    return out


def curves_chart(report: OptimizeReport, width: int, height: int) -> str:
    """The best trials' equity curves in one plot (plotext), one colour each, with a legend;
    the theme's background is kept (plotext's is removed)."""
    import plotext as plt

    fig = plt.figure
    fig.clear()
    for curve in report.curves:  # drawn one after another: each gets its own colour
        fig.draw(fig.signal(list(curve.equity)).label(curve.label).lines())
    fig.plot_size(width, height)
    fig.theme("dark")
    return _BACKGROUND.sub("", str(fig.build().string()))


class OptimizeView(Vertical):
    """See the module docstring. The screen calls :meth:`set_params`, :meth:`choices`,
    :meth:`progressed`, :meth:`finished` and :meth:`failed`."""

    DEFAULT_CSS = """
    OptimizeView { height: 1fr; }
    OptimizeView .opt-row { height: 3; }
    OptimizeView .opt-row Label { padding: 1 1 0 0; color: $text-muted; }
    OptimizeView #opt-method, OptimizeView #opt-objective { width: 18; }
    OptimizeView #opt-x, OptimizeView #opt-y { width: 18; }
    OptimizeView #opt-trials { width: 10; }
    OptimizeView #opt-run { min-width: 16; margin-left: 1; }
    OptimizeView #opt-status { height: auto; }
    OptimizeView #opt-status.-error { color: $error; }
    OptimizeView #opt-progress { height: 1; }
    OptimizeView #opt-tabs { height: 1fr; }
    OptimizeView DataTable { height: 1fr; }
    OptimizeView #opt-heatmap { width: auto; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.report: OptimizeReport | None = None
        self.symbol = ""

    def compose(self) -> ComposeResult:
        with Horizontal(classes="opt-row"):
            yield Label("method")
            yield Select([(m, m) for m in METHODS], value="tpe", allow_blank=False,
                         id="opt-method")
            yield Label("trials")
            yield Input("50", type="integer", id="opt-trials",
                        tooltip="tpe, random: trials; grid: values per parameter")
            yield Label("objective")
            yield Select([(o, o) for o in OBJECTIVES], value="sharpe", allow_blank=False,
                         id="opt-objective")
        with Horizontal(classes="opt-row"):
            yield Label("map x")
            yield Select([], prompt="parameter", id="opt-x")
            yield Label("y")
            yield Select([], prompt="parameter", id="opt-y")
            yield Button("Optimise (ctrl+o)", id="opt-run", variant="primary")
        yield Static("choose the search and press ctrl+o (the strategy, market, range and the "
                     "other parameters are the form's)", id="opt-status")
        yield ProgressBar(total=1, show_eta=True, id="opt-progress")
        with TabbedContent(id="opt-tabs"):
            with TabPane("Heatmap", id="opt-tab-heatmap"):
                yield ScrollableContainer(Static("", id="opt-heatmap", expand=False,
                                                 shrink=False), id="opt-heatmap-box")
            with TabPane("Best curves", id="opt-tab-curves"):
                yield Static("", id="opt-curves")
            with TabPane("Trials", id="opt-tab-trials"):
                yield DataTable(id="opt-trials-table", zebra_stripes=True, cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#opt-progress").display = False

    # -- the form -------------------------------------------------------------------------------

    def set_params(self, params: list[Any]) -> None:
        """The strategy's parameters ``(name, kind, default, bounds)``: the bounded numeric
        ones can be mapped; the first two are chosen."""
        numeric = [str(p[0]) for p in params if p[1] in ("integer", "number") and p[3]
                   and not str(p[3]).startswith("..") and not str(p[3]).endswith("..")]
        for key, index in (("#opt-x", 0), ("#opt-y", 1)):
            select = self.query_one(key, Select)
            select.set_options([(n, n) for n in numeric])
            if len(numeric) > index:
                select.value = numeric[index]

    def choices(self) -> dict[str, Any] | str:
        """The search's part of a ``backtest.optimize`` request, or what is missing."""
        xs, ys = self.query_one("#opt-x", Select), self.query_one("#opt-y", Select)
        x, y = xs.value, ys.value
        if xs.is_blank() or ys.is_blank():
            return "choose the two parameters to map"
        if x == y:
            return "choose two different parameters to map"
        method = str(self.query_one("#opt-method", Select).value)
        text = self.query_one("#opt-trials", Input).value.strip()
        if not text.isdigit() or int(text) < 1:
            return "trials: a whole number of at least 1"
        count = int(text)
        args: dict[str, Any] = {"method": method, "x": str(x), "y": str(y),
                                "objective": str(self.query_one("#opt-objective", Select).value)}
        if method == "grid":
            args["steps"] = max(2, count if count <= 40 else math.isqrt(count))
        else:
            args["trials"] = count
        return args

    def next_result(self) -> None:
        """The next of the heatmap, the best curves and the trial table (``ctrl+g``)."""
        tabs = self.query_one("#opt-tabs", TabbedContent)
        order = ["opt-tab-heatmap", "opt-tab-curves", "opt-tab-trials"]
        tabs.active = order[(order.index(tabs.active) + 1) % len(order)] \
            if tabs.active in order else order[0]

    def status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#opt-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    # -- the engine's events --------------------------------------------------------------------

    def progressed(self, event: OptimizeProgressed) -> None:
        bar = self.query_one("#opt-progress", ProgressBar)
        bar.display = True
        bar.update(total=max(1, event.total), progress=event.done)
        best = f", best {event.best}" if event.best else ""
        self.status(f"{event.strategy} on {event.symbol} {event.timeframe}: {event.phase} "
                    f"{event.done}/{event.total}{best}")

    def failed(self, reason: str) -> None:
        self.query_one("#opt-progress", ProgressBar).display = False
        self.status(reason, error=True)

    def finished(self, report: OptimizeReport, symbol: str, width: int, height: int) -> None:
        self.report, self.symbol = report, symbol
        self.query_one("#opt-progress", ProgressBar).display = False
        refused = f", {report.refused} refused by the constraints" if report.refused else ""
        failed = f", {report.failed} failed" if report.failed else ""
        self.status(f"{report.title}: {len(report.trials)} trials{refused}{failed}")
        colors = getattr(self.app, "market_colors", TradingColors())
        self.query_one("#opt-heatmap", Static).update(heatmap_text(report.heatmap, colors))
        curves = self.query_one("#opt-curves", Static)
        if report.curves and all(len(c.equity) >= 2 for c in report.curves):
            text = Text(f"Equity of the best {len(report.curves)} over all {report.bars:,} "
                        f"bars (the first {report.in_sample_bars:,} in-sample)\n",
                        style="bold")
            text.append_text(Text.from_ansi(curves_chart(report, width, height - 1)))
            curves.update(text)
        else:
            curves.update("no equity curve (too few bars)")
        self._show_trials(report, symbol)

    def _show_trials(self, report: OptimizeReport, symbol: str) -> None:
        table = self.query_one("#opt-trials-table", DataTable)
        table.clear(columns=True)
        names = [n for n, _ in report.trials[0].params] if report.trials else []
        table.add_columns("#", "trial", *names, report.objective,
                          *(f"IS {c}" for c in SIDE_CELLS), *(f"OOS {c}" for c in SIDE_CELLS),
                          "IS net PnL")
        quote = quote_of(symbol)
        for rank, trial in enumerate(report.trials, 1):
            oos = trial.out_of_sample or ("-",) * len(SIDE_CELLS)
            table.add_row(str(rank), str(trial.number), *(v for _, v in trial.params),
                          _cell_text(trial.objective), *trial.in_sample, *oos,
                          fmt_quote(trial.net_pnl, quote, signed=True) if trial.net_pnl
                          else "-")
