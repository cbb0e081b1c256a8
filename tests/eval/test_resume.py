"""A run that stops half-way (an error, Ctrl-C) keeps every finished item, and the rerun asks the
orchestrator only for what is missing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from smoa.errors import SmoaError
from smoa.eval import EvalSettings, Evaluation, evaluate
from smoa.eval.orchestrator_call import Answer, RoleUsage
from smoa.eval.record import ItemResult
from smoa.eval.results_file import ResultsFile
from smoa.eval.systems import System

SYSTEMS = ("single", "moa", "smoa")


class CountingOrchestrator:
    """Answers every question right ("The answer is <expected>"), counting calls; raises on call number
    `fail_at` (1-based) to stand in for a crash."""

    def __init__(self, fail_at: int | None = None, error: BaseException | None = None):
        self.calls: list[tuple[str, str]] = []
        self.fail_at, self.error = fail_at, error

    async def answer(self, question: str, system: System) -> Answer:
        self.calls.append((system.name, question))
        if self.fail_at is not None and len(self.calls) == self.fail_at:
            raise self.error or RuntimeError("crash")
        await asyncio.sleep(0)
        return Answer(
            "The answer is 18.", 0.01, 3, 100, 20, {"proposer": RoleUsage(3, 100, 20)}, 1, "consensus"
        )


def evaluation(out: Path, **changes: object) -> Evaluation:
    return Evaluation(datasets=[("gsm8k", 4)], out=out, systems=SYSTEMS, **changes)  # type: ignore[arg-type]


async def test_a_crash_mid_run_keeps_finished_items_and_the_rerun_does_only_the_rest(tmp_path: Path) -> None:
    first = CountingOrchestrator(fail_at=6)
    with pytest.raises(RuntimeError, match="crash"):
        await evaluate(evaluation(tmp_path), answers=first)
    finished = ResultsFile(tmp_path).finished()
    assert len(finished) == 5  # calls 1-5 finished and were written before call 6 failed
    second = CountingOrchestrator()
    report = await evaluate(evaluation(tmp_path), answers=second)
    assert len(second.calls) == 12 - 5
    asked = {(s, q) for s, q in second.calls}
    assert len(asked) == 7
    assert len(report.results) == 12 and report.failed == 0
    # Nothing is asked a third time.
    third = CountingOrchestrator()
    await evaluate(evaluation(tmp_path), answers=third)
    assert third.calls == []


async def test_cancelling_like_ctrl_c_keeps_finished_items(tmp_path: Path) -> None:
    class Slow(CountingOrchestrator):
        async def answer(self, question: str, system: System) -> Answer:
            if len(self.calls) >= 4:
                await asyncio.sleep(30)
            return await super().answer(question, system)

    task = asyncio.create_task(evaluate(evaluation(tmp_path, concurrency=2), answers=Slow()))
    while len(ResultsFile(tmp_path).finished()) < 4:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(ResultsFile(tmp_path).finished()) == 4
    rerun = CountingOrchestrator()
    await evaluate(evaluation(tmp_path), answers=rerun)
    assert len(rerun.calls) == 8


async def test_an_unavailable_generation_is_tried_again_once(tmp_path: Path) -> None:
    flaky = CountingOrchestrator(fail_at=2, error=SmoaError("UNAVAILABLE", "max connection age"))
    report = await evaluate(evaluation(tmp_path), answers=flaky)
    assert report.failed == 0 and len(flaky.calls) == 13 and flaky.calls[1] == flaky.calls[2]


async def test_failed_generations_are_recorded_and_retried_by_the_next_run(tmp_path: Path) -> None:
    failing = CountingOrchestrator(fail_at=2, error=SmoaError("UNAVAILABLE", "backend down"))
    report = await evaluate(evaluation(tmp_path, retries=0), answers=failing)
    assert report.failed == 1 and len(failing.calls) == 12
    bad = next(r for r in report.results if not r.ok)
    assert "backend down" in bad.error and bad.system == "moa"
    retry = CountingOrchestrator()
    report = await evaluate(evaluation(tmp_path), answers=retry)
    assert len(retry.calls) == 1 and retry.calls[0][0] == "moa" and report.failed == 0


def test_a_torn_last_line_is_ignored_and_appending_starts_a_clean_line(tmp_path: Path) -> None:
    results = ResultsFile(tmp_path)
    results.append([ItemResult("smoa", "gsm8k", "a", "exact", correct=True)])
    with results.path.open("a", encoding="utf-8") as f:
        f.write('{"system": "smoa", "dataset": "gsm8k", "item_id": "b", "gr')
    assert results.finished() == {("smoa", "gsm8k", "a")}
    results.append([ItemResult("smoa", "gsm8k", "c", "exact", correct=False)])
    assert results.finished() == {("smoa", "gsm8k", "a"), ("smoa", "gsm8k", "c")}


async def test_a_rerun_with_other_settings_is_refused(tmp_path: Path) -> None:
    await evaluate(evaluation(tmp_path), answers=CountingOrchestrator())
    with pytest.raises(ValueError, match=r"other settings.*n"):
        await evaluate(evaluation(tmp_path, settings=EvalSettings(n=3)), answers=CountingOrchestrator())
    # More items or systems with the same settings is a continuation.
    more = CountingOrchestrator()
    await evaluate(
        Evaluation(datasets=[("gsm8k", 5)], out=tmp_path, systems=(*SYSTEMS, "smoa-fused")), answers=more
    )
    assert len(more.calls) == 5 * 4 - 12


def test_items_are_unique_per_run(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="twice"):
        Evaluation(datasets=[("gsm8k", 2), ("gsm8k", 3)], out=tmp_path).items()
