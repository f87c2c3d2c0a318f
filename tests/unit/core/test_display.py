"""The money display policy: ticks, steps, quote decimals, R and %, never -0.00 or 28 digits."""

from decimal import Decimal

import pytest

from tradeterm.core.display import (
    DEFAULT_POLICY,
    fmt_pct,
    fmt_price,
    fmt_qty,
    fmt_quote,
    fmt_r,
    places_of,
)


@pytest.mark.parametrize(
    ("unit", "places"),
    [("0.01", 2), ("0.5", 1), ("10", 0), ("1E-8", 8), ("0.00010000", 4), (None, None), ("0", None)],
)
def test_places_of_a_tick_or_step(unit, places):
    assert places_of(None if unit is None else Decimal(unit)) == places


def test_price_rounds_to_the_tick_with_its_decimals():
    assert fmt_price(Decimal("64994.77005769996020692399522"), Decimal("0.01")) == "64994.77"
    assert fmt_price(Decimal("64994.77"), Decimal("0.5")) == "64995.0"
    assert fmt_price(64994.75, Decimal("0.1")) == "64994.8"  # half to even on the grid
    assert fmt_price(Decimal("0.000123456"), Decimal("0.00000001")) == "0.00012346"


def test_price_without_a_tick_uses_its_magnitude():
    assert fmt_price(64994.7712) == "64994.77"
    assert fmt_price(0.000123456) == "0.00012346"
    assert fmt_price(None) == "-"


def test_quantity_to_the_step_and_exact_without_one():
    assert fmt_qty(Decimal("0.00153000"), Decimal("0.00001")) == "0.00153"
    assert fmt_qty(Decimal("2.5000000000"), None) == "2.5"
    assert fmt_qty(Decimal("3"), None) == "3"


def test_quote_amounts_use_the_currency_precision_and_never_show_minus_zero():
    assert fmt_quote(Decimal("9999.8600000"), "USDT") == "9999.86"
    assert fmt_quote(Decimal("-0.0041"), "USDT") == "0.00"
    assert fmt_quote(Decimal("-0.0041"), "USDT", signed=True) == "0.00"
    assert fmt_quote(Decimal("12.345"), "USDT", signed=True) == "+12.34"
    assert fmt_quote(Decimal("0.123456789"), "BTC") == "0.12345679"
    custom = DEFAULT_POLICY.with_overrides({"usdt": 4})
    assert fmt_quote(Decimal("1.23456"), "USDT", policy=custom) == "1.2346"


def test_r_and_percent_two_decimals():
    assert fmt_r(Decimal("1.2345678901234567890123456789")) == "1.23"
    assert fmt_r(Decimal("-0.001"), signed=True) == "0.00"
    assert fmt_pct(Decimal("3.14159"), signed=True) == "+3.14"
    assert fmt_pct(-0.004) == "0.00"


def test_display_rounds_even_under_a_strict_decimal_context():
    # The broker proves its money exact by trapping Inexact; a denial message formatted inside
    # that context (MIN_NOTIONAL's notional) must round, not raise.
    from decimal import Inexact, Rounded, localcontext

    with localcontext() as ctx:
        ctx.traps[Inexact] = ctx.traps[Rounded] = True
        assert fmt_quote(Decimal("4.62352"), "USDT") == "4.62"
        assert fmt_price(Decimal("64994.77005769996020692399522"), Decimal("0.01")) == "64994.77"
        assert fmt_qty(Decimal("0.001534"), Decimal("0.00001")) == "0.00153"


def test_market_format_and_quote_of_a_symbol():
    from tradeterm.core.display import MarketFormat, quote_of

    assert quote_of("BTC/USDT") == "USDT" and quote_of("BTC/USDT:USDT") == "USDT"
    assert quote_of("BTCUSDT") is None
    fmt = MarketFormat(Decimal("0.5"), Decimal("0.001"), "BTC")
    assert fmt.price(Decimal("100.26")) == "100.5" and fmt.qty(Decimal("1.0004")) == "1.000"
    assert fmt.amount(Decimal("-0.000000001"), signed=True) == "0.00000000"


def test_price_of_a_nan_or_infinity_is_shown_not_raised():
    assert fmt_price(float("nan")) == "NaN"
    assert fmt_price(float("inf"), Decimal("0.01")) == "Infinity"
