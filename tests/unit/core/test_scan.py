"""The scanner's rows: exact arithmetic, each sort largest first, unknown figures last."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from tradeterm.core.scan import VenueTicker, scan, scan_row

TICKERS = (
    VenueTicker("A/USDT", D("10"), high=D("11"), low=D("9"), change_pct=D("5.5"),
                quote_volume=D("100")),
    VenueTicker("B/USDT", D("3"), high=D("3.3"), low=D("2.9"), change_pct=D("-2"),
                quote_volume=D("900")),
    VenueTicker("C/BTC", D("0.5"), high=D("0.6"), low=D("0.45"), open=D("0.4"),
                quote_volume=None),
    VenueTicker("D/USDT", None),  # no price: not a row
)


@pytest.mark.parametrize(("sort", "order"), [
    ("change", ["C/BTC", "A/USDT", "B/USDT"]),
    ("volume", ["B/USDT", "A/USDT", "C/BTC"]),
    ("volatility", ["C/BTC", "A/USDT", "B/USDT"]),
])
def test_each_sort_is_largest_first(sort: str, order: list[str]):
    assert [r.symbol for r in scan(TICKERS, sort)] == order  # type: ignore[arg-type]


def test_rows_are_exact_and_the_quote_filter_keeps_only_its_markets():
    c = scan_row(TICKERS[2])
    assert c is not None and c.change_pct == D("25") and c.volatility == D("0.3")
    b = scan_row(TICKERS[1])
    assert b is not None and b.volatility == D("0.13333333")  # 0.4 / 3, to 8 places
    assert b.plain() == {"symbol": "B/USDT", "last": "3", "change_pct": "-2",
                         "quote_volume": "900", "volatility": "0.13333333"}
    assert [r.symbol for r in scan(TICKERS, "volume", "USDT")] == ["B/USDT", "A/USDT"]
    with pytest.raises(ValueError):
        scan(TICKERS, "price")  # type: ignore[arg-type]
