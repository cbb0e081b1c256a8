"""The progress bar of `smoa eval` (rich): pairs done of all, elapsed, ETA, and how many failed."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from smoa.eval.extras import require
from smoa.eval.record import ItemResult


class ProgressBar:
    def __init__(self, total: int, already: int, description: str = "eval"):
        progress = require("rich.progress", "the progress bar")
        self._progress: Any = progress.Progress(
            progress.TextColumn("[bold]{task.description}"),
            progress.BarColumn(),
            progress.MofNCompleteColumn(),
            progress.TextColumn("{task.fields[failed]} failed"),
            progress.TimeElapsedColumn(),
            progress.TextColumn("ETA"),
            progress.TimeRemainingColumn(),
            transient=False,
        )
        # ETA counts only this run's pairs: the already finished ones took no time here.
        self._task = self._progress.add_task(description, total=total - already, failed=0)
        self.failed = 0

    def advance(self, result: ItemResult) -> None:
        self.failed += not result.ok
        self._progress.update(
            self._task,
            advance=1,
            failed=self.failed,
            description=f"{result.system} · {result.dataset}/{result.item_id}",
        )

    def __enter__(self) -> ProgressBar:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._progress.stop()
