"""The circuit breaker's policy, with time passed in."""

from __future__ import annotations

import random

import pytest

from smoa_services.llm.breaker import Breaker, BreakerPolicy, State

POLICY = BreakerPolicy(consecutive_failures=10, failure_ratio=0.5, min_calls=20, window_seconds=10.0,
                       cooldown_seconds=5.0, max_cooldown_seconds=60.0)  # fmt: skip


def test_consecutive_failures_open_it_and_it_fails_fast_for_the_cooldown() -> None:
    changes: list[State] = []
    breaker = Breaker(POLICY, changes.append)
    for i in range(9):
        breaker.failed(float(i) * 0.01)
    assert breaker.wait(0.1) is None and changes == []
    breaker.failed(0.1)
    assert changes == [State.OPEN]
    assert breaker.wait(1.1) == pytest.approx(4.0)


def test_after_the_cooldown_a_success_closes_it() -> None:
    changes: list[State] = []
    breaker = Breaker(POLICY, changes.append)
    for _ in range(10):
        breaker.failed(0.0)
    assert breaker.wait(5.0) is None and breaker.state is State.HALF_OPEN
    breaker.succeeded(5.1)
    assert changes == [State.OPEN, State.HALF_OPEN, State.CLOSED]


def test_a_failure_while_half_open_reopens_it_for_twice_as_long_up_to_the_cap() -> None:
    breaker = Breaker(POLICY)
    now = 0.0
    cooldowns = []
    for _ in range(6):
        for _ in range(10):
            breaker.failed(now)
        opened = now
        now = breaker.open_until
        cooldowns.append(now - opened)
        breaker.tick(now)
        assert breaker.state is State.HALF_OPEN
        breaker.failed(now)  # the first try after the cooldown fails
        opened, now = now, breaker.open_until
        cooldowns.append(now - opened)
        breaker.succeeded(now)  # and the next one works
    assert cooldowns[:4] == [5.0, 10.0, 5.0, 10.0]  # closing resets the doubling
    assert breaker.state is State.CLOSED


def test_repeated_half_open_failures_double_the_cooldown_to_its_cap() -> None:
    breaker = Breaker(POLICY)
    for _ in range(10):
        breaker.failed(0.0)
    now, cooldowns = 0.0, []
    for _ in range(6):
        opened, now = now, breaker.open_until
        cooldowns.append(now - opened)
        breaker.failed(now)
    assert cooldowns == [5.0, 10.0, 20.0, 40.0, 60.0, 60.0]


def test_a_mostly_failing_backend_opens_it_before_ten_in_a_row() -> None:
    breaker = Breaker(POLICY)
    # Fail, fail, succeed... : never ten in a row, two thirds failed.
    for i in range(30):
        now = i * 0.1
        if i % 3 == 2:
            breaker.succeeded(now)
        else:
            breaker.failed(now)
        if breaker.state is State.OPEN:
            break
    assert breaker.state is State.OPEN and i == 19


def test_ordinary_weather_does_not_open_it() -> None:
    # 17% failures (10% 5xx, 5% hangs, 2% garbage) at 50 calls a second for ten minutes.
    rng = random.Random(1)
    breaker = Breaker(POLICY)
    for i in range(30_000):
        now = i / 50
        if rng.random() < 0.17:
            breaker.failed(now)
        else:
            breaker.succeeded(now)
        assert breaker.state is State.CLOSED, f"opened at call {i}"


def test_calls_let_through_before_it_opened_do_not_close_it() -> None:
    breaker = Breaker(POLICY)
    for _ in range(10):
        breaker.failed(0.0)
    breaker.succeeded(1.0)
    assert breaker.state is State.OPEN


def test_one_callers_failures_do_not_open_it_while_another_caller_is_served() -> None:
    changes: list[State] = []
    breaker = Breaker(POLICY, changes.append)
    now = 0.0
    for _ in range(30):  # Alice's prompts hang the model; Bob is served between them
        breaker.failed(now, "alice")
        if int(now * 10) % 5 == 0:
            breaker.succeeded(now, "bob")
        now += 0.1
    assert changes == [] and breaker.state is State.CLOSED
    # Bob quiet for longer than the window: nothing says the backend works, and her failures count.
    now += POLICY.window_seconds + 1
    for _ in range(POLICY.consecutive_failures):
        breaker.failed(now, "alice")
    assert changes == [State.OPEN]


def test_a_backend_failing_everyone_opens_it_with_one_failure_more_per_other_caller() -> None:
    changes: list[State] = []
    breaker = Breaker(POLICY, changes.append)
    for caller in ("alice", "bob", "carol"):
        breaker.succeeded(0.0, caller)
    failures = 0
    while not changes:
        breaker.failed(1.0 + failures * 0.01, ("alice", "bob", "carol")[failures % 3])
        failures += 1
    # The first failures of Alice and Bob are forgiven (Bob's and Carol's last calls were served); from
    # Carol's first on, everyone's latest call failed and all count.
    assert failures == POLICY.consecutive_failures + 2


def test_half_open_a_failure_of_any_caller_opens_it_again() -> None:
    breaker = Breaker(POLICY)
    for _ in range(POLICY.consecutive_failures):
        breaker.failed(0.0)
    breaker.succeeded(POLICY.cooldown_seconds - 1, "bob")  # let through before it opened: not counted
    assert breaker.wait(POLICY.cooldown_seconds) is None  # half open: calls go through
    breaker.failed(POLICY.cooldown_seconds, "alice")
    assert breaker.state is State.OPEN
