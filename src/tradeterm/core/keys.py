"""The main screen's keys as plain data: one list that the app turns into Textual bindings and
the config loader checks ``[keymap]`` against.

It lives in ``core`` and imports nothing from Textual, so :mod:`tradeterm.config` (which the
headless engine also loads, and which sits below the UI in the layers of
``docs/architecture.md``) can validate binding ids; ``tradeterm.ui.keys`` re-exports it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Keys 1-6 pick these timeframes, in this order.
TIMEFRAME_KEYS = ("1m", "5m", "15m", "1h", "4h", "1d")


@dataclass(frozen=True, slots=True)
class Key:
    """One binding: ``id`` is the stable name a ``[keymap]`` entry remaps."""

    id: str
    key: str
    action: str
    description: str
    show: bool = True  # in the footer
    key_display: str | None = None
    group: str | None = None  # footer group: its keys are shown as one hint
    priority: bool = False  # checked before the focused widget's own keys


KEYS: tuple[Key, ...] = (
    *(
        Key(f"timeframe.{tf}", str(i), f"timeframe('{tf}')", f"{tf} chart", group="Timeframe")
        for i, tf in enumerate(TIMEFRAME_KEYS, start=1)
    ),
    Key("symbol.previous", "left_square_bracket", "cycle_symbol(-1)", "Previous symbol",
        key_display="[", group="Symbol"),
    Key("symbol.next", "right_square_bracket", "cycle_symbol(1)", "Next symbol",
        key_display="]", group="Symbol"),
    # trading
    # priority: the ticket opens the moment the key is read, so keys typed right after it go to
    # the ticket, not to the panel below (the app allows it only on the main screen)
    Key("order.buy", "b", "ticket('buy')", "Buy", priority=True),
    Key("order.sell", "s", "ticket('sell')", "Sell", priority=True),
    Key("order.cancel", "x", "cancel_order", "Cancel order", show=False),
    Key("position.close", "c", "close_position", "Close position", show=False),
    Key("flatten", "F", "flatten", "Flatten all", show=False),
    Key("kill", "K", "kill", "Kill switch"),
    Key("resume", "R", "resume", "Resume trading", show=False),
    # chart
    Key("chart.ema", "e", "overlay('ema')", "EMA overlay", show=False),
    Key("chart.bollinger", "o", "overlay('bollinger')", "Bollinger overlay", show=False),
    Key("chart.vwap", "v", "overlay('vwap')", "VWAP overlay", show=False),
    Key("chart.smc", "z", "overlay('smc')", "SMC zones", show=False),
    Key("chart.indicator", "i", "indicator(1)", "Next indicator in pane 1", show=False),
    Key("chart.indicator2", "I", "indicator(2)", "Next indicator in pane 2", show=False),
    Key("chart.pane2", "P", "second_pane", "Second indicator pane on / off", show=False),
    Key("chart.back", "comma", "scroll_chart(-10)", "Scroll back", show=False, key_display=","),
    Key("chart.forward", "full_stop", "scroll_chart(10)", "Scroll forward", show=False,
        key_display="."),
    Key("chart.zoom_out", "minus", "zoom(-1)", "Zoom out", show=False, key_display="-"),
    Key("chart.zoom_in", "equals_sign,plus", "zoom(1)", "Zoom in", show=False, key_display="+"),
    Key("chart.live", "0", "go_live", "Back to the newest candle", show=False),
    Key("chart.log", "L", "log_scale", "Log price scale", show=False),
    # book
    Key("book.coarser", "g", "group(1)", "Coarser book grouping", show=False),
    Key("book.finer", "G", "group(-1)", "Finer book grouping", show=False),
    # panels (small terminals: one panel at a time, chosen with the tab bar)
    Key("panel.next", "tab", "next_panel(1)", "Next panel", show=False, priority=True),
    Key("panel.previous", "shift+tab", "next_panel(-1)", "Previous panel", show=False,
        priority=True),
    # screens and the rest
    Key("screen.journal", "j", "journal", "Journal"),
    Key("screen.backtest", "t", "backtest", "Backtest", show=False),
    Key("strategies", "S", "strategies", "Strategies"),
    Key("theme.next", "T", "next_theme", "Next theme", show=False),
    Key("screen.notices", "N", "notices", "Notification log", show=False),
    Key("screen.scanner", "m", "scanner", "Market scanner", show=False),
    # bar replay (only with --replay)
    Key("replay.pause", "p", "replay('pause')", "Pause / resume replay"),
    Key("replay.step", "n", "replay('step')", "Step one bar"),
    Key("replay.slower", "less_than_sign", "replay_speed(0.5)", "Replay slower", show=False,
        key_display="<"),
    Key("replay.faster", "greater_than_sign", "replay_speed(2.0)", "Replay faster", show=False,
        key_display=">"),
    Key("demo", "d", "use_demo", "Use the demo market"),
    Key("help", "question_mark", "help", "Help", key_display="?"),
    Key("quit", "q", "quit", "Quit"),
)

BINDING_IDS: tuple[str, ...] = tuple(key.id for key in KEYS)
"""Every id a ``[keymap]`` entry may name."""
