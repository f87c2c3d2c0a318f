"""tradeterm: a trading workstation in the terminal."""

from tradeterm.pycache import use_user_pycache as _use_user_pycache

__version__ = "0.1.0"

# Before anything heavy is imported (tradeterm.cli imports pydantic at module level): where
# PYTHONDONTWRITEBYTECODE is set, compile what is imported once into a per-user cache instead
# of on every launch. See tradeterm/pycache.py.
_use_user_pycache()
