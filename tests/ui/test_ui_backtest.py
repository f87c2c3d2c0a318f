"""The backtest screen on generated candles in a temporary download store: the same trades as the
runner called directly, metrics, equity curve and chart; errors shown in the screen."""

from __future__ import annotations

import io
from pathlib import Path

from fake_engine import FakeEngine
from rich.console import Console
from textual.widgets import DataTable, Input, Select, Static
from ui_helpers import wait_for

from tradeterm.backtest.data.store import candle_path, write_atomic
from tradeterm.backtest.metrics import result_metrics
from tradeterm.backtest.runner import BacktestConfig, rules_for, run_backtest
from tradeterm.config import Settings
from tradeterm.core.display import fmt_quote
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.strategy.loader import load_directory
from tradeterm.ui.app import TradetermApp
from tradeterm.ui.screens.backtest import BacktestScreen
from tradeterm.backtest.job import REPORT_BARS, TRADE_COLUMNS, trade_fills
from tradeterm.backtest.report import display_row, market_format, trade_rows
from tradeterm.ui.widgets.chart import CandleChart

STRATEGIES = Path(__file__).resolve().parents[2] / "strategies"


TF = "1h"  # ema_cross's own timeframe: the screen picks it when the strategy is chosen


def store_candles(data_dir: Path, bars: int = 4000):
    frame = synthetic_candles(bars, seed=11, start_price=60_000.0, interval_ms=3_600_000)
    write_atomic(frame, candle_path(data_dir, "BTCUSDT", TF))
    return frame


def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, symbols=["BTC/USDT"], strategies={"dir": STRATEGIES})


def shown(bt: BacktestScreen, selector: str) -> str:
    """What a Static of the screen shows, as plain text, wrapping undone."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(bt.query_one(selector, Static).content)
    return " ".join(console.export_text().split())


def screen(app: TradetermApp) -> BacktestScreen:
    assert isinstance(app.screen, BacktestScreen)
    return app.screen


def ready(app: TradetermApp) -> bool:
    """The screen is up, the strategies are loaded and ema_cross's parameters shown."""
    if not isinstance(app.screen, BacktestScreen) or not app.screen.query("#param-fast"):
        return False
    return app.screen.query_one("#bt-strategy", Select).value == "ema_cross"


async def open_screen(app: TradetermApp, pilot) -> BacktestScreen:
    await pilot.press("t")
    await wait_for(pilot, lambda: ready(app), timeout=30)
    return screen(app)


async def test_backtest_screen_runs_ema_cross_like_the_runner(tmp_path: Path):
    config = settings(tmp_path)
    candles = store_candles(tmp_path)
    strategy = load_directory(STRATEGIES).strategies["ema_cross"].cls()
    direct = run_backtest(strategy, candles,
                          BacktestConfig.from_settings(config, rules_for("BTC/USDT")),
                          symbol="BTC/USDT", timeframe=TF)
    assert len(direct.trades) > 3  # the data must make the comparison mean something

    app = TradetermApp(config, engine=FakeEngine(config))
    async with app.run_test(size=(120, 40)) as pilot:
        bt = await open_screen(app, pilot)
        await wait_for(pilot, lambda: f"BTCUSDT_{TF}.parquet: 4,000 bars" in shown(bt, "#bt-data"))
        assert bt.query_one("#param-fast", Input).value == "9"  # the declared default
        labels = [str(label.content) for label in bt.query("#bt-params Label").results(Static)]
        assert labels[:3] == ["Parameters", "fast (2..50)", "slow (5..100)"]

        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: bt.report is not None, timeout=60)
        report = bt.report
        # the engine's job gave the runner's trades: the table shows them, newest first, as
        # the CLI report shows them
        assert report.trades_total == len(direct.trades)
        fmt = market_format(direct)
        expected = [tuple(display_row(row, fmt)[c] for c in TRADE_COLUMNS)
                    for row in reversed(trade_rows(direct))]
        table_rows = bt.query_one("#bt-trades", DataTable)
        assert [tuple(str(c) for c in table_rows.get_row_at(i))
                for i in range(table_rows.row_count)] == expected
        assert f"{len(direct.trades)} trades over 4,000 bars" in shown(bt, "#bt-status")
        metrics = result_metrics(direct)
        table = shown(bt, "#bt-metrics")
        assert f"│ trades │ {metrics.stats.trades} │" in table
        assert f"│ net PnL │ {fmt_quote(metrics.stats.net_pnl, 'USDT')} │" in table
        assert f"{fmt_quote(direct.final_balance, 'USDT')}" in table
        assert "profit factor" in table and "max drawdown" in table and "Sharpe" in table
        assert "Equity" in shown(bt, "#bt-equity") and "Drawdown" in shown(bt, "#bt-equity")

        chart = bt.query_one("#bt-chart", CandleChart)
        assert len(chart._data[0]) == REPORT_BARS and chart._data[0][-1].open_time == int(
            candles["open_time"][-1])
        first = chart._data[0][0].open_time
        assert report.fills == tuple(f for f in trade_fills(direct) if f.timestamp >= first)
        assert report.fills  # the chart has trades to mark

        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, BacktestScreen))


async def test_backtest_screen_shows_bad_parameters_and_missing_data(tmp_path: Path):
    config = settings(tmp_path)
    store_candles(tmp_path, bars=600)
    app = TradetermApp(config, engine=FakeEngine(config))
    async with app.run_test(size=(120, 40)) as pilot:
        bt = await open_screen(app, pilot)
        bt.query_one("#param-fast", Input).value = "500"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "parameter fast" in shown(bt, "#bt-status"))
        assert "less than or equal to 50" in shown(bt, "#bt-status")

        bt.query_one("#param-fast", Input).value = "9"
        bt.query_one("#bt-symbol", Input).value = "ETH/USDT"  # nothing stored for it
        await wait_for(pilot, lambda: f"tradeterm download ETH/USDT --timeframe {TF}"
                       in shown(bt, "#bt-data"))
        await pilot.press("ctrl+r")
        await wait_for(pilot,
                       lambda: f"no stored candles for ETH/USDT {TF}" in shown(bt, "#bt-status"))

        bt.query_one("#bt-symbol", Input).value = "BTC/USDT"
        bt.query_one("#bt-from", Input).value = "yesterday"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "expected a date like" in shown(bt, "#bt-status"))
        assert bt.report is None


async def test_backtest_form_labels_when_parameters_shown_then_none_cut(tmp_path: Path):
    """Seen trying the demo: once the parameters made the form scroll, its scrollbar cut the
    ``From`` label's closing parenthesis at 120x40."""
    from textual.widgets import Label

    config = settings(tmp_path)
    store_candles(tmp_path, bars=500)
    app = TradetermApp(config, engine=FakeEngine(config))
    async with app.run_test(size=(120, 40)) as pilot:
        bt = await open_screen(app, pilot)
        await pilot.pause()
        form = bt.query_one("#bt-form")
        assert form.scrollbars_enabled[0]  # the parameters make it scroll: the case seen
        labels = list(form.query(Label))
        assert any(str(label.content).startswith("From") for label in labels)
        right = form.scrollable_content_region.right
        for label in labels:
            text = str(label.content)
            assert label.content_region.x + len(text) <= right, f"{text!r} is cut"
