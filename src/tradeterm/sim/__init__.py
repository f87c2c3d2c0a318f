"""A Binance-compatible spot exchange simulator on loopback (REST + WebSocket).

Unmodified ccxt talks to it with only its URLs rewritten (``create_exchange(sim_base_url=...)``).
The market model (``market``, ``book``, ``candles``, ``history``, ``replay``) is separate from the
HTTP/WebSocket layer (``server``, ``rest``, ``hub``, ``wire``). See docs/simulator.md.
"""

from tradeterm.sim.server import SimServer
from tradeterm.sim.threaded import ThreadedSim

__all__ = ["SimServer", "ThreadedSim"]
