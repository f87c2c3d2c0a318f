"""Requests a client asks the engine (``Ask`` frames), answered with ``Answer``.

Each kind names what it needs and who may ask. Answers are plain values (msgspec builtins:
money as decimal strings, never floats). The same table answers an in-process screen
(``Engine.ask``, set up by ``service.hosted``) and an attached one, so both run one code path.

* ``preview`` ``{draft}``: the order ticket's question; changes nothing.
* ``status``: what ``tradeterm engine status`` and the stop confirmation show.
* ``stop``: a trader's confirmed stop of the engine.
* ``journal.page`` ``{tabs, limit, counted}``: the newest rows of journal tables, display cells
  (``service/journal_requests.py``); ``journal.stats``: the statistics tab;
  ``journal.curve`` ``{width}``: the equity curve and daily PnL. All three take the filters
  ``{symbol, strategy, from, to}``. Read in a thread.
* ``backtest.strategies``: the strategies the backtest form offers (listed in a child
  process); ``backtest.data`` ``{symbol, timeframe}``: what the download store holds;
  ``backtest.start`` ``{strategy, symbol, timeframe, first_day, last_day, params}``: a trader
  starts a job (one at a time), which streams ``BacktestProgressed`` and ends with
  ``BacktestFinished`` to every client; ``backtest.state``: the job running and the last
  report (``service/backtests.py``); ``backtest.optimize`` ``{strategy, symbol, timeframe,
  first_day, last_day, params, method, trials, steps, objective, x, y, split, seed,
  min_trades}``: a trader starts an optimisation in the same job slot (``OptimizeProgressed``,
  ``OptimizeFinished``).
* ``market.symbols``: every symbol the venue lists; ``market.scan`` ``{sort, quote?}``: the
  venue's 24 h movers, exact (``service/market_requests.py``).
* ``strategy.plots`` ``{strategy, symbol, timeframe, since, first}``: a strategy's declared plot
  columns from its newest evaluation (``service/plot_requests.py``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tradeterm import __version__
from tradeterm.core.commands import Shutdown
from tradeterm.core.preview import TicketDraft
from tradeterm.service import backtests, journal_requests, market_requests, plot_requests
from tradeterm.service.asking import Asker as Asker  # re-exported: the server's
from tradeterm.service.asking import RequestRefused as RequestRefused
from tradeterm.wire.codec import CodecError, convert, to_plain

if TYPE_CHECKING:
    from tradeterm.engine import Engine


Handler = Callable[["Engine", Asker, dict[str, Any]], Awaitable[Any]]


async def _preview(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    try:
        draft = convert(args.get("draft"), TicketDraft, "order ticket draft")
    except CodecError as exc:
        raise RequestRefused(str(exc)) from None
    return to_plain(engine.preview(draft))


async def _status(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    snap = engine.snapshot()
    account = snap.account
    return {
        "pid": os.getpid(),
        "version": __version__,
        "started_ms": asker.started_ms,
        "uptime_s": round(time.time() - asker.started_ms / 1000, 1),
        "phase": snap.phase.value,
        "exchange": snap.exchange,
        "mode": snap.mode,
        "demo": snap.demo,
        "trading_state": snap.trading_state,
        "positions": len(account.positions) if account is not None else 0,
        "orders": len(account.orders) if account is not None else 0,
        "equity": to_plain(account.equity) if account is not None else None,
        "quote": account.quote if account is not None else None,
        "clients": asker.clients(),
    }


async def _stop(engine: Engine, asker: Asker, args: dict[str, Any]) -> Any:
    if asker.role != "trader":
        raise RequestRefused("a read-only client cannot stop the engine")
    answer = await _status(engine, asker, args)
    engine.submit(Shutdown())
    return answer


HANDLERS: dict[str, Handler] = {
    "preview": _preview, "status": _status, "stop": _stop,
    "journal.page": journal_requests.page, "journal.stats": journal_requests.stats,
    "journal.curve": journal_requests.curve,
    "backtest.strategies": backtests.strategies, "backtest.data": backtests.data,
    "backtest.start": backtests.start, "backtest.state": backtests.state,
    "backtest.optimize": backtests.optimize,
    "market.symbols": market_requests.symbols, "market.scan": market_requests.scan_request,
    "strategy.plots": plot_requests.plots,
}


async def answer(engine: Engine, asker: Asker, kind: str, args: dict[str, Any]) -> Any:
    handler = HANDLERS.get(kind)
    if handler is None:
        raise RequestRefused(f"unknown request {kind!r} (known: {', '.join(sorted(HANDLERS))})")
    return await handler(engine, asker, args)
