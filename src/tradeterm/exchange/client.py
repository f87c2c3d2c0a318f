"""The ccxt.pro client factory.

One function builds every exchange client the project uses, so that the one dangerous detail,
which host a client talks to, is decided in one place. For the simulator every REST and WebSocket
URL the client knows (``urls['api']``, ``urls['test']``, ``urls['demo']``, nested dicts included)
is rewritten to the loopback address, so that nothing can reach a real exchange by accident.

``ccxt`` is imported here, inside the functions, never at module import: the full ``import
ccxt.pro`` loads ~300 modules (0.5 s compiled, 4 s not, 110 MB), and must stay off the path to
the first frame. ``ccxt_loader`` imports only the exchange in use (0.2 s, 55 MB).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tradeterm.exchange.ccxt_loader import load_ccxt_pro

# Options that keep load_markets() to one request on Binance spot and notice a dead socket in
# ~40 s instead of ~6 min (see docs/simulator.md).
BINANCE_SPOT_OPTIONS: dict[str, Any] = {
    "defaultType": "spot",
    "fetchMarkets": {"types": ["spot"]},
    "fetchCurrencies": False,
    "fetchMargins": False,
    "streaming": {"keepAlive": 20000},
}


def import_ccxt_pro(exchange_id: str = "binance") -> Any:
    """Import ``ccxt.pro`` with ``exchange_id`` loaded (slow: call it from a thread, after the
    first frame).

    Only that exchange's modules are imported (see ``ccxt_loader``); other exchanges still load on
    first use, and any failure of the fast path falls back to the full ``import ccxt.pro``.
    """
    return load_ccxt_pro(exchange_id)


def rewrite_url(url: str, http_base: str) -> str:
    """Point ``url`` at the host of ``http_base`` (``http://127.0.0.1:PORT``), keeping its path.

    WebSocket URLs get ``ws://`` and a ``/stream`` prefix on their path, because ccxt's
    ``is_spot_url()`` recognises Binance spot stream URLs by the substring ``/stream``.
    """
    target = urlsplit(http_base)
    parts = urlsplit(url)
    if parts.scheme in ("ws", "wss"):
        path = parts.path if parts.path.startswith("/stream") else "/stream" + parts.path
        return urlunsplit(("ws", target.netloc, path, parts.query, ""))
    return urlunsplit((target.scheme or "http", target.netloc, parts.path, parts.query, ""))


def _rewrite_tree(node: Any, http_base: str) -> Any:
    if isinstance(node, dict):
        return {key: _rewrite_tree(value, http_base) for key, value in node.items()}
    if isinstance(node, str) and node.split("://", 1)[0] in ("http", "https", "ws", "wss"):
        return rewrite_url(node, http_base)
    return node


def create_exchange(
    exchange_id: str = "binance",
    *,
    sim_base_url: str | None = None,
    config: dict[str, Any] | None = None,
) -> Any:
    """Build a ``ccxt.pro`` client for ``exchange_id``.

    With ``sim_base_url`` (``http://127.0.0.1:PORT``) every URL of the client is rewritten to it,
    and the result is a Binance-compatible client of the project's simulator.
    ``config`` is passed to the ccxt constructor (API keys come from the environment only).
    """
    ccxtpro = import_ccxt_pro()
    try:
        cls = getattr(ccxtpro, exchange_id)
    except AttributeError:
        raise ValueError(f"ccxt.pro has no exchange {exchange_id!r}") from None
    params: dict[str, Any] = {"enableRateLimit": True}
    if exchange_id == "binance" or sim_base_url is not None:
        params["options"] = dict(BINANCE_SPOT_OPTIONS)
    params.update(config or {})
    exchange = cls(params)
    if sim_base_url is not None:
        for key in ("api", "test", "demo"):
            if key in exchange.urls:
                exchange.urls[key] = _rewrite_tree(exchange.urls[key], sim_base_url)
        # The simulator does not throttle like Binance; a tiny local rate limit keeps tests fast.
        exchange.rateLimit = 1
    return exchange


def all_urls(exchange: Any) -> list[str]:
    """Every URL string in a client's ``urls['api'|'test'|'demo']`` (for tests and diagnostics)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, str) and "://" in node:
            found.append(node)

    for key in ("api", "test", "demo"):
        walk(exchange.urls.get(key))
    return found
