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


def _quiet(symbol: str, base: str, quote: str, tick: str, step: str, min_notional: str,
           price: float, vol: float, level: float) -> SymbolSpec:
    return SymbolSpec(symbol, base, quote, Decimal(tick), Decimal(step), Decimal(min_notional),
                      price, vol, level)


QUIET_SPECS: dict[str, SymbolSpec] = {
    s.symbol: s
    for s in (  # start price, daily vol, level size (24 h volumes from ~35 BTC to ~1 B USDT):
                # roughly Binance's, on Binance's filters
        _quiet("BNBUSDT", "BNB", "USDT", "0.01", "0.001", "5", 590.0, 0.030, 1.0),
        _quiet("XRPUSDT", "XRP", "USDT", "0.0001", "0.1", "5", 0.52, 0.040, 2_900.0),
        _quiet("ADAUSDT", "ADA", "USDT", "0.0001", "0.1", "5", 0.45, 0.042, 1_000.0),
        _quiet("DOGEUSDT", "DOGE", "USDT", "0.00001", "1", "5", 0.16, 0.055, 7_500.0),
        _quiet("TRXUSDT", "TRX", "USDT", "0.00001", "0.1", "5", 0.12, 0.025, 1_900.0),
        _quiet("AVAXUSDT", "AVAX", "USDT", "0.01", "0.01", "5", 35.0, 0.050, 8.6),
        _quiet("DOTUSDT", "DOT", "USDT", "0.001", "0.01", "5", 7.1, 0.045, 21.0),
        _quiet("LINKUSDT", "LINK", "USDT", "0.001", "0.01", "5", 14.5, 0.048, 26.0),
        _quiet("LTCUSDT", "LTC", "USDT", "0.01", "0.001", "5", 82.0, 0.038, 3.7),
        _quiet("BCHUSDT", "BCH", "USDT", "0.1", "0.001", "5", 460.0, 0.040, 0.5),
        _quiet("UNIUSDT", "UNI", "USDT", "0.001", "0.01", "5", 9.8, 0.052, 12.0),
        _quiet("ATOMUSDT", "ATOM", "USDT", "0.001", "0.01", "5", 8.4, 0.046, 10.7),
        _quiet("NEARUSDT", "NEAR", "USDT", "0.001", "0.1", "5", 6.2, 0.058, 36.0),
        _quiet("APTUSDT", "APT", "USDT", "0.01", "0.01", "5", 9.1, 0.060, 13.0),
        _quiet("ARBUSDT", "ARB", "USDT", "0.0001", "0.1", "5", 1.05, 0.062, 171.0),
        _quiet("OPUSDT", "OP", "USDT", "0.001", "0.01", "5", 2.4, 0.062, 56.0),
        _quiet("SUIUSDT", "SUI", "USDT", "0.0001", "0.1", "5", 1.2, 0.070, 375.0),
        _quiet("INJUSDT", "INJ", "USDT", "0.01", "0.01", "5", 25.0, 0.065, 3.0),
        _quiet("FILUSDT", "FIL", "USDT", "0.001", "0.01", "5", 5.6, 0.050, 16.0),
        _quiet("ETCUSDT", "ETC", "USDT", "0.01", "0.01", "5", 27.0, 0.042, 3.9),
        _quiet("XLMUSDT", "XLM", "USDT", "0.0001", "1", "5", 0.11, 0.038, 545.0),
        _quiet("HBARUSDT", "HBAR", "USDT", "0.00001", "1", "5", 0.09, 0.050, 833.0),
        _quiet("AAVEUSDT", "AAVE", "USDT", "0.01", "0.001", "5", 95.0, 0.055, 1.6),
        _quiet("RENDERUSDT", "RENDER", "USDT", "0.001", "0.01", "5", 7.5, 0.068, 8.0),
        _quiet("FETUSDT", "FET", "USDT", "0.0001", "0.1", "5", 1.6, 0.070, 112.0),
        _quiet("PEPEUSDT", "PEPE", "USDT", "0.00000001", "1", "5", 0.0000120, 0.080, 62_500_000.0),
        _quiet("WIFUSDT", "WIF", "USDT", "0.001", "0.01", "5", 2.3, 0.090, 130.0),
        _quiet("ETHBTC", "ETH", "BTC", "0.00001", "0.0001", "0.0001", 0.0523, 0.020, 0.043),
        _quiet("SOLBTC", "SOL", "BTC", "0.0000001", "0.001", "0.0001", 0.00231, 0.035, 0.19),
        _quiet("BNBBTC", "BNB", "BTC", "0.000001", "0.001", "0.0001", 0.00908, 0.022, 0.033),
        _quiet("LINKBTC", "LINK", "BTC", "0.0000001", "0.01", "0.0001", 0.000223, 0.040, 0.2),
        _quiet("XRPBTC", "XRP", "BTC", "0.00000001", "1", "0.0001", 0.00000800, 0.035, 9.4),
    )
}
"""Quiet markets listed beside the demo's three (so a scanner has a venue to scan): served on
demand, each built the first time it is asked about and moved only once a client watches or
queries it (``SimServer``), so the demo starts and ticks as before."""

QUIET_HISTORY_DAYS = 1_000
"""Daily bars of a quiet market's synthetic history (the demo's three keep 5,000): building it
is ~4 ms instead of ~18, and a scan builds all of them at once."""


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
