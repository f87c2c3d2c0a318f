"""An engine with its socket server: what every engine process runs (the workstation's
in-process engine, ``tradeterm engine start``, ``run --headless``), so any engine can be
attached to while it runs. Its in-process requests (``Engine.ask``) are answered by the
server's own handlers (``service/local.py``)."""

from __future__ import annotations

from tradeterm.config import Settings
from tradeterm.engine import Engine
from tradeterm.service.local import local_answerer
from tradeterm.service.paths import socket_path
from tradeterm.service.server import EngineServer


def served_engine(settings: Settings, **engine_options: object) -> Engine:
    """A new :class:`Engine` whose socket server starts once it holds its journal's lock."""
    engine = Engine(settings, **engine_options)  # type: ignore[arg-type]
    backlog = settings.service.max_client_backlog_kb * 1024
    server = EngineServer(engine, socket_path(settings.journal_file), max_backlog=backlog)
    engine.services.append(server)
    engine.answerer = local_answerer(engine, lambda: len(server.sessions), server.started_ms)
    return engine
