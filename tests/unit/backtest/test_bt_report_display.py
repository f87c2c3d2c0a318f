"""The backtest tables show money on the display policy; CSV and JSON keep the exact strings."""

from __future__ import annotations

from decimal import Decimal

from tradeterm.backtest.report import display_row
from tradeterm.core.display import MarketFormat

ROW = {
    "side": "long", "quantity": "0.0015300", "entry_time": "2024-03-01 12:00",
    "entry_price": "64994.77005769996020692399522", "exit_time": "2024-03-01 13:00",
    "exit_price": "65100.5", "exit_reason": "target", "stop": "64000.004", "target": None,
    "pnl": "-0.0040000", "fees": "0.19888399637654187823318742164",
    "r_multiple": "1.2345678901234567890123456789", "mae": "-1.5", "mfe": "2", "signal_bar": 3,
    "entry_bar": 4, "exit_bar": 9,
}


def test_trade_row_as_shown_rounds_to_tick_step_quote_and_r():
    shown = display_row(ROW, MarketFormat(Decimal("0.01"), Decimal("0.00001"), "USDT"))
    assert shown["entry_price"] == "64994.77" and shown["exit_price"] == "65100.50"
    assert shown["stop"] == "64000.00" and shown["target"] == ""
    assert shown["quantity"] == "0.00153"
    assert shown["pnl"] == "0.00" and shown["fees"] == "0.20"  # never -0.00, never 28 digits
    assert shown["r_multiple"] == "1.23"
    assert shown["exit_reason"] == "target" and shown["entry_bar"] == "4"
    assert ROW["pnl"] == "-0.0040000"  # the exact row (CSV, JSON) is left as it was


def test_report_counts_every_entry_refused_by_the_daily_loss_limit():
    """Two stop-outs reach the 3 % limit on day 1; the four entry signals after them that day
    are all refused, and the report's "entries not taken" says 4 (not one per halted day)."""
    from bt_helpers import HOUR, config, signal_frame
    from rich.console import Console

    from tradeterm.backtest.metrics import result_metrics
    from tradeterm.backtest.report import summary_table
    from tradeterm.backtest.runner import simulate

    flat = (100.0, 100.2, 99.8, 100.0)
    bars = [flat] * 30
    for stop_bar in (2, 5):
        bars[stop_bar] = (100.0, 100.2, 97.0, 97.5)
    entries = {b: ("long", 98.0, None) for b in (0, 3, 6, 9, 14, 22, 23)}
    result = simulate(signal_frame(bars, entries, interval_ms=HOUR),
                      config(risk_per_trade_pct=Decimal(2)), HOUR)
    console = Console(width=200, record=True)
    console.print(summary_table(result, result_metrics(result)))
    shown = console.export_text()
    assert "entries not taken" in shown and "daily_loss_limit: 4" in shown


def test_targets_inside_the_round_trip_cost_are_counted_and_shown():
    """0.1 % taker + 0.05 % maker and 5 ticks of slippage each way: at 100.00 a round trip
    costs 0.25. Targets 0.10 and 0.22 away are inside it (counted), one 0.50 away is not; an
    entry without a target is not counted either."""
    from bt_helpers import MINUTE, config, signal_frame
    from rich.console import Console

    from tradeterm.backtest.metrics import result_metrics
    from tradeterm.backtest.report import summary_table
    from tradeterm.backtest.runner import simulate

    flat = (100.0, 100.05, 99.95, 100.0)
    entries = {0: ("long", 98.0, 100.1), 3: ("long", 98.0, 100.5), 6: ("short", 102.0, 99.78),
               9: ("long", 98.0, None)}
    exits = {1: "long", 4: "long", 7: "short", 10: "long"}
    cfg = config(slippage_ticks=5)
    result = simulate(signal_frame([flat] * 12, entries, exits), cfg, MINUTE)
    assert result.close_targets == (2, 4)  # 100.1 (0.10 away) and 99.78 (0.22 < 0.25)
    console = Console(width=200, record=True)
    console.print(summary_table(result, result_metrics(result)))
    assert "targets within costs" in console.export_text()
    far = simulate(signal_frame([flat] * 12, {3: entries[3]}, exits), cfg, MINUTE)
    assert far.close_targets == (0, 1)


def test_backtest_trades_carry_mae_and_mfe_in_r_like_the_journal():
    """A long filled at 100 with its stop at 97 (1R = 3 a unit) whose bars dip to 97.6 and
    reach 104: the exported row has MAE -0.8R and MFE 4/3 R (exact), shown to 2 decimals; a
    trade without a stop has none (blank, never zero)."""
    from bt_helpers import HOUR, config, signal_frame

    from tradeterm.backtest.report import market_format, trade_rows
    from tradeterm.backtest.runner import simulate

    bars = [(100.0, 100.0, 100.0, 100.0), (100.0, 100.5, 97.6, 99.0),
            (99.0, 104.0, 98.8, 103.0), (103.0, 103.0, 101.0, 101.0)]
    result = simulate(signal_frame(bars, {0: ("long", 97.0, None)}, interval_ms=HOUR),
                      config(slippage_ticks=0), HOUR)
    (row,) = trade_rows(result)
    assert Decimal(row["entry_price"]) == 100
    assert Decimal(row["mae_r"]) == Decimal("-0.8")
    assert Decimal(row["mfe_r"]).quantize(Decimal("0.0001")) == Decimal("1.3333")
    shown = display_row(row, market_format(result))
    assert (shown["mae_r"], shown["mfe_r"]) == ("-0.80", "1.33")
    no_stop = dict(row, mae_r=None, mfe_r=None)
    assert display_row(no_stop, market_format(result))["mae_r"] == ""
