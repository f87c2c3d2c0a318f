"""Rich progress bars for downloads, silent when stderr is not a terminal (pipes, CI, tests)."""

from __future__ import annotations

from types import TracebackType
from typing import Any


class Bars:
    """A thin wrapper over ``rich.progress.Progress``: one bar per symbol and source."""

    def __init__(self, show: bool | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(stderr=True)
        enabled = console.is_terminal if show is None else show
        self._progress: Any = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console, disable=not enabled, transient=False,
        )

    def __enter__(self) -> Bars:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()

    def add(self, description: str, total: int) -> int:
        return int(self._progress.add_task(description, total=total))

    def advance(self, task: int, done: int = 1, more_total: int = 0) -> None:
        if more_total:
            current = next(t.total for t in self._progress.tasks if t.id == task) or 0
            self._progress.update(task, total=current + more_total)
        if done:
            self._progress.advance(task, done)
