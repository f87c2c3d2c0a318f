"""The engine never pulls in Textual, nor ccxt at import time (it is imported in a thread)."""

import subprocess
import sys


def test_engine_imports_neither_textual_nor_ccxt():
    code = (
        "import tradeterm.engine, sys; "
        "bad = [m for m in ('textual', 'ccxt') if m in sys.modules]; "
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
