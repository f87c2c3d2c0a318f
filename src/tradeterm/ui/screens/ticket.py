"""The order ticket (``b`` buy, ``s`` sell): a modal form whose Enter places what it previewed.

Market or limit (``m`` / ``l``); size in quote, base or % of equity at risk (``u`` cycles);
limit price, stop and target. Every edit, and twice a second while the market moves, asks the
engine for an :class:`~tradeterm.core.preview.OrderPreview` (quantity on the lot step, notional,
money at risk, R:R, fees, the risk engine's verdict). The ticket computes nothing itself: the
numbers shown are the engine's, so what Enter places is exactly what was previewed. Enter
dismisses with that ``OrderRequest`` only when it is allowed (otherwise a notification says
why); escape dismisses with None.

``m``, ``l``, ``u``, Enter and escape are priority bindings of the ticket, and its fields
(:class:`AmountInput`) leave those letters alone: a number never contains them.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tradeterm.core.display import MarketFormat, fmt_pct, fmt_r, quote_of
from tradeterm.core.models import Side
from tradeterm.core.preview import OrderPreview, SizeUnit, TicketDraft
from tradeterm.core.trading import OrderRequest, OrderType
from tradeterm.ui.themes import TradingColors

UNITS: tuple[SizeUnit, ...] = ("quote", "base", "risk")
TICKET_KEYS = frozenset("mlu")  # the ticket's letter keys: never typed into a field
PREVIEW_EVERY_S = 0.5  # the market moves: a market order's touch and the risk verdict with it


def parse_amount(text: str, *, required: bool) -> Decimal | None:
    """A positive decimal from a field; None for an empty optional one; ValueError otherwise."""
    text = text.strip().replace(",", "")
    if not text:
        if required:
            raise ValueError("required")
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not value.is_finite() or value <= 0:
        raise ValueError("must be positive")
    return value


def unit_label(unit: SizeUnit, symbol: str) -> str:
    """``USDT`` / ``BTC`` / ``% equity at risk`` for ``BTC/USDT``."""
    base, _, quote = symbol.partition("/")
    return {"quote": quote or "quote", "base": base, "risk": "% equity at risk"}[unit]


def preview_text(preview: OrderPreview | None, symbol: str, colors: TradingColors,
                 problem: str | None = None, fmt: MarketFormat | None = None) -> Text:
    """The preview block: quantity, notional, risk, R:R, fees, then the verdict in colour.
    ``problem`` (an invalid field) replaces the engine's verdict. Numbers on the display policy
    with ``fmt`` (the market's tick, step and quote decimals)."""
    base, _, quote = symbol.partition("/")
    fmt = fmt or MarketFormat(quote=quote_of(symbol))
    text = Text()

    def row(label: str, value: str) -> None:
        text.append(f"{label:<10}", style=colors.muted)
        text.append(value + "\n")

    p = preview
    if p is not None and p.quantity is not None:
        row("Quantity", f"{fmt.qty(p.quantity)} {base}")
        row("Price", fmt.price(p.reference_price) if p.reference_price is not None else "–")
        row("Notional", f"{fmt.amount(p.notional)} {quote}" if p.notional is not None else "–")
        if p.risk_amount is not None:
            pct = f" ({fmt_pct(p.risk_pct)} % of equity)" if p.risk_pct is not None else ""
            row("At risk", f"{fmt.amount(p.risk_amount)} {quote}{pct}")
        else:
            row("At risk", "no stop: not bounded")
        row("R:R", fmt_r(p.reward_risk) if p.reward_risk is not None else "–")
        row("Fees", f"{fmt.amount(p.fee_estimate)} {quote} (in and out, taker)"
            if p.fee_estimate is not None else "–")
    if problem is not None:
        text.append(f"✗ {problem}", style=f"bold {colors.loss}")
    elif p is None:
        text.append("…", style=colors.muted)
    elif p.allowed:
        text.append("✓ allowed: Enter places it", style=f"bold {colors.profit}")
    else:
        text.append(f"✗ {p.reason or 'not allowed'}", style=f"bold {colors.loss}")
    return text


class AmountInput(Input):
    """A number field that lets the ticket's letter keys through to the ticket's bindings
    (Textual drops a screen binding for any key the focused input would consume)."""

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return character not in TICKET_KEYS and super().check_consume_key(key, character)


class OrderTicket(ModalScreen[OrderRequest | None]):
    """See the module docstring. ``preview`` is ``Engine.preview``."""

    market: MarketFormat | None = None  # the symbol's tick, step and quote (set by the app)

    DEFAULT_CSS = """
    OrderTicket { align: center middle; }
    OrderTicket > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    OrderTicket #ticket-side { height: 3; content-align: center middle; text-style: bold; }
    OrderTicket .row { height: 1; margin-top: 1; }
    OrderTicket .row Label { width: 9; }
    OrderTicket .row Input { width: 20; }
    OrderTicket .note { width: 1fr; padding-left: 1; color: $text-muted; }
    OrderTicket .note.-invalid { color: $error; }
    OrderTicket #ticket-type { height: 1; margin-top: 1; }
    OrderTicket #ticket-preview { margin-top: 1; height: auto; }
    OrderTicket #ticket-hint { color: $text-muted; margin-top: 1; }
    OrderTicket.-short #ticket-side { height: 1; }
    OrderTicket.-short .row, OrderTicket.-short #ticket-hint { margin-top: 0; }
    """

    BINDINGS = [
        Binding("enter", "place", "Place order", priority=True),
        Binding("escape", "cancel", "Cancel", priority=True),
        Binding("m", "order_type('market')", "Market order", priority=True),
        Binding("l", "order_type('limit')", "Limit order", priority=True),
        Binding("u", "cycle_unit", "Size unit", priority=True),
    ]

    remembered: ClassVar[tuple[str, SizeUnit]] = ("100", "quote")
    """The size and unit of the last order placed from a ticket: the next one starts there."""

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
        self.order_type = OrderType.MARKET
        self.size_text, self.unit = OrderTicket.remembered
        self.current: OrderPreview | None = None  # the last preview, as shown
        self.problem: str | None = None  # the first invalid field, if any
        self._pending = False

    @property  # TODO(integrator): rename (it shadows Textual's DOMNode.colors) after the ticket work
    def colors(self) -> TradingColors:  # type: ignore[override]
        colors = getattr(self.app, "market_colors", None)
        return colors if isinstance(colors, TradingColors) else TradingColors()

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        price = f"{self.last_price:f}" if self.last_price is not None else ""
        with Vertical():
            yield Static(id="ticket-side")
            yield Static(id="ticket-type")
            yield from self._field("size", "Size", self.size_text)
            yield from self._field("price", "Limit", price)
            yield from self._field("stop", "Stop", "")
            yield from self._field("target", "Target", "")
            yield Static(id="ticket-preview")
            yield Static("Enter place · Esc cancel · m/l market/limit · u size unit · Tab",
                         id="ticket-hint")

    def _field(self, name: str, label: str, value: str) -> ComposeResult:
        with Horizontal(classes="row", id=f"row-{name}"):
            yield Label(label)
            yield AmountInput(value, id=f"field-{name}", compact=True)
            yield Static(id=f"note-{name}", classes="note")

    def on_mount(self) -> None:
        colors = self.colors
        paint = colors.bid if self.side == "buy" else colors.ask
        heading = Text(f"{self.side.upper()}  {self.symbol}", style=f"bold {colors.background}")
        side = self.query_one("#ticket-side", Static)
        side.styles.background = paint
        side.update(heading)
        self._show_type()
        self.query_one("#field-size", Input).focus()
        self.set_interval(PREVIEW_EVERY_S, self._refresh_preview, name="ticket-preview")

    # -- reactions --------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        """Validate and ask the engine on the next refresh (a burst of keystrokes is one ask)."""
        event.stop()
        if not self._pending:
            self._pending = True
            self.call_after_refresh(self._refresh_preview)

    def action_order_type(self, kind: str) -> None:
        """Market or limit."""
        self.order_type = OrderType(kind)
        self._show_type()

    def action_cycle_unit(self) -> None:
        """Quote, base, % of equity at risk, and round again."""
        self.unit = UNITS[(UNITS.index(self.unit) + 1) % len(UNITS)]
        self._refresh_preview()

    def action_place(self) -> None:
        """Enter: place the previewed order if it is allowed; otherwise say why not."""
        self._refresh_preview()
        preview = self.current
        if self.problem is not None:
            self.notify(f"Order not placed: {self.problem}", severity="warning", timeout=5)
            return
        if preview is None or not preview.allowed or preview.request is None:
            reason = preview.reason if preview is not None and preview.reason else "no preview"
            self.notify(f"Order not placed: {reason}", severity="warning", timeout=8)
            return
        OrderTicket.remembered = (self.size_text, self.unit)
        self.dismiss(preview.request)

    def action_cancel(self) -> None:
        self.dismiss(None)

    # -- internals --------------------------------------------------------------------------

    def _show_type(self) -> None:
        limit = self.order_type is OrderType.LIMIT
        text = Text("Type     ", style=self.colors.muted)
        for kind, key in ((OrderType.MARKET, "m"), (OrderType.LIMIT, "l")):
            chosen = kind is self.order_type
            text.append(f"{'●' if chosen else '○'} {kind.value} ({key})   ",
                        style="bold" if chosen else self.colors.muted)
        self.query_one("#ticket-type", Static).update(text)
        row = self.query_one("#row-price")
        if row.display != limit:
            row.display = limit
            if not limit and self.focused is self.query_one("#field-price", Input):
                self.query_one("#field-size", Input).focus()
        self._refresh_preview()

    def _values(self) -> dict[str, Decimal | None]:
        """Each visible field parsed; notes next to the fields say what is wrong or expected.
        Sets :attr:`problem` to the first invalid one."""
        self.problem = None
        values: dict[str, Decimal | None] = {}
        hints = {"size": unit_label(self.unit, self.symbol), "price": "",
                 "stop": "optional", "target": "optional"}
        for name, required in (("size", True), ("price", True), ("stop", False),
                               ("target", False)):
            if name == "price" and self.order_type is not OrderType.LIMIT:
                continue
            field = self.query_one(f"#field-{name}", Input)
            note = self.query_one(f"#note-{name}", Static)
            try:
                values[name] = parse_amount(field.value, required=required)
            except ValueError as exc:
                note.update(f"✗ {exc}")
                note.add_class("-invalid")
                if self.problem is None:
                    self.problem = f"{name}: {exc}"
                continue
            note.update(hints[name])
            note.remove_class("-invalid")
        self.size_text = self.query_one("#field-size", Input).value.strip()
        return values

    def _draft(self) -> TicketDraft | None:
        values = self._values()
        size = values.get("size")
        if self.problem is not None or size is None:
            return None
        return TicketDraft(
            symbol=self.symbol, side=self.side, type=self.order_type, size=size, unit=self.unit,
            price=values.get("price"), stop=values.get("stop"), target=values.get("target"),
        )

    def _refresh_preview(self) -> None:
        self._pending = False
        if not self.is_mounted:
            return
        draft = self._draft()
        if draft is None:
            self.current = None
        else:
            try:
                self.current = self.preview(draft)
            except Exception as exc:  # a bug in the engine must not take the form down
                self.current = OrderPreview(None, False, f"preview failed: {exc}")
        self.query_one("#ticket-preview", Static).update(
            preview_text(self.current, self.symbol, self.colors, self.problem, self.market)
        )

