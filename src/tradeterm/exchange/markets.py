"""Which venues' markets the trading core can read: one place for that decision.

ccxt states a market's price and amount precision in one of three *precision modes*, set per
exchange (``exchange.precisionMode``): ``TICK_SIZE`` (``precision['price'] == 0.01`` is the
tick), ``DECIMAL_PLACES`` (``2`` means two decimals) and ``SIGNIFICANT_DIGITS`` (``5`` means five
significant digits, a tick that moves with the price). The trading core
(:meth:`tradeterm.broker.rules.MarketRules.from_ccxt`, hence risk sizing, the paper broker's
filters and every displayed price) reads ``precision`` as a tick size. On a venue in another mode
that would be a nonsense grid (a tick of 2 on a price of 0.35; step 8 instead of 1e-8), silently
rounding every order. Until the other modes are converted properly, such a venue is refused when
its markets are loaded, with one line naming it and its mode, and nothing is traded on it.

The backtester does not read ccxt's precision (its tick and step come from the simulator's market
specs, ``backtest.runner.rules_for``), so only the live path checks here.

The mode numbers are ccxt's (``ccxt.base.decimal_to_precision``); they are repeated here so this
module stays importable without ccxt (a test ties them to ccxt's).
"""

from __future__ import annotations

DECIMAL_PLACES = 2
SIGNIFICANT_DIGITS = 3
TICK_SIZE = 4

_MODE_NAMES = {
    DECIMAL_PLACES: "DECIMAL_PLACES",
    SIGNIFICANT_DIGITS: "SIGNIFICANT_DIGITS",
    TICK_SIZE: "TICK_SIZE",
}


def precision_mode_name(precision_mode: object) -> str:
    """``"DECIMAL_PLACES"`` for 2, ...; an unknown value as ``"unknown (<value>)"``."""
    if isinstance(precision_mode, int) and not isinstance(precision_mode, bool):
        name = _MODE_NAMES.get(precision_mode)
        if name is not None:
            return name
    return f"unknown ({precision_mode!r})"


def check_precision_mode(exchange_id: str, precision_mode: object) -> str | None:
    """Why the markets of ``exchange_id`` cannot be traded, in one line; None when they can.

    ``precision_mode`` is the ccxt client's ``precisionMode``. Only ``TICK_SIZE`` is read
    correctly today; every other value (the two other ccxt modes, or anything unexpected) is
    refused rather than guessed.
    """
    name = precision_mode_name(precision_mode)
    if name == "TICK_SIZE":
        return None
    return (
        f"{exchange_id} states prices and amounts in ccxt's "
        f"{name} precision mode; tradeterm reads only TICK_SIZE, "
        "so it does not trade there (prices and sizes would be on a wrong grid)"
    )
