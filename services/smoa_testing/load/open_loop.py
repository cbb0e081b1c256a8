"""An open-loop driver on the SDK: requests sent at a fixed rate whatever the service does, each one's
outcome kept whole (the Result, or the error), so a soak can check every answer, not only counts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smoa import AsyncSmoaClient, Result, SmoaError


@dataclass(frozen=True)
class Answer:
    index: int
    # Seconds from the start of the run: when it was due, and how long until it was answered.
    due: float
    latency: float
    result: Result | None = None
    error: SmoaError | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None


async def open_loop(
    target: str,
    rate: float,
    seconds: float,
    arguments: dict[str, Any],
    timeout: float = 15.0,
    at: dict[float, Callable[[], None]] | None = None,
) -> list[Answer]:
    """Sends `rate` requests a second for `seconds`; `at` runs actions (a SIGTERM, a SIGSTOP) at given
    seconds into the run, in a thread so the loop's schedule does not wait for them."""
    answers: list[Answer] = []
    async with AsyncSmoaClient(target, timeout=timeout) as client:
        started = time.monotonic()

        async def act(when: float, action: Callable[[], None]) -> None:
            await asyncio.sleep(max(0.0, when - (time.monotonic() - started)))
            await asyncio.to_thread(action)

        async def one(index: int, due: float) -> None:
            try:
                result = await client.generate(f"Question {index}: what is 6 times 7?", **arguments)
            except SmoaError as e:
                answers.append(Answer(index, due, time.monotonic() - started - due, error=e))
            else:
                answers.append(Answer(index, due, time.monotonic() - started - due, result=result))

        tasks: list[asyncio.Task[None]] = []
        actions = [asyncio.ensure_future(act(when, action)) for when, action in (at or {}).items()]
        for index in range(int(rate * seconds)):
            due = index / rate
            await asyncio.sleep(max(0.0, due - (time.monotonic() - started)))
            tasks.append(asyncio.ensure_future(one(index, due)))
        await asyncio.gather(*tasks, *actions)
    return sorted(answers, key=lambda a: a.index)


def failed(answers: list[Answer]) -> list[str]:
    return [f"#{a.index} at {a.due:.1f}s: {a.error}" for a in answers if not a.ok]
