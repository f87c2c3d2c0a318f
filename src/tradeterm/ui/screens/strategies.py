"""The strategies list (``S``): state, signals, last run, last error; Enter starts or stops the
highlighted one. Dismisses with the command to send, or None.

The screen shows the :class:`StrategyHealth` tuple it was opened with and decides nothing
itself: the engine carries the command out (a start runs the look-ahead guard first) and the
next snapshot shows the result.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from tradeterm.core.commands import Command, StartStrategy, StopStrategy
from tradeterm.core.models import StrategyHealth, StrategyState

# Theme slot and boldness of each state's cell.
_STATE_STYLE = {
    StrategyState.ENABLED: ("success", True),
    StrategyState.DISABLED: ("secondary", False),
    StrategyState.FAILED: ("error", True),
}


def toggle_command(health: StrategyHealth) -> Command:
    """Stop an enabled strategy; start a disabled or failed one."""
    if health.state is StrategyState.ENABLED:
        return StopStrategy(health.name)
    return StartStrategy(health.name)


def strategy_row(health: StrategyHealth) -> tuple[str, str, str, str, str]:
    """``(name, state, signals, last run, last error)`` as plain cells."""
    ran = f"{health.last_duration_ms:.1f} ms" if health.last_duration_ms is not None else "—"
    return (health.name, health.state.value, str(health.signals), ran, health.last_error or "")


class StrategiesScreen(ModalScreen[Command | None]):
    """A table of ``strategies``; Enter dismisses with the start/stop command for the row."""

    DEFAULT_CSS = """
    StrategiesScreen { align: center middle; }
    StrategiesScreen > Vertical {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    StrategiesScreen #strategies-title { text-style: bold; color: $accent; }
    StrategiesScreen #strategies-hint { color: $text-muted; }
    StrategiesScreen DataTable { height: auto; max-height: 20; }
    """

    BINDINGS = [Binding("escape,q", "close", "Close", show=False)]

    def __init__(self, strategies: tuple[StrategyHealth, ...]) -> None:
        super().__init__()
        self.strategies = strategies

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Strategies", id="strategies-title")
            if self.strategies:
                table: DataTable[str | Text] = DataTable(cursor_type="row", zebra_stripes=True,
                                                         id="strategies-table")
                table.add_columns("Strategy", "State", "Signals", "Last run", "Last error")
                for health in self.strategies:
                    name, state, signals, ran, error = strategy_row(health)
                    table.add_row(name, Text(state, style=self._state_style(health.state)),
                                  Text(signals, justify="right"), Text(ran, justify="right"),
                                  error, key=health.name)
                yield table
                hint = "enter starts or stops the highlighted strategy · escape closes"
            else:
                yield Static("No strategy is loaded (see [strategies] in config.toml).")
                hint = "escape closes"
            yield Static(hint, id="strategies-hint")

    def _state_style(self, state: StrategyState) -> Style:
        slot, bold = _STATE_STYLE[state]
        return Style(color=getattr(self.app.current_theme, slot, None), bold=bold)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        name = event.row_key.value
        health = next((h for h in self.strategies if h.name == name), None)
        if health is not None:
            self.dismiss(toggle_command(health))

    def action_close(self) -> None:
        self.dismiss(None)
