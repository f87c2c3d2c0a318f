"""Showing and exporting a backtest: rich tables, a plotext equity/drawdown chart (text), JSON
(metrics, settings and trades) and CSV (one row per trade).

Decimals are written as strings in JSON and CSV so the exact money survives the round trip;
the tables (terminal and the backtest screen) show them on the money display policy
(:mod:`tradeterm.core.display`): prices on the market's tick, quantities on its step, quote
amounts at the quote currency's decimals, R, ratios and percentages with 2.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tradeterm.backtest.metrics import Metrics, drawdown_series
from tradeterm.backtest.runner import BacktestResult
from tradeterm.core.display import MarketFormat, fmt_pct, fmt_r, quote_of
from tradeterm.journal.views import in_r

TRADE_FIELDS = (
    "side", "quantity", "entry_time", "entry_price", "exit_time", "exit_price", "exit_reason",
    "stop", "target", "pnl", "fees", "r_multiple", "mae", "mfe", "signal_bar", "entry_bar",
    "exit_bar", "mae_r", "mfe_r",
)
CHART_POINTS = 200


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _num(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def trade_rows(result: BacktestResult, last: int | None = None) -> list[dict[str, Any]]:
    """One dict per trade (the ``last`` ones only, if given), money as strings (exact)."""
    rows = []
    trades = result.trades
    for bt in (trades if last is None else trades[max(0, len(trades) - last):]):
        t = bt.trade
        rows.append({
            "side": "long" if t.side == "buy" else "short",
            "quantity": _num(t.quantity),
            "entry_time": _iso(t.opened_ms), "entry_price": _num(t.entry_price),
            "exit_time": _iso(t.closed_ms), "exit_price": _num(t.exit_price),
            "exit_reason": bt.exit_reason,
            "stop": _num(bt.stop), "target": _num(bt.target),
            "pnl": _num(t.pnl), "fees": _num(t.fees), "r_multiple": _num(t.r_multiple),
            "mae": _num(t.mae), "mfe": _num(t.mfe),
            "signal_bar": bt.signal_bar, "entry_bar": bt.entry_bar, "exit_bar": bt.exit_bar,
            # over the initial risk, as the journal shows live trades (None: no stop)
            "mae_r": _num(in_r(t.mae, bt.initial_risk)),
            "mfe_r": _num(in_r(t.mfe, bt.initial_risk)),
        })
    return rows


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return _num(value)


def to_json(result: BacktestResult, metrics: Metrics) -> dict[str, Any]:
    """Everything about a run as plain JSON types."""
    cfg = asdict(result.config)
    cfg["rules"] = {k: str(v) for k, v in asdict(result.config.rules).items()}
    return _jsonable({
        "strategy": result.strategy, "symbol": result.symbol, "timeframe": result.timeframe,
        "params": result.params, "config": cfg,
        "start": _iso(int(result.open_time[0])) if result.open_time.size else None,
        "end": _iso(int(result.open_time[-1])) if result.open_time.size else None,
        "metrics": asdict(metrics), "skipped_entries": result.skipped,
        "trades": trade_rows(result),
    })


def write_json(path: Path, result: BacktestResult, metrics: Metrics) -> None:
    path.write_text(json.dumps(to_json(result, metrics), indent=2) + "\n")


def write_csv(path: Path, result: BacktestResult) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=TRADE_FIELDS)
        writer.writeheader()
        writer.writerows(trade_rows(result))


def market_format(result: BacktestResult) -> MarketFormat:
    """The run's market on the display policy: its rules' tick and step, its quote."""
    rules = result.config.rules
    return MarketFormat(rules.tick or None, rules.step or None, quote_of(result.symbol or ""))


def _pct(value: Any) -> str:
    return "-" if value is None else f"{fmt_pct(value)} %"


def _ratio(value: Any) -> str:
    """A ratio (profit factor, Sharpe, ...): 2 decimals like R."""
    return fmt_r(value)


def display_row(row: dict[str, Any], fmt: MarketFormat) -> dict[str, str]:
    """A :func:`trade_rows` row as shown: prices on the tick, quantity on the step, PnL and
    fees at the quote's decimals, R with 2 (the exact strings stay in CSV and JSON)."""
    shown = {k: "" if v is None else str(v) for k, v in row.items()}
    for key in ("entry_price", "exit_price", "stop", "target"):
        if row.get(key) is not None:
            shown[key] = fmt.price(Decimal(row[key]))
    for key in ("pnl", "fees", "mae", "mfe"):
        if row.get(key) is not None:
            shown[key] = fmt.amount(Decimal(row[key]))
    if row.get("quantity") is not None:
        shown["quantity"] = fmt.qty(Decimal(row["quantity"]))
    for key in ("r_multiple", "mae_r", "mfe_r"):
        if row.get(key) is not None:
            shown[key] = fmt_r(Decimal(row[key]))
    return shown


