"""Textual strips that no longer refer to themselves: drawn lines freed at once, not by the
cycle collector.

A :class:`textual.strip.Strip` memoises what it derives from itself (crops, divisions, styled
copies) in caches it holds. Two of those derivations can be the strip itself:
``strip.divide([strip.cell_length])`` (one piece: ``[strip]``; the compositor divides every line
it draws at the screen's cuts, and a line with no other widget beside it is one piece) and
``strip.crop_extend(0, strip.cell_length, style)`` (nothing to crop or pad). Textual (8.2.8, the
pinned version) caches those results too, so each such strip is in a reference cycle with its
own cache: it, its caches, their dicts and every strip derived from it (around fifteen objects a
line) outlive their last use and wait for the cycle collector.

Measured on the render benchmark at 240x70 (``benchmarks/render.py``): about 920 such objects a
frame, two generation-0 collections a frame, and a full collection every 30-70 frames (3-25 ms,
the frames over the 10 ms budget). With the two identity cases answered without caching, a line
is freed by reference counting when the next frame replaces it, and the cycle collector has a
third of the work and runs full collections 3-7 times less often.

:func:`install` wraps the two methods once (the results are the same objects as before: ``self``
and a list holding ``self``; every other case goes to Textual's own method, caches included).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.style import Style
from textual.strip import Strip

_INSTALLED = "_tradeterm_no_self_cycles"


def install() -> None:
    """Make :class:`Strip`'s ``divide`` and ``crop_extend`` skip caching ``self`` (idempotent)."""
    if getattr(Strip, _INSTALLED, False):
        return
    divide, crop_extend = Strip.divide, Strip.crop_extend

    def divide_no_cycle(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
        length = self.cell_length
        inside = [cut for cut in cuts if cut <= length]
        if inside == [length]:
            return [self]
        return divide(self, inside)

    def crop_extend_no_cycle(self: Strip, start: int, end: int, style: Style | None) -> Strip:
        if start == 0 and end == self.cell_length:
            return self
        return crop_extend(self, start, end, style)

    Strip.divide = divide_no_cycle  # type: ignore[method-assign]
    Strip.crop_extend = crop_extend_no_cycle  # type: ignore[method-assign]
    setattr(Strip, _INSTALLED, True)
