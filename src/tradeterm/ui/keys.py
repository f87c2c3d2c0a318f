"""The main screen's keys: the data lives in :mod:`tradeterm.core.keys` (config validates
``[keymap]`` against it and may not import the UI); re-exported here for the app."""

from __future__ import annotations

from tradeterm.core.keys import BINDING_IDS, KEYS, TIMEFRAME_KEYS, Key

__all__ = ["BINDING_IDS", "KEYS", "TIMEFRAME_KEYS", "Key"]
