"""Symbols the simulator lists, their exchange filters, and exact wire formatting.

Prices live as integer ticks and quantities as integer steps inside the simulator, so the book,
the tape and the candles never accumulate binary-float error; they become decimal strings only on
the wire (Binance sends 8 decimals: ``"65000.01000000"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from tradeterm.core.markets import DEMO_MARKETS
from tradeterm.core.models import TIMEFRAME_MS

INTERVAL_MS: dict[str, int] = dict(TIMEFRAME_MS)
WIRE_DECIMALS = 8


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One spot market: filters as Binance publishes them plus the synthetic market's character."""

    symbol: str
    base: str
    quote: str
    tick: Decimal
    step: Decimal
    min_notional: Decimal
    start_price: float
    daily_vol: float  # stdev of daily log return
    base_qty: float  # typical size of a near-top book level, in base units

    def price_str(self, ticks: int) -> str:
        return fmt(Decimal(ticks) * self.tick)

    def qty_str(self, steps: int) -> str:
        return fmt(Decimal(steps) * self.step)

    def to_ticks(self, price: float) -> int:
        return max(1, int(round(price / float(self.tick))))

    def to_steps(self, qty: float) -> int:
        return max(0, int(round(qty / float(self.step))))

    @property
    def price_decimals(self) -> int:
        return -self.tick.normalize().as_tuple().exponent  # type: ignore[operator]

    @property
    def qty_decimals(self) -> int:
        return -self.step.normalize().as_tuple().exponent  # type: ignore[operator]


def fmt(value: Decimal | float) -> str:
    """A number as Binance writes it: fixed point with 8 decimals."""
    return f"{Decimal(str(value)) if isinstance(value, float) else value:.{WIRE_DECIMALS}f}"


def parse_decimal(text: str | None) -> Decimal | None:
    """Lenient number parsing (ccxt sends ``50000`` or ``50000.0``); None if absent/invalid."""
    if text is None or text == "":
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


_CHARACTER: dict[str, tuple[float, float, float]] = {  # start price, daily vol, level size
    "BTCUSDT": (65_000.0, 0.025, 0.05),
    "ETHUSDT": (3_400.0, 0.032, 0.8),
    "SOLUSDT": (150.0, 0.045, 15.0),
}

DEFAULT_SPECS: dict[str, SymbolSpec] = {
    m.symbol: SymbolSpec(m.symbol, m.base, m.quote, m.tick, m.step, m.min_notional,
                         *_CHARACTER[m.symbol])
    for m in DEMO_MARKETS.values()
}
"""The listed markets' filters (``core.markets``, shared with the backtester) plus character."""


ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"]


def symbol_info(spec: SymbolSpec) -> dict[str, object]:
    """The ``exchangeInfo`` entry of one symbol (never contractType/deliveryDate/underlying)."""
    return {
        "symbol": spec.symbol,
        "status": "TRADING",
        "baseAsset": spec.base,
        "baseAssetPrecision": 8,
        "quoteAsset": spec.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": list(ORDER_TYPES),
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": fmt(spec.tick),
             "maxPrice": fmt(Decimal("1000000")), "tickSize": fmt(spec.tick)},
            {"filterType": "LOT_SIZE", "minQty": fmt(spec.step),
             "maxQty": fmt(Decimal("9000")), "stepSize": fmt(spec.step)},
            {"filterType": "MARKET_LOT_SIZE", "minQty": fmt(Decimal(0)),
             "maxQty": fmt(Decimal("100")), "stepSize": fmt(Decimal(0))},
            {"filterType": "NOTIONAL", "minNotional": fmt(spec.min_notional),
             "applyMinToMarket": True, "maxNotional": fmt(Decimal("9000000")),
             "applyMaxToMarket": False, "avgPriceMins": 5},
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        ],
        "permissions": ["SPOT"],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def exchange_info(specs: dict[str, SymbolSpec], server_time: int) -> dict[str, object]:
    return {
        "timezone": "UTC",
        "serverTime": server_time,
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
             "limit": 6000},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
        ],
        "exchangeFilters": [],
        "symbols": [symbol_info(s) for s in specs.values()],
    }
