"""Who asks a request and how a request is refused (shared by every request module)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tradeterm.wire.messages import Role


class RequestRefused(Exception):
    """The request cannot be answered; the message says why (it goes back to the client)."""


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asks: the role decides what is allowed."""

    role: Role
    clients: Callable[[], int]  # how many clients are attached now
    started_ms: int
