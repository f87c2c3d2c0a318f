"""The Textual user interface.

Nothing here imports ccxt or the simulator at module level: the first frame must appear before
the engine (and ccxt) is even imported. Import :mod:`tradeterm.ui.app` for the application.
"""
