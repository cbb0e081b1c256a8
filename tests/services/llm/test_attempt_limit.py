"""How long an attempt at an LLM backend is given, and whether running out of it is the backend's fault:
a call that may write a long answer is given the time the backend's own writing rate says it needs, and
an attempt cut short by the caller's budget, rather than by that record, is not counted against it."""

from __future__ import annotations

import pytest

from smoa_services.config import Settings
from smoa_services.llm.completion import Reply
from smoa_services.llm.endpoint import ATTEMPT_P99_MULTIPLE, MIN_ATTEMPT_SECONDS, Endpoint


def endpoint(calls: list[tuple[float, int]]) -> Endpoint:
    settings = Settings()
    made = Endpoint("", settings.backend(""), settings, [])
    for seconds, written in calls:
        made.observe(seconds, Reply("x", "stop", "m", (10, written)))
    return made


def test_without_a_record_the_attempt_takes_half_the_budget_and_its_timeout_counts() -> None:
    assert endpoint([]).attempt_end(0, False, 0.0, 60.0, 512) == (30.0, True)
    assert endpoint([]).attempt_end(1, True, 0.0, 60.0, 512) == (60.0, True)


def test_short_calls_are_given_four_times_their_p99() -> None:
    # Judge-like calls: 0.5 s, 20 tokens each: too short to say how fast the backend writes.
    short = endpoint([(0.5, 20)] * 30)
    ends, judged = short.attempt_end(0, False, 0.0, 60.0, 512)
    assert ends == pytest.approx(ATTEMPT_P99_MULTIPLE * 0.5) and judged
    ends, judged = short.attempt_end(0, False, 0.0, 60.0, 8)
    assert ends == pytest.approx(max(MIN_ATTEMPT_SECONDS, 2.0)) and judged


def test_a_call_that_may_write_a_long_answer_is_given_the_time_the_rate_says() -> None:
    # 0.05 s per token written (answers of 40 tokens in 2 s): 2,000 tokens take 100 s at that rate.
    known = endpoint([(2.0, 40)] * 30)
    ends, judged = known.attempt_end(0, False, 0.0, 1000.0, 2000)
    assert ends == pytest.approx(ATTEMPT_P99_MULTIPLE * 100.0) and judged
    # Within a budget of 60 s it runs to the budget, and a timeout then is the caller's, not the backend's.
    assert known.attempt_end(0, False, 0.0, 60.0, 2000) == (60.0, False)
