"""Drawn lines are freed by reference counting: no Textual strip is left in a cycle with its own
cache (see ``tradeterm.ui.strip_cycles``; the render budget's full collections came from them)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tradeterm.ui.strip_cycles import install

RED = Style(color="#ff0000")


@pytest.fixture
def no_automatic_gc() -> Iterator[None]:
    """Only what the test drops is garbage when it calls ``gc.collect()``."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def line() -> Strip:
    return Strip([Segment("price "), Segment("64000.10", RED), Segment("  1.5")])


def cyclic_garbage_after(use: object) -> int:
    """Objects only the cycle collector frees once the strip ``use`` was called on is dropped."""
    strip = line()
    use(strip)  # type: ignore[operator]
    del strip
    return gc.collect()


def test_strip_cut_into_one_piece_or_cropped_to_itself_then_freed_without_the_collector(
    no_automatic_gc: None,
) -> None:
    install()
    assert cyclic_garbage_after(lambda s: s.divide([s.cell_length])) == 0
    assert cyclic_garbage_after(lambda s: s.divide([s.cell_length, s.cell_length + 5])) == 0
    assert cyclic_garbage_after(lambda s: s.crop_extend(0, s.cell_length, None)) == 0
    # What the compositor does to a line: styled, filtered, divided, each result of the last.
    assert cyclic_garbage_after(
        lambda s: s.apply_style(RED).crop_extend(0, s.cell_length, None).divide(
            [s.cell_length])) == 0


def test_strip_methods_give_the_same_results_after_install() -> None:
    install()
    install()  # twice: still one wrapper (the second call is a no-op)
    strip = line()
    width = strip.cell_length
    assert strip.divide([width]) == [strip] and strip.divide([width])[0] is strip
    assert strip.divide([width, width + 3]) == [strip]  # cuts past the end are ignored
    assert [s.text for s in strip.divide([6, width])] == ["price ", "64000.10  1.5"]
    assert strip.crop_extend(0, width, None) is strip
    assert strip.crop_extend(0, 5, None).text == "price"
    assert strip.crop_extend(6, width + 2, None).text == "64000.10  1.5  "
    assert strip.crop_extend(0, width + 1, RED).text == strip.text + " "
    assert Strip.divide.__name__ == "divide_no_cycle"
