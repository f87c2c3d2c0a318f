"""``tradeterm backtest STRATEGY --symbols A,B --timeframes 15m,1h``: one strategy over several
markets in one command, one row each in a results table, with a progress bar.

Each cell is the single backtest's path (``cli.load_candles``, ``config_from_args``,
``run_backtest``, ``result_metrics``), so a row equals ``tradeterm backtest`` on that symbol and
timeframe alone. A cell whose candles are missing is shown as such and the others still run
(exit status 0 when at least one ran). Money is shown through ``core.display``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from rich.console import Console


def run_matrix(args: argparse.Namespace, settings: Any, out: Console, strategy: Any,
               symbols: list[str], timeframes: list[str], *, file: Any = None) -> int:
    """Backtest ``strategy`` on every symbol x timeframe; print the table; exit status. The
    look-ahead guard runs on every market's candles first (``file``: the strategy's file, for
    its cache); a market where it refuses the strategy gets the refusal instead of results."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
    from rich.table import Table

    from tradeterm.backtest.cli import UsageError, config_from_args, load_candles
    from tradeterm.backtest.metrics import result_metrics
    from tradeterm.backtest.runner import run_backtest
    from tradeterm.core.display import fmt_pct, fmt_quote, quote_of

    from tradeterm.core.models import TIMEFRAME_MS

    if args.bt_data or args.bt_lower or args.bt_csv:
        raise UsageError("--data, --lower and --csv take one market; a matrix reads the store")
    for timeframe in timeframes:
        if timeframe not in TIMEFRAME_MS:
            raise UsageError(
                f"unknown timeframe {timeframe!r}; expected one of {', '.join(TIMEFRAME_MS)}")
    from tradeterm.backtest.guard_hook import guard_strategy

    no_guard = bool(getattr(args, "bt_no_guard", False))
    if no_guard:  # said once, before the table
        guard_strategy(file, strategy, None, settings, out, skip=True)
    cells = [(s, tf) for s in symbols for tf in timeframes]
    rows: list[dict[str, Any]] = []
    from tradeterm.backtest.optimize_cli import bar_console

    console = bar_console(out)  # stderr when stdout is not a terminal; none when neither is
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=console, disable=not console.is_terminal,
                  redirect_stdout=console is out) as bar:
        task = bar.add_task(f"{strategy.name}: backtests", total=len(cells))
        for symbol, timeframe in cells:
            try:
                candles = load_candles(settings, timeframe, symbol=symbol, first_day=args.bt_from,
                                       last_day=args.bt_to)
            except UsageError as exc:
                rows.append({"symbol": symbol, "timeframe": timeframe, "error": str(exc)})
                bar.advance(task)
                continue
            refused = None if no_guard else guard_strategy(
                file, strategy, candles, settings, out, skip=False, announce=False)
            if refused is not None:
                rows.append({"symbol": symbol, "timeframe": timeframe, "error": refused})
                bar.advance(task)
                continue
            config = config_from_args(settings, symbol, args.bt_slip_ticks, args.bt_slip_bps,
                                      args.bt_balance)
            result = run_backtest(strategy, candles, config, symbol=symbol, timeframe=timeframe)
            m = result_metrics(result)
            rows.append({
                "symbol": symbol, "timeframe": timeframe, "bars": m.bars,
                "trades": m.stats.trades, "win_rate": m.stats.win_rate,
                "profit_factor": (str(m.stats.profit_factor)
                                  if m.stats.profit_factor is not None else None),
                "net_pnl": str(m.stats.net_pnl), "return_pct": m.return_pct,
                "max_drawdown_pct": m.drawdown.depth_pct, "sharpe": m.sharpe,
                "final_balance": str(m.final_balance)})
            bar.advance(task)
    table = Table(title=f"{strategy.name}: {len(cells)} markets")
    for label in ("symbol", "timeframe", "bars", "trades", "win %", "PF", "net PnL",
                  "return %", "max DD %", "sharpe"):
        table.add_column(label, justify="left" if label in ("symbol", "timeframe") else "right")
    for row in rows:
        if "error" in row:
            table.add_row(row["symbol"], row["timeframe"], "[red]no candles[/]", *["-"] * 7)
            continue
        win = row["win_rate"]
        table.add_row(
            row["symbol"], row["timeframe"], f"{row['bars']:,}", str(row["trades"]),
            fmt_pct(win * 100 if win is not None else None),
            fmt_pct(row["profit_factor"]) if row["profit_factor"] else "-",
            fmt_quote(row["net_pnl"], quote_of(row["symbol"]), signed=True),
            fmt_pct(row["return_pct"], signed=True), fmt_pct(row["max_drawdown_pct"]),
            f"{row['sharpe']:.2f}" if row["sharpe"] is not None else "-")
    out.print(table)
    for row in rows:
        if "error" in row:
            out.print(f"{row['symbol']} {row['timeframe']}: {row['error']}", soft_wrap=True)
    if args.bt_json:
        args.bt_json.write_text(json.dumps({"strategy": strategy.name, "matrix": rows},
                                           indent=2))
        out.print(f"wrote {args.bt_json}")
    return 0 if any("error" not in r for r in rows) else 2