def summary_title(result: BacktestResult) -> str:
    return f"{result.strategy} on {result.symbol or '?'} {result.timeframe}"


def summary_table(result: BacktestResult, metrics: Metrics) -> Table:
    table = Table(title=summary_title(result), show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right")
    for name, value in summary_rows(result, metrics):
        table.add_row(name, value)
    return table


def summary_rows(result: BacktestResult, metrics: Metrics) -> list[tuple[str, str]]:
    """The report's metrics as (label, value shown): the terminal's table and the backtest
    screen's (which gets them from the engine as plain text) show the same."""
    s, dd = metrics.stats, metrics.drawdown
    q = market_format(result).amount
    rows = [
        ("bars", f"{metrics.bars:,}"),
        ("trades", str(s.trades)),
        ("win rate", _pct(s.win_rate * 100 if s.win_rate is not None else None)),
        ("profit factor", _ratio(s.profit_factor)),
        ("expectancy", q(s.expectancy)),
        ("average R", fmt_r(s.average_r)),
        ("net PnL", q(s.net_pnl)),
        ("fees", q(s.fees)),
        ("final balance", f"{q(metrics.final_balance)} (from {q(metrics.starting_balance)})"),
        ("return", _pct(metrics.return_pct)),
        ("max drawdown", f"{q(dd.depth)} ({_pct(dd.depth_pct)})"),
        ("drawdown duration", f"{dd.duration_bars:,} bars ({metrics.drawdown_ms / 3_600_000:,.1f} h)"),
        ("Sharpe", _ratio(metrics.sharpe)),
        ("Sortino", _ratio(metrics.sortino)),
        ("CAGR", _pct(metrics.cagr * 100 if metrics.cagr is not None else None)),
        ("Calmar", _ratio(metrics.calmar)),
        ("exposure", _pct(metrics.exposure_pct)),
        ("best / worst trade", f"{q(s.best)} / {q(s.worst)}"),
        ("average MAE / MFE", f"{q(s.average_mae)} / {q(s.average_mfe)}"),
    ]
    if result.skipped:
        skipped = ", ".join(f"{k}: {v}" for k, v in sorted(result.skipped.items()))
        rows.append(("entries not taken", skipped))
    near, entries = result.close_targets
    if near:
        rows.append(("targets within costs",
                     f"{near:,} of {entries:,} entry signals: target_1 closer than the "
                     "round-trip fee plus slippage (a loss when hit)"))
    return rows


def trades_table(result: BacktestResult, limit: int = 20) -> Table:
    """The last ``limit`` trades."""
    table = Table(title=f"last {min(limit, len(result.trades))} of {len(result.trades)} trades")
    for col in ("side", "entry", "price", "exit", "price", "why", "qty", "PnL", "R"):
        table.add_column(col, justify="right")
    fmt = market_format(result)
    for row in trade_rows(result, limit):
        pnl = Decimal(row["pnl"])
        shown = display_row(row, fmt)
        table.add_row(
            row["side"], row["entry_time"][5:], shown["entry_price"], row["exit_time"][5:],
            shown["exit_price"], row["exit_reason"], shown["quantity"],
            Text(shown["pnl"], style="green" if pnl > 0 else "red"),
            shown["r_multiple"] or "-",
        )
    return table


def chart(equity: np.ndarray, width: int = 100, height: int = 24) -> str:
    """Equity and drawdown (%) as text (plotext), downsampled to at most 200 points."""
    import plotext as plt

    step = max(1, equity.size // CHART_POINTS)
    eq = equity[::step]
    dd = drawdown_series(equity)[::step]
    fig = plt.figure
    fig.clear()
    fig.subplots(2, 1)
    for row, (values, title) in enumerate(((eq, "Equity"), (dd, "Drawdown %")), start=1):
        sub = fig.subplot(row, 1)
        sub.draw(sub.signal(values.tolist()).lines())  # plotext 6: a signal is drawn explicitly
        sub.title(title)
    fig.plot_size(width, height)
    fig.theme("clear")
    return str(fig.build().string())


def print_report(result: BacktestResult, metrics: Metrics, console: Console,
                 show_chart: bool) -> None:
    console.print(summary_table(result, metrics))
    if result.trades:
        console.print(trades_table(result))
    if show_chart and result.equity.size > 1:
        console.print(Text.from_ansi(chart(result.equity, width=min(console.width, 120))))
