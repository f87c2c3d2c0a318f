"""Market state: candles, books, trades and tickers per symbol, one writer, immutable snapshots.

The feed loops (all on the engine's asyncio loop) are the only writers; everything a reader gets
is frozen (``core.models``) and cached until the next write, so the UI can sample it at its frame
rate for free.
"""

from tradeterm.market.state import MarketState

__all__ = ["MarketState"]
