"""Equity, balance, unrealised PnL, the day's realised PnL against the daily loss limit, and
the trading state (ACTIVE / REDUCING / HALTED, with the reason when not active).

The limit is the risk engine's own (``EngineSnapshot.daily_loss_limit``:
``daily_loss_limit_pct`` of the day's starting equity), so the panel shows what is enforced.
While the risk engine has not seen the day's equity yet the panel says the limit is pending:
it never estimates it from the screen's own settings, which an attached screen may not share
with the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from rich.style import Style
from rich.text import Text

from tradeterm.core.display import DEFAULT_POLICY, DisplayPolicy, fmt_quote
from tradeterm.core.models import EngineSnapshot
from tradeterm.core.money import ZERO
from tradeterm.core.trading import AccountSnapshot
from tradeterm.ui.themes import TradingColors
from tradeterm.ui.widgets.lines import LineCacheWidget
from tradeterm.ui.widgets.table import muted, signed_style

HUNDRED = Decimal(100)
BAR_CELLS = 12


@dataclass(frozen=True, slots=True)
class AccountView:
    """The slice of the snapshot the panel shows (positions and orders are other panels')."""

    quote: str
    equity: Decimal
    balance: Decimal
    unrealized: Decimal
    realized_today: Decimal
    state: str
    reason: str | None
    limit: Decimal | None = None  # the risk engine's figure, when it has one
    policy: DisplayPolicy = DEFAULT_POLICY  # quote decimals ([display])

    def amount(self, value: Decimal, *, signed: bool = False) -> str:
        """A quote amount of the account at its currency's display decimals."""
        return fmt_quote(value, self.quote, signed=signed, policy=self.policy)


def account_view(snap: EngineSnapshot) -> AccountView | None:
    account: AccountSnapshot | None = snap.account
    if account is None:
        return None
    return AccountView(
        account.quote,
        account.equity,
        account.balance,
        account.unrealized_pnl,
        account.realized_pnl_today,
        snap.trading_state,
        snap.trading_reason,
        snap.daily_loss_limit,
        snap.display,
    )


def daily_loss_limit(view: AccountView) -> Decimal | None:
    """The day's loss limit in quote (positive), as the risk engine enforces it; None while it
    does not know the day's starting equity."""
    return view.limit


def loss_bar(used: Decimal, cells: int) -> tuple[str, str]:
    """``(filled, empty)`` block runs for ``used`` (0..1) of the limit."""
    filled = max(0, min(cells, round(used * cells)))
    return "█" * filled, "░" * (cells - filled)


def render_account(view: AccountView | None, width: int, colors: TradingColors) -> list[Text]:
    """Five lines: equity, balance and uPnL, the day against its limit, a bar, the state."""
    dim = muted(colors)
    if view is None:
        return [Text("account: waiting for the journal…", dim)]
    lines = []
    equity = Text("equity  ", dim)
    equity.append(view.amount(view.equity), Style(bold=True))
    equity.append(f" {view.quote}", dim)
    lines.append(equity)
    balance = Text("balance ", dim)
    balance.append(view.amount(view.balance))
    balance.append("  uPnL ", dim)
    balance.append(view.amount(view.unrealized, signed=True),
                   signed_style(view.unrealized, colors.profit, colors.loss))
    lines.append(balance)
    limit = daily_loss_limit(view)
    day = Text("day     ", dim)
    day.append(view.amount(view.realized_today, signed=True),
               signed_style(view.realized_today, colors.profit, colors.loss))
    day.append(" / limit pending" if limit is None else f" / {view.amount(-limit)} limit", dim)
    lines.append(day)
    used = (-view.realized_today / limit
            if limit is not None and limit > ZERO and view.realized_today < ZERO else ZERO)
    filled, empty = loss_bar(used, BAR_CELLS)
    bar_color = colors.loss if used >= Decimal("0.8") else (
        colors.warning if used >= Decimal("0.5") else colors.muted
    )
    bar = Text("loss    ", dim)
    bar.append(filled, Style(color=bar_color))
    bar.append(empty, dim)
    bar.append(f" {min(used, Decimal(1)) * HUNDRED:.0f}%", dim)
    lines.append(bar)
    lines.append(state_line(view.state, view.reason, colors))
    for line in lines:
        line.truncate(width, overflow="ellipsis")
    return lines


def state_line(state: str, reason: str | None, colors: TradingColors) -> Text:
    """``ACTIVE``, or ``REDUCING: <why>`` / ``HALTED: <why>`` in warning / error colours."""
    color = {"active": colors.profit, "reducing": colors.warning}.get(state, colors.error)
    line = Text(state.upper(), Style(color=color, bold=True), no_wrap=True)
    if state != "active" and reason:
        line.append(f": {reason}", Style(color=color))
    return line


class AccountPanel(LineCacheWidget):
    """The paper account and the trading state."""

    DEFAULT_CSS = """
    AccountPanel { height: 5; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: AccountView | None = None
        self.market_colors = TradingColors()

    def update_data(self, snap: EngineSnapshot, colors: TradingColors) -> None:
        """Take the engine snapshot; repaint only if this panel's slice changed."""
        view = account_view(snap)
        if view == self.view and colors == self.market_colors:
            return
        recolored = colors != self.market_colors
        self.view, self.market_colors = view, colors
        self.lines_changed(full=recolored)

    def build_lines(self, width: int, height: int) -> list[Text]:
        return render_account(self.view, width, self.market_colors)
