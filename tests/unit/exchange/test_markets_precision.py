"""Only ccxt's TICK_SIZE precision mode is traded; every other mode is refused in one line."""

from __future__ import annotations

import pytest
from ccxt.base import decimal_to_precision as ccxt_modes

from tradeterm.exchange.markets import (
    DECIMAL_PLACES,
    SIGNIFICANT_DIGITS,
    TICK_SIZE,
    check_precision_mode,
    precision_mode_name,
)


def test_the_mode_numbers_are_ccxts() -> None:
    assert (DECIMAL_PLACES, SIGNIFICANT_DIGITS, TICK_SIZE) == (
        ccxt_modes.DECIMAL_PLACES, ccxt_modes.SIGNIFICANT_DIGITS, ccxt_modes.TICK_SIZE,
    )


def test_tick_size_is_traded() -> None:
    assert check_precision_mode("binance", ccxt_modes.TICK_SIZE) is None


@pytest.mark.parametrize(
    ("mode", "name"),
    [(ccxt_modes.DECIMAL_PLACES, "DECIMAL_PLACES"),
     (ccxt_modes.SIGNIFICANT_DIGITS, "SIGNIFICANT_DIGITS")],
)
def test_the_other_ccxt_modes_are_refused_naming_venue_and_mode(mode: int, name: str) -> None:
    reason = check_precision_mode("kraken", mode)
    assert reason is not None
    assert "\n" not in reason
    assert reason.startswith(f"kraken states prices and amounts in ccxt's {name} precision mode")
    assert "TICK_SIZE" in reason


@pytest.mark.parametrize("mode", [None, 0, 5, "4", True, 4.0])
def test_anything_unexpected_is_refused_too(mode: object) -> None:
    reason = check_precision_mode("somevenue", mode)
    assert reason is not None and "somevenue" in reason and "unknown" in reason
    assert precision_mode_name(mode) == f"unknown ({mode!r})"
