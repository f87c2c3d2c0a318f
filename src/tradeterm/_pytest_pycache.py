"""``pytest -p tradeterm._pytest_pycache`` (set in pyproject's ``addopts``): the per-user
bytecode cache of :mod:`tradeterm.pycache` for the test run.

Loaded by ``-p`` before pytest imports its entry-point plugins (pytest-textual-snapshot pulls in
textual, rich, jinja2 and syrupy), so under ``PYTHONDONTWRITEBYTECODE`` those, and everything the
tests import, are compiled once into the cache instead of on every run.
"""

from tradeterm.pycache import use_user_pycache

use_user_pycache()
