"""The order ticket (``b`` buy, ``s`` sell): a modal form whose Enter places what it previewed.

Market or limit (``m`` / ``l``); size in quote, base or % of equity at risk (``u`` cycles);
limit price, stop and target. Every edit, and twice a second while the market moves, asks the
engine for an :class:`~tradeterm.core.preview.OrderPreview` (quantity on the lot step, notional,
money at risk, R:R, fees, the risk engine's verdict). The ticket computes nothing itself: the
numbers shown are the engine's, so what Enter places is exactly what was previewed. Enter
dismisses with that ``OrderRequest`` only when it is allowed (otherwise a notification says
why); escape dismisses with None.

Safe at machine speed (keys typed faster than the screen mounts and previews). Textual hands
each key to whatever widget is focused *when the app reads the key*, and every widget works
through its own queue: a Tab still waiting in one field's queue let the next digits land in that
field while the screen already showed the next one focused, and priority bindings (Enter) ran
before the digits typed ahead of them. So every key of the ticket goes through ONE queue, the
screen's: its fields (:class:`AmountInput`) pass their keys on to it, and the ticket's keys
(Enter, escape, ``m``/``l``/``u``, Tab) are handled there too, in the order typed. (An escape
acting at once would cancel a ticket whose Enter, typed before it, is still queued.) A key is
applied to the field that is focused when the key's turn comes (the field shown focused), or
dropped while the ticket is not ready, not on top or closed; never to another field. Keys the
app reads while a ticket is still open go to that ticket even when typed after its Enter or
escape: they are dropped with it. Once closed, nothing (a queued key, the preview timer)
touches the screen again. ``b`` / ``s`` are priority keys of the app (on its main screen), so
the ticket opens the moment the key is read and the keys typed after it reach the ticket.

An order without a stop asks first (``[ui] confirm_order_without_stop``, default on).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.message_pump import MessagePump
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tradeterm.core.display import MarketFormat, fmt_pct, fmt_r, quote_of
from tradeterm.core.models import Side
from tradeterm.core.preview import OrderPreview, SizeUnit, TicketDraft
from tradeterm.core.trading import OrderRequest, OrderType
from tradeterm.ui.screens.confirm import ConfirmScreen
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
    """A number field whose keys go to the ticket's queue (see the module docstring); the
    ticket applies them with :meth:`apply_key` when their turn comes."""

    def __init__(self, value: str, *, route: MessagePump, id: str) -> None:
        super().__init__(value, id=id, compact=True)
        self._route = route

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return character not in TICKET_KEYS and super().check_consume_key(key, character)

    def _forward_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            event._set_forwarded()
            self._route.post_message(event)  # in order with every other key of the ticket
            return
        super()._forward_event(event)

    async def apply_key(self, event: events.Key) -> None:
        """What the field itself would do with ``event``: its bindings (backspace, arrows,
        ctrl+u, ...), else a printable character is typed."""
        for binding in self._bindings.key_to_bindings.get(event.key, []):
            if self.check_action(binding.action, ()) is not False:
                await self.run_action(binding.action)
                return
        await super()._on_key(event)


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

    BINDINGS = [  # shown by the footer and help; the keys themselves arrive in _on_key
        Binding("enter", "place", "Place order"),
        Binding("escape", "cancel", "Cancel"),
        Binding("m", "order_type('market')", "Market order"),
        Binding("l", "order_type('limit')", "Limit order"),
        Binding("u", "cycle_unit", "Size unit"),
    ]
    AUTO_FOCUS = "#field-size"

    remembered: ClassVar[tuple[str, SizeUnit]] = ("100", "quote")
    """The size and unit of the last order placed from a ticket: the next one starts there."""

    def __init__(
        self,
        side: Side,
        symbol: str,
        preview: Callable[[TicketDraft], OrderPreview],
        *,
        last_price: Decimal | None = None,
        confirm_without_stop: bool = True,
    ) -> None:
        """``confirm_without_stop``: ask before placing an order without a stop."""
        super().__init__()
        self.side, self.symbol, self.preview, self.last_price = side, symbol, preview, last_price
        self.confirm_without_stop = confirm_without_stop
        self.order_type = OrderType.MARKET
        self.size_text, self.unit = OrderTicket.remembered
        self.current: OrderPreview | None = None  # the last preview, as shown
        self.problem: str | None = None  # the first invalid field, if any
        self._pending = False
        self._ready = False  # mounted, laid out and focused: keys may be applied
        self._closed = False  # dismissed: nothing may touch the screen any more

    @property
    def trading_colors(self) -> TradingColors:
        """The theme's trading colours (not ``colors``: that is Textual's own DOMNode property)."""
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
            yield AmountInput(value, route=self, id=f"field-{name}")
            yield Static(id=f"note-{name}", classes="note")

    def on_mount(self) -> None:
        colors = self.trading_colors
        paint = colors.bid if self.side == "buy" else colors.ask
        heading = Text(f"{self.side.upper()}  {self.symbol}", style=f"bold {colors.background}")
        side = self.query_one("#ticket-side", Static)
        side.styles.background = paint
        side.update(heading)
        self._show_type()
        self.set_focus(self.query_one("#field-size", Input))  # now: Widget.focus() is deferred
        self.set_interval(PREVIEW_EVERY_S, self._refresh_preview, name="ticket-preview")
        self._ready = True

    def on_unmount(self) -> None:
        self._closed = True

    async def _on_key(self, event: events.Key) -> None:
        """Every key of the ticket, in the order typed (see the module docstring)."""
        event.stop()
        event.prevent_default()
        if self._closed or self.app.screen is not self:
            return  # closed, or a question is on top: dropped, never applied elsewhere
        key = event.key
        if key == "escape":
            self.action_cancel()
        elif not self._ready:
            return
        elif key == "enter":
            self.action_place()
        elif key in ("tab", "down"):
            self._step_field_focus(1)
        elif key in ("shift+tab", "up"):
            self._step_field_focus(-1)
        elif event.character == "m":
            self.action_order_type("market")
        elif event.character == "l":
            self.action_order_type("limit")
        elif event.character == "u":
            self.action_cycle_unit()
        elif isinstance(self.focused, AmountInput) and self.focused.display:
            await self.focused.apply_key(event)

    # -- reactions --------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        """Validate and ask the engine on the next refresh (a burst of keystrokes is one ask)."""
        event.stop()
        if not self._pending and not self._closed:
            self._pending = True
            self.call_after_refresh(self._refresh_preview)

    def action_order_type(self, kind: str) -> None:
        """Market or limit."""
        if not self._ready or self._closed:
            return
        self.order_type = OrderType(kind)
        self._show_type()

    def action_cycle_unit(self) -> None:
        """Quote, base, % of equity at risk, and round again."""
        if not self._ready or self._closed:
            return
        self.unit = UNITS[(UNITS.index(self.unit) + 1) % len(UNITS)]
        self._refresh_preview()

    def action_place(self) -> None:
        """Enter: place the previewed order if it is allowed; otherwise say why not. Without a
        stop it asks first (unless ``confirm_without_stop`` is off)."""
        if not self._ready or self._closed:
            return
        self._refresh_preview()
        preview = self.current
        if self.problem is not None:
            self.notify(f"Order not placed: {self.problem}", severity="warning", timeout=5)
            return
        if preview is None or not preview.allowed or preview.request is None:
            reason = preview.reason if preview is not None and preview.reason else "no preview"
            self.notify(f"Order not placed: {reason}", severity="warning", timeout=8)
            return
        request = preview.request
        if self.confirm_without_stop and (request.bracket is None
                                          or request.bracket.stop_loss is None):
            base = self.symbol.partition("/")[0]
            fmt = self.market or MarketFormat(quote=quote_of(self.symbol))  # to tick and step
            where = "at market" if request.price is None else f"limit {fmt.price(request.price)}"
            question = ConfirmScreen(
                "Order without a stop",
                f"{request.side.upper()} {fmt.qty(request.quantity)} {base} {where} has no stop: "
                "its loss is not bounded. Place it anyway?",
                confirm_label="place it",
            )

            def answered(yes: bool | None) -> None:
                if yes and not self._closed:
                    self._close(request)

            self.app.push_screen(question, answered)
            return
        self._close(request)

    def action_cancel(self) -> None:
        if not self._closed:
            self._close(None)

    def _close(self, request: OrderRequest | None) -> None:
        """Dismiss once; from here on nothing touches the screen (keys, timer, preview)."""
        self._closed = True
        if request is not None:
            OrderTicket.remembered = (self.size_text, self.unit)
        self.dismiss(request)

    # -- internals --------------------------------------------------------------------------

    def _step_field_focus(self, step: int) -> None:
        """Tab / shift+tab over the fields shown now. Not Textual's focus chain: that is
        recomputed only after the next layout, so a Tab right after ``l`` would skip the limit
        field that has just appeared."""
        names = ["size", "price", "stop", "target"]
        if self.order_type is not OrderType.LIMIT:
            names.remove("price")
        fields = [self.query_one(f"#field-{name}", AmountInput) for name in names]
        current = self.focused
        index = fields.index(current) if isinstance(current, AmountInput) and (
            current in fields) else -step
        self.set_focus(fields[(index + step) % len(fields)])  # now, not after a refresh

    def _show_type(self) -> None:
        limit = self.order_type is OrderType.LIMIT
        text = Text("Type     ", style=self.trading_colors.muted)
        for kind, key in ((OrderType.MARKET, "m"), (OrderType.LIMIT, "l")):
            chosen = kind is self.order_type
            text.append(f"{'●' if chosen else '○'} {kind.value} ({key})   ",
                        style="bold" if chosen else self.trading_colors.muted)
        self.query_one("#ticket-type", Static).update(text)
        row = self.query_one("#row-price")
        if row.display != limit:
            row.display = limit
            if not limit and self.focused is self.query_one("#field-price", Input):
                self.set_focus(self.query_one("#field-size", Input))
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
        if not self.is_mounted or self._closed:
            return
        try:
            draft = self._draft()
            if draft is None:
                current = None
            else:
                try:
                    current = self.preview(draft)
                except Exception as exc:  # a bug in the engine must not take the form down
                    current = OrderPreview(None, False, f"preview failed: {exc}")
            if self._closed:  # closed while the preview was computed: not for this screen
                return
            self.current = current
            self.query_one("#ticket-preview", Static).update(
                preview_text(self.current, self.symbol, self.trading_colors, self.problem, self.market)
            )
        except NoMatches:  # the screen is being taken down (its widgets are gone)
            self.current = None

