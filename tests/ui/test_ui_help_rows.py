"""The help's rows in words: Textual's own bindings without a description."""

from __future__ import annotations

from textual.binding import Binding

from tradeterm.ui.screens.help import binding_rows


def test_rows_when_textual_ctrl_c_binding_then_described_not_help_quit():
    """Seen trying the demo: ``?`` listed ``^c  Help quit`` (the action's name)."""
    rows = binding_rows([Binding("ctrl+c", "help_quit", show=False),
                         Binding("x", "some_action")], lambda b: b.key)
    assert rows[0] == ("ctrl+c", "Says how to quit (does not quit)", "help_quit")
    assert rows[1] == ("x", "Some action", "some_action")  # any other: the action in words
