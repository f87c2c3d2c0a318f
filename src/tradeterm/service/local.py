"""Requests an in-process screen asks its own engine, answered like an attached screen's.

The workstation without a service engine runs the engine in its own process; its screens still
ask through ``Engine.ask``, which this answers with the socket server's handler table
(``service/requests.py``) and the answer made to travel through the codec (msgpack out and
back), so an in-process screen sees exactly the plain values an attached one receives and both
run one code path. A refusal is ``RequestFailed``, as over the socket.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from tradeterm.service.asking import Asker, RequestRefused
from tradeterm.service.requests import answer
from tradeterm.wire.codec import to_plain
from tradeterm.wire.messages import ENCODER
from tradeterm.wire.remote import RequestFailed

if TYPE_CHECKING:
    from tradeterm.engine import Engine


def local_answerer(engine: Engine, clients: Callable[[], int] = lambda: 0,
                   started_ms: int = 0) -> Callable[[str, dict[str, Any]], Awaitable[Any]]:
    """What ``Engine.answerer`` is set to: the in-process screen asks as a trader."""
    asker = Asker("trader", clients, started_ms)

    async def ask(kind: str, args: dict[str, Any]) -> Any:
        try:
            body = await answer(engine, asker, kind, to_plain(args))
        except RequestRefused as exc:
            raise RequestFailed(str(exc)) from None
        return msgspec.msgpack.decode(ENCODER.encode(body))

    return ask
