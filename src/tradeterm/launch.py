"""The ``tradeterm`` console script and ``python -m tradeterm``: bytecode cache, then the CLI.

:func:`tradeterm.pycache.use_user_pycache` has to run before anything heavy is imported, and
``tradeterm.cli`` imports the config (pydantic) at module level, so the entry point is this
module rather than ``tradeterm.cli:main`` itself.
"""

from __future__ import annotations

from tradeterm.pycache import use_user_pycache


def main(argv: list[str] | None = None) -> int:
    use_user_pycache()
    from tradeterm.cli import main as cli_main

    return cli_main(argv)
