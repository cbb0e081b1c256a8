"""One call's attempts within its budget: retries, Retry-After, hedging, the first success winning, and
nothing left running afterwards. Plain asyncio, no network."""

from __future__ import annotations

import asyncio
import random

import pytest

from smoa_services.timing.attempts import AttemptPolicy, OutOfBudget, first_success


class Flaky(Exception):
    """A failure worth retrying, after `after` seconds at least."""

    def __init__(self, after: float = 0.0):
        super().__init__(f"flaky (retry after {after}s)")
        self.after = after


class Refused(Exception):
    """A failure no retry will fix."""


def retry_delay(error: BaseException) -> float | None:
    return error.after if isinstance(error, Flaky) else None


class Script:
    """Attempt i does what `steps[i]` says: a number is seconds to wait before answering "ok i", an
    exception is raised at once. Records when each attempt started and which were cancelled."""

    def __init__(self, *steps: float | BaseException):
        self.steps = steps
        self.started: list[float] = []
        self.cancelled: list[int] = []

    async def __call__(self, i: int) -> str:
        self.started.append(asyncio.get_running_loop().time())
        step = self.steps[i]
        if isinstance(step, BaseException):
            raise step
        try:
            await asyncio.sleep(step)
        except asyncio.CancelledError:
            self.cancelled.append(i)
            raise
        return f"ok {i}"


def until(seconds: float) -> float:
    return asyncio.get_running_loop().time() + seconds


async def test_failures_worth_retrying_are_retried_until_one_succeeds() -> None:
    script = Script(Flaky(), Flaky(), 0.0)
    outcome = await first_success(script, AttemptPolicy(max_attempts=4, backoff=0.01), until(5), retry_delay)
    assert (outcome.value, outcome.attempts, outcome.hedged, outcome.abandoned) == ("ok 2", 3, False, 0)


async def test_a_refusal_is_not_retried() -> None:
    script = Script(Refused(), 0.0)
    with pytest.raises(Refused):
        await first_success(script, AttemptPolicy(max_attempts=4), until(5), retry_delay)
    assert len(script.started) == 1


async def test_attempts_run_out_with_the_last_failure() -> None:
    script = Script(Flaky(), Flaky())
    with pytest.raises(Flaky):
        await first_success(script, AttemptPolicy(max_attempts=2, backoff=0.01), until(5), retry_delay)
    assert len(script.started) == 2


async def test_retry_after_is_honoured() -> None:
    script = Script(Flaky(after=0.3), 0.0)
    outcome = await first_success(script, AttemptPolicy(max_attempts=2, backoff=0.01), until(5), retry_delay)
    assert outcome.value == "ok 1"
    assert script.started[1] - script.started[0] >= 0.3


async def test_a_retry_that_could_not_start_within_the_budget_is_not_waited_for() -> None:
    script = Script(Flaky(after=10.0), 0.0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(Flaky):
        await first_success(script, AttemptPolicy(max_attempts=2), until(1.0), retry_delay)
    assert loop.time() - started < 0.2, "it gave up at once rather than sleeping into the budget's end"


async def test_a_hung_attempt_costs_the_budget_and_is_cancelled() -> None:
    script = Script(30.0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(OutOfBudget) as caught:
        await first_success(script, AttemptPolicy(max_attempts=3), until(0.3), retry_delay)
    assert 0.3 <= loop.time() - started < 0.6
    assert caught.value.attempts == 1 and caught.value.last is None
    assert script.cancelled == [0]


async def test_a_hedge_answers_for_a_hung_attempt_which_is_then_cancelled() -> None:
    script = Script(30.0, 0.05)
    policy = AttemptPolicy(max_attempts=2, hedge_after=0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    outcome = await first_success(script, policy, until(5), retry_delay)
    assert (outcome.value, outcome.attempts, outcome.hedged, outcome.abandoned) == ("ok 1", 2, True, 1)
    assert 0.1 <= script.started[1] - script.started[0] < 0.2
    assert loop.time() - started < 0.4
    assert script.cancelled == [0]


async def test_no_hedge_when_the_first_attempt_is_quick() -> None:
    script = Script(0.01, 0.01)
    outcome = await first_success(
        script, AttemptPolicy(max_attempts=2, hedge_after=0.2), until(5), retry_delay
    )
    assert (outcome.attempts, outcome.hedged) == (1, False)


async def test_a_refusal_waits_for_an_attempt_still_out() -> None:
    # The hedge is refused, the original answers: the refusal is not the call's answer.
    script = Script(0.3, Refused())
    outcome = await first_success(
        script, AttemptPolicy(max_attempts=3, hedge_after=0.05), until(5), retry_delay
    )
    assert outcome.value == "ok 0" and len(script.started) == 2


async def test_at_most_two_attempts_are_out_at_once() -> None:
    script = Script(30.0, 30.0, 0.0)
    with pytest.raises(OutOfBudget):
        await first_success(script, AttemptPolicy(max_attempts=3, hedge_after=0.05), until(0.4), retry_delay)
    assert len(script.started) == 2 and sorted(script.cancelled) == [0, 1]


async def test_a_cancelled_caller_cancels_every_attempt() -> None:
    script = Script(30.0, 30.0)
    task = asyncio.ensure_future(
        first_success(script, AttemptPolicy(max_attempts=2, hedge_after=0.05), until(60), retry_delay)
    )
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sorted(script.cancelled) == [0, 1]


def test_backoff_grows_with_full_jitter_up_to_the_cap() -> None:
    policy = AttemptPolicy(backoff=0.1, max_backoff=1.0)
    rng = random.Random(7)
    for failures, cap in [(1, 0.1), (2, 0.2), (3, 0.4), (10, 1.0)]:
        delays = [policy.backoff_after(failures, rng) for _ in range(200)]
        assert all(0.0 <= d <= cap for d in delays)
        assert max(delays) > cap * 0.8
