"""Runs every (item, system) pair not finished yet, at most `concurrency` at a time, and appends each
result to the results file the moment it is scored.

Pairs run item by item (every system on item 1, then item 2, ...), so a run stopped early still has each
finished item answered by all systems: the paired comparisons need exactly that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from smoa.errors import SmoaError
from smoa.eval.item import Grading, Item
from smoa.eval.judge import Judgment
from smoa.eval.orchestrator_call import Answer
from smoa.eval.prompts import question_text
from smoa.eval.record import ItemResult
from smoa.eval.results_file import ResultsFile
from smoa.eval.scoring import grade
from smoa.eval.systems import System


class Answers(Protocol):
    async def answer(self, question: str, system: System) -> Answer: ...


class Rates(Protocol):
    async def rate(self, item: Item, answer: str) -> Judgment: ...


@dataclass(frozen=True)
class Pair:
    item: Item
    system: System


def pending(
    items: Sequence[Item], systems: Sequence[System], finished: set[tuple[str, str, str]]
) -> list[Pair]:
    return [
        Pair(item, system)
        for item in items
        for system in systems
        if (system.name, item.dataset, item.id) not in finished
    ]


async def score(pair: Pair, answers: Answers, judge: Rates | None, retries: int = 1) -> ItemResult:
    item, system = pair.item, pair.system
    base = ItemResult(system.name, item.dataset, item.id, item.grading.value, item.category)
    for attempt in range(retries + 1):
        try:
            answer = await answers.answer(question_text(item), system)
            break
        except SmoaError as e:
            # UNAVAILABLE: the generation was lost on the way (a dropped connection, a backend down);
            # trying again costs time, not a wrong number (only the finished generation is counted).
            if e.code != "UNAVAILABLE" or attempt == retries:
                return replace(base, ok=False, error=str(e))
    result = replace(
        base,
        text=answer.text,
        latency=answer.latency,
        calls=answer.calls,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
        by_role=answer.by_role,
        layers=answer.layers,
        stop_reason=answer.stop_reason,
        estimated=answer.estimated,
        steps=list(answer.steps),
    )
    if item.grading is Grading.JUDGED:
        if judge is None:
            raise ValueError(f"item {item.dataset}/{item.id}: judged items need a judge")
        started = time.perf_counter()
        judgment = await judge.rate(item, answer.text)
        return replace(
            result,
            judge_score=judgment.score,
            judge_text=judgment.text,
            judge_error=judgment.error,
            judge_latency=time.perf_counter() - started,
        )
    verdict = grade(item, answer.text)
    return replace(result, expected=verdict.expected, predicted=verdict.predicted, correct=verdict.correct)


async def run_pairs(
    pairs: Sequence[Pair],
    answers: Answers,
    judge: Rates | None,
    results: ResultsFile,
    concurrency: int = 1,
    on_result: Callable[[ItemResult], None] | None = None,
    retries: int = 1,
) -> list[ItemResult]:
    """Scores every pair; returns this run's results in the order they finished. Cancelling (Ctrl-C)
    stops the pairs in flight; every pair finished before is already on disk."""
    if concurrency < 1:
        raise ValueError(f"concurrency: must be >= 1, got {concurrency}")
    queue: Iterator[Pair] = iter(pairs)
    done: list[ItemResult] = []

    async def worker() -> None:
        for pair in queue:  # one shared iterator: each pair is taken by exactly one worker
            result = await score(pair, answers, judge, retries)
            results.append([result])
            done.append(result)
            if on_result is not None:
                on_result(result)

    # gather, not TaskGroup: the SDK supports Python 3.10. A failing worker stops the others.
    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(pairs)))]
    try:
        await asyncio.gather(*workers)
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return done
