"""The fast ccxt loader must be indistinguishable from ``import ccxt.pro`` to its users.

Checks that touch ``sys.modules`` run in a fresh interpreter (``sys.modules`` is process-global
and other tests import ccxt normally); each script prints ``OK`` only if all its asserts pass.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tradeterm.exchange.ccxt_loader import slim_code


def run_script(body: str) -> str:
    """Run ``body`` in a fresh interpreter of this venv; fail with its stderr if it fails."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_fast_load_imports_one_exchange_and_stays_transparent() -> None:
    out = run_script(
        """
        import ast, asyncio, socket, sys
        from pathlib import Path
        from tradeterm.exchange.client import create_exchange, import_ccxt_pro

        def exchange_modules():
            return {n for n in sys.modules if n.count(".") == 1 + n.startswith(("ccxt.pro.",
                    "ccxt.async_support.")) and n.rsplit(".", 1)[1] in ccxt.exchanges}

        pro = import_ccxt_pro("binance")
        import ccxt, ccxt.async_support, ccxt.pro
        from ccxt.base.errors import NetworkError
        assert pro is ccxt.pro and type(ccxt.pro.binance) is type
        assert ccxt.pro.binance.__module__ == "ccxt.pro.binance"
        loaded = exchange_modules()
        assert {"ccxt.pro.binance", "ccxt.async_support.binance"} <= loaded, loaded
        assert len(loaded) < 10, loaded

        # Non-exchange names come from the real __init__ files.
        src = Path(ccxt.__file__).read_text()
        tree = ast.parse(src)
        listed = next(ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)
                      and n.targets[0].id == "exchanges")
        assert ccxt.exchanges == listed and len(listed) > 90
        assert "binance" in ccxt.pro.exchanges and "okx" in ccxt.async_support.exchanges
        assert ccxt.__version__ == ccxt.pro.__version__ and ccxt.__version__.startswith("4.")
        assert NetworkError is ccxt.NetworkError is ccxt.pro.NetworkError
        assert ccxt.TICK_SIZE is not None and ccxt.Precise.string_add("1", "2") == "3"
        assert "binance" in ccxt.__all__ and "binance" in dir(ccxt.pro)
        assert ccxt.async_support.Exchange is not ccxt.Exchange

        # Errors raised by the exchange are the package's error classes.
        class FakeClient:
            url = "wss://stream.binance.com:9443/stream"
            subscriptions = {}
            def reject(self, error, message_hash):
                self.error = error
        ex = ccxt.pro.binance()
        book = ex.order_book({})
        book["nonce"], book["timestamp"] = 10, 1
        ex.orderbooks["BTCUSDT"] = book
        client = FakeClient()
        ex.handle_order_book(client, {"e": "depthUpdate", "E": 1, "s": "BTCUSDT",
                                      "U": 20, "u": 25, "b": [], "a": []})
        assert isinstance(client.error, ccxt.ChecksumError), client.error

        with socket.socket() as s:  # a loopback port nobody listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        async def refused():
            ex = create_exchange("binance", sim_base_url=f"http://127.0.0.1:{port}")
            try:
                await ex.fetch_time()
            except Exception as exc:
                return exc
            finally:
                await ex.close()
        assert isinstance(asyncio.run(refused()), ccxt.NetworkError)

        # Other exchanges load on first use, as classes, from every package.
        assert ccxt.pro.okx.__module__ == "ccxt.pro.okx"
        assert ccxt.okx.__module__ == "ccxt.okx"
        import ccxt.async_support.bybit
        assert ccxt.async_support.bybit.__module__ == "ccxt.async_support.bybit"
        assert issubclass(ccxt.pro.okx, ccxt.async_support.okx)
        assert ccxt.async_support.binance is sys.modules["ccxt.async_support.binance"].binance
        try:
            ccxt.pro.nosuchexchange
        except AttributeError:
            pass
        else:
            raise AssertionError("unknown names must raise AttributeError")
        print("OK")
        """
    )
    assert out.strip() == "OK"


def test_unrecognised_layout_falls_back_to_full_import() -> None:
    out = run_script(
        """
        import sys
        from tradeterm.exchange import ccxt_loader

        def unexpected(*args):
            raise ValueError("unexpected layout")
        ccxt_loader.slim_code = unexpected
        pro = ccxt_loader.load_ccxt_pro("binance")
        import ccxt
        assert type(ccxt.pro).__name__ == "module"  # the plain package, not the lazy one
        assert "ccxt.pro.okx" in sys.modules and "ccxt.okx" in sys.modules
        assert pro.binance.__module__ == "ccxt.pro.binance"
        assert isinstance(pro.binance().describe(), dict) and len(ccxt.exchanges) > 90
        print("OK")
        """
    )
    assert out.strip() == "OK"


def test_already_imported_ccxt_is_left_alone() -> None:
    out = run_script(
        """
        import ccxt
        from tradeterm.exchange.ccxt_loader import load_ccxt_pro
        pro = load_ccxt_pro("okx")
        assert type(ccxt).__name__ == "module" and type(pro).__name__ == "module"
        assert pro.okx.__module__ == "ccxt.pro.okx"
        print("OK")
        """
    )
    assert out.strip() == "OK"


def _ccxt_init() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("ccxt")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin)


def test_slim_code_drops_exactly_the_exchange_imports() -> None:
    source = _ccxt_init().read_text(encoding="utf-8")
    names = slim_code(source, "ccxt", "x.py").co_names
    assert "exchanges" in names and "errors" in names and "Exchange" in names
    assert "binance" not in names and "okx" not in names


@pytest.mark.parametrize(
    "source",
    [
        # no exchange import at all
        "exchanges = ['binance']\n",
        # an exchange listed but not imported
        "from ccxt.okx import okx\nexchanges = ['okx', 'binance']\n",
        # an exchange imported but not listed
        "from ccxt.okx import okx\nfrom ccxt.kraken import kraken\nexchanges = ['okx']\n",
        # the list is no longer a literal
        "from ccxt.okx import okx\nexchanges = sorted(['okx'])\n",
    ],
)
def test_slim_code_rejects_unexpected_layouts(source: str) -> None:
    with pytest.raises(ValueError):
        slim_code(source, "ccxt", "x.py")
