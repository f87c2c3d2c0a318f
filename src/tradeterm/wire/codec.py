"""Core commands and events to protocol frames and back.

A command or event travels as its class name and its fields (``msgspec.to_builtins``:
``Decimal`` as its string, enums as their values); the receiving side looks the name up among
the core's own classes only (never an arbitrary import) and rebuilds the frozen dataclass with
``msgspec.convert``, which checks every field's type: a malformed one is a
:class:`CodecError` naming what was wrong, never a half-built object.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from tradeterm.core import commands as _commands
from tradeterm.core import events as _events
from tradeterm.core.commands import Command
from tradeterm.core.events import Event
from tradeterm.wire.messages import Cmd, Ev, enc_hook

T = TypeVar("T")


class CodecError(ValueError):
    """A frame's payload is not a valid command, event or answer."""


def _subclasses(base: type[T], module: Any) -> dict[str, type[T]]:
    return {
        name: cls for name, cls in vars(module).items()
        if isinstance(cls, type) and issubclass(cls, base) and cls is not base
    }


COMMANDS: dict[str, type[Command]] = _subclasses(Command, _commands)
EVENTS: dict[str, type[Event]] = _subclasses(Event, _events)


def to_plain(value: Any) -> Any:
    """A value (dataclasses, Decimals, enums inside) as msgpack-ready builtins."""
    return msgspec.to_builtins(value, enc_hook=enc_hook)


def convert(value: Any, kind: type[T], what: str) -> T:
    try:
        return msgspec.convert(value, kind)
    except (msgspec.ValidationError, TypeError) as exc:
        raise CodecError(f"bad {what}: {exc}") from None


def command_frame(command: Command) -> Cmd:
    return Cmd(type(command).__name__, to_plain(command))


def command_of(frame: Cmd) -> Command:
    kind = COMMANDS.get(frame.name)
    if kind is None:
        raise CodecError(f"unknown command {frame.name!r}")
    return convert(frame.args, kind, f"{frame.name} command")


def event_frame(event: Event) -> Ev:
    return Ev(type(event).__name__, to_plain(event))


def event_of(frame: Ev) -> Event:
    kind = EVENTS.get(frame.name)
    if kind is None:
        raise CodecError(f"unknown event {frame.name!r}")
    return convert(frame.body, kind, f"{frame.name} event")
