"""The attempts of one call within its budget: a retry after a failure that may pass (with backoff, never
sooner than the backend's Retry-After), optionally a hedge (a second attempt started while the first is
still out), and the first success wins while the others are cancelled. Nothing starts that could not
finish inside the budget, and when the budget runs out every attempt still out is cancelled.

gRPC's own retryPolicy covers RPCs that failed UNAVAILABLE; grpcio has no hedgingPolicy (gRFC A6 hedging
is not implemented in C-core), and the OpenAI SDK's retries know nothing of a budget, so both kinds of
call use this."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

# At most this many attempts of one call are out at once: the first and one hedge or retry.
MAX_IN_FLIGHT = 2


@dataclass(frozen=True)
class AttemptPolicy:
    # Attempts in all, the first included.
    max_attempts: int = 4
    # Delay before the first retry; it doubles per failure (full jitter), up to max_backoff.
    backoff: float = 0.1
    max_backoff: float = 2.0
    # Start a second attempt when the first has not answered after this long (None: no hedging).
    hedge_after: float | None = None

    def backoff_after(self, failures: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.max_backoff, self.backoff * 2 ** (failures - 1)))


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T
    # Attempts started, the winner included.
    attempts: int
    # True when a hedge was started (whether or not it won).
    hedged: bool
    # Attempts still out when the winner answered, cancelled.
    abandoned: int


class OutOfBudget(TimeoutError):
    """No attempt succeeded within the budget; `last` is the last failure seen (None: every attempt hung)."""

    def __init__(self, attempts: int, last: BaseException | None):
        detail = f"; the last failure: {last}" if last is not None else ""
        super().__init__(f"no answer within the budget after {attempts} attempt(s){detail}")
        self.attempts = attempts
        self.last = last


# For a failed attempt: None if retrying cannot help (give up at once), else the least delay before a
# retry (a 429's Retry-After; 0 for no constraint).
RetryDelay = Callable[[BaseException], float | None]


async def first_success(
    attempt: Callable[[int], Awaitable[T]],
    policy: AttemptPolicy,
    until: float,
    retry_delay: RetryDelay,
    rng: random.Random | None = None,
) -> Outcome[T]:
    """Runs `attempt(i)` for i = 0, 1, ... until one succeeds, before the loop time `until`.

    Raises the failure itself when it is not worth retrying (or attempts ran out with nothing else out),
    and OutOfBudget when the budget ended first."""
    loop = asyncio.get_running_loop()
    rng = rng or random.Random()
    running: set[asyncio.Task[T]] = set()
    started = failures = 0
    hedged = given_up = False
    last: BaseException | None = None
    next_start: float | None = loop.time()

    try:
        while True:
            now = loop.time()
            if now >= until:
                raise OutOfBudget(started, last)
            if (
                next_start is not None
                and now >= next_start
                and started < policy.max_attempts
                and len(running) < MAX_IN_FLIGHT
            ):
                hedged |= bool(running)
                running.add(asyncio.ensure_future(attempt(started)))
                started += 1
                next_start = None
                if policy.hedge_after is not None and started < policy.max_attempts and not given_up:
                    next_start = now + policy.hedge_after
            if not running and next_start is None:
                assert last is not None  # nothing out and nothing planned: the last attempt failed
                raise last
            full = len(running) >= MAX_IN_FLIGHT
            wake = until if next_start is None or full else min(until, next_start)
            if running:
                done, _ = await asyncio.wait(
                    running, timeout=max(0.0, wake - now), return_when=asyncio.FIRST_COMPLETED
                )
            else:
                await asyncio.sleep(max(0.0, wake - now))
                done = set()
            for task in done:
                running.discard(task)
                error = task.exception()
                if error is None:
                    return Outcome(task.result(), started, hedged, len(running))
                last, failures = error, failures + 1
                delay = retry_delay(error)
                if delay is None:
                    # Not worth another attempt; one still out may yet answer.
                    if not running:
                        raise error
                    next_start, given_up = None, True
                    continue
                if started < policy.max_attempts and not given_up:
                    retry_at = loop.time() + max(delay, policy.backoff_after(failures, rng))
                    if retry_at < until:
                        next_start = retry_at if next_start is None else min(next_start, retry_at)
    finally:
        for task in running:
            task.cancel()
        if running:
            # Let cancelled attempts release what they hold (a concurrency slot) before returning.
            await asyncio.wait(running)
