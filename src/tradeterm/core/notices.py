"""The texts of trading events for people (the workstation's toasts, the headless output):
fills, denials, closed positions, signals, on the money display policy: prices on the market's
tick, quantities on its step, PnL at the quote currency's decimals, R with 2. Pure (no UI), so
the screen and ``run --headless`` say the same thing and each text is tested alone."""

from __future__ import annotations

from tradeterm.core.display import MarketFormat, fmt_r
from tradeterm.core.models import Signal
from tradeterm.core.trading import ClosedTrade, Fill, OrderRequest


def describe_fill(fill: Fill, fmt: MarketFormat) -> str:
    """``BOUGHT 0.01 BTC/USDT @ 64994.77 (ema_cross)``."""
    who = f" ({fill.strategy})" if fill.strategy else ""
    verb = "BOUGHT" if fill.side == "buy" else "SOLD"
    return f"{verb} {fmt.qty(fill.quantity)} {fill.symbol} @ {fmt.price(fill.price)}{who}"


def describe_denial(request: OrderRequest, reason: str, fmt: MarketFormat) -> str:
    """``buy 0.01 BTC/USDT denied: <reason>`` (the reason is the risk engine's or the filter's
    text, already on the policy)."""
    return f"{request.side} {fmt.qty(request.quantity)} {request.symbol} denied: {reason}"


def describe_closed(trade: ClosedTrade, fmt: MarketFormat) -> str:
    """``Closed long 0.01 BTC/USDT: PnL +12.34, +1.23 R`` (R signed like the PnL and the
    positions panel's R)."""
    r = f", {fmt_r(trade.r_multiple, signed=True)} R" if trade.r_multiple is not None else ""
    held = "long" if trade.side == "buy" else "short"
    return (f"Closed {held} {fmt.qty(trade.quantity)} {trade.symbol}: "
            f"PnL {fmt.amount(trade.pnl, signed=True)}{r}")


def describe_signal(signal: Signal, fmt: MarketFormat | None = None) -> str:
    """``BUY BTC/USDT 1m @ 64980.10 stop 64900.00 targets 65100.00 / 65200.00 · 62%: reasons``."""
    fmt = fmt or MarketFormat()
    action = signal.side.upper() if signal.kind == "entry" else f"EXIT ({signal.side})"
    text = f"{action} {signal.symbol} {signal.timeframe}"
    if signal.entry is not None:
        text += f" @ {fmt.price(signal.entry)}"
    if signal.stop is not None:
        text += f" stop {fmt.price(signal.stop)}"
    if signal.targets:
        text += " targets " + " / ".join(fmt.price(t) for t in signal.targets)
    text += f" · {signal.confidence:.0%}"
    if signal.reasons:
        text += ": " + ", ".join(signal.reasons)
    return text
