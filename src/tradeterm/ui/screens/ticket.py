"""The order ticket (``b`` buy, ``s`` sell). (Contract stub: replaced by its implementation.)

Market or limit; size in quote, base or risk %; stop and target. Every edit asks the engine for
an :class:`~tradeterm.core.preview.OrderPreview` (size, money at risk, R:R, the risk engine's
verdict); Enter dismisses with the previewed ``OrderRequest`` only when it is allowed, escape
dismisses with None.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from textual.screen import ModalScreen

from tradeterm.core.models import Side
from tradeterm.core.preview import OrderPreview, TicketDraft
from tradeterm.core.trading import OrderRequest


class OrderTicket(ModalScreen[OrderRequest | None]):
    def __init__(
        self,
        side: Side,
        symbol: str,
        preview: Callable[[TicketDraft], OrderPreview],
        *,
        last_price: Decimal | None = None,
    ) -> None:
        super().__init__()
        self.side, self.symbol, self.preview, self.last_price = side, symbol, preview, last_price
