"""``tradeterm run --headless``: now an alias of ``tradeterm engine start`` (the foreground
engine: ``tradeterm.service.runner``). This module keeps the name the event lines had
(``describe``, now ``tradeterm.core.event_lines``) for code that imports it from here.
"""

from __future__ import annotations

from tradeterm.core.event_lines import FormatFor, describe

__all__ = ["FormatFor", "describe"]
