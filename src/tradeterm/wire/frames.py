"""Length-prefixed frames: a 4-byte big-endian length, then that many bytes of msgpack.

A frame longer than the reader's maximum is refused before a byte of it is buffered (a
hostile or broken peer cannot make the engine allocate what it announces); the stream cannot
be resynchronised after that, so the connection ends. A frame that decodes badly is only that
frame's problem: the boundaries stay intact and the next frame is read as usual.
"""

from __future__ import annotations

import asyncio
import struct

HEADER = struct.Struct(">I")

MAX_CLIENT_FRAME = 1 << 20
"""Largest frame a client may send (1 MiB): commands and requests are small."""

MAX_SERVER_FRAME = 16 << 20
"""Largest frame the engine sends (16 MiB): a first view carries the candle history."""


class FrameTooLarge(Exception):
    """The peer announced a frame over the limit; the connection cannot continue."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"frame of {size:,} bytes is over the {limit:,}-byte limit")
        self.size, self.limit = size, limit


def pack(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


async def read_frame(reader: asyncio.StreamReader, limit: int) -> bytes | None:
    """The next frame's payload; None at a clean end of stream (between frames).
    Raises :class:`FrameTooLarge`, or ``asyncio.IncompleteReadError`` for a stream cut mid-frame."""
    try:
        header = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    (size,) = HEADER.unpack(header)
    if size > limit:
        raise FrameTooLarge(size, limit)
    return await reader.readexactly(size)
