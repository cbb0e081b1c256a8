"""SmoaClient against the four real services: typed results and events, health, and each kind of
failure raised as its SmoaError with the service's details."""

from __future__ import annotations

import time

import pytest

from smoa import (
    DeadlineExceededError,
    Decision,
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    Layer,
    Message,
    Mode,
    Progress,
    Result,
    ServingStatus,
    SmoaClient,
    Stage,
    StopReason,
    Summary,
    Token,
    UnavailableError,
)
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from tests.client.script import ANSWER, ROLES, failing, slow


def test_generate_returns_plain_typed_objects(client: SmoaClient) -> None:
    result = client.generate("What is 6 times 7?", n=3, k=2, max_layers=2, roles=ROLES, seed=7, fused=False)
    assert isinstance(result, Result)
    assert (result.text, result.mode, result.stop_reason) == (ANSWER, Mode.SMOA, StopReason.MAX_LAYERS)
    assert result.roles == ROLES and result.model
    first, second = result.layers
    assert isinstance(first, Layer) and (first.layer, second.layer) == (1, 2)
    assert [c.id for c in first.candidates] == ["L1-P0", "L1-P1", "L1-P2"]
    assert first.kept_ids == ["L1-P0", "L1-P1"]  # the judge ranks role A, then B
    assert [c.id for c in first.kept] == first.kept_ids
    assert first.scores["L1-P0"] > first.scores["L1-P1"]
    assert first.decision == Decision.CONTINUE and not first.judge_fallback
    assert set(first.timings) == {"proposer", "judge", "moderator"}
    # 6 proposals, 2 judgings, 1 moderation (not after the last layer), 1 aggregation; 11 tokens in each.
    total = result.cost.total
    assert (total.calls, total.input_tokens, total.estimated) == (10, 110, False)
    by_stage = result.cost.by_stage()
    assert {stage: usage.calls for stage, usage in by_stage.items()} == {
        "proposer": 6,
        "judge": 2,
        "moderator": 1,
        "aggregator": 1,
    }
    assert {"layer 1", "layer 2", "aggregator", "total"} <= set(result.timings)


def test_stream_yields_typed_events_in_order(client: SmoaClient) -> None:
    events = list(client.stream("What is 6 times 7?", n=3, k=2, max_layers=1, roles=ROLES, fused=False))
    kinds = [type(e) for e in events]
    assert kinds[0] is Progress and kinds[-1] is Summary and kinds.count(Summary) == 1
    rank = {Progress: 0, Token: 1, Summary: 2}
    assert kinds == sorted(kinds, key=lambda kind: rank[kind])
    stages = [e.stage for e in events if isinstance(e, Progress)]
    assert stages == [Stage.ROLES_READY, Stage.PROPOSALS_DONE, Stage.JUDGED, Stage.AGGREGATING]
    judged = next(e for e in events if isinstance(e, Progress) and e.stage == Stage.JUDGED)
    assert judged.layer == 1 and judged.trace.kept_ids == ["L1-P0", "L1-P1"] and judged.elapsed > 0
    summary = events[-1]
    assert isinstance(summary, Summary)
    assert "".join(e.text for e in events if isinstance(e, Token)) == summary.result.text == ANSWER


def test_a_conversation_and_the_single_mode(client: SmoaClient) -> None:
    history: list[Message | dict[str, str]] = [
        Message("user", "Hi"),
        {"role": "assistant", "content": "Hello"},
        Message("user", "What is 6 times 7?"),
    ]
    result = client.generate(history, mode="single")
    assert (result.text, result.mode, result.layers) == ("single answer", Mode.SINGLE, [])


def test_health_of_the_server_and_of_a_service(client: SmoaClient) -> None:
    assert client.health() == ServingStatus.SERVING
    assert client.health("smoa.v1.OrchestratorService") == ServingStatus.SERVING
    assert client.health("no.such.Service") == ServingStatus.SERVICE_UNKNOWN


def test_the_service_limits_are_invalid_argument_with_every_violation(client: SmoaClient) -> None:
    # k over the service's default n (4): only the service knows that default.
    with pytest.raises(InvalidArgumentError) as caught:
        client.generate("What is 6 times 7?", k=9)
    assert caught.value.code == "INVALID_ARGUMENT"
    [violation] = caught.value.violations
    assert violation.field == "k" and "n=4" in violation.description
    with pytest.raises(InvalidArgumentError) as caught:
        client.generate("What is 6 times 7?", n=33, max_layers=11)
    assert [v.field for v in caught.value.violations] == ["n", "max_layers"]
    assert all(isinstance(v, FieldViolation) for v in caught.value.violations)


def test_a_failing_llm_is_unavailable_with_reason_and_retry_after(
    client: SmoaClient, fake: FakeOpenAI
) -> None:
    fake.script = failing(503)
    with pytest.raises(UnavailableError) as caught:
        client.generate("What is 6 times 7?", mode="single")
    error = caught.value
    assert (error.reason, error.domain, error.metadata) == (
        "LLM_UNAVAILABLE",
        "smoa.dev",
        {"backend": "default"},
    )
    assert error.retry_after == 1.0 and "LLM backend" in error.message
    # The same from the middle of a stream.
    with pytest.raises(UnavailableError) as caught:
        list(client.stream("What is 6 times 7?", mode="single"))
    assert caught.value.reason == "LLM_UNAVAILABLE"


def test_a_refusing_llm_is_failed_precondition_without_retry_after(
    client: SmoaClient, fake: FakeOpenAI
) -> None:
    fake.script = failing(400)
    with pytest.raises(FailedPreconditionError) as caught:
        client.generate("What is 6 times 7?", mode="single")
    assert (caught.value.reason, caught.value.retry_after) == ("LLM_REJECTED", None)


def test_a_short_deadline_is_deadline_exceeded_at_once(target: str, fake: FakeOpenAI) -> None:
    fake.script = slow
    with SmoaClient(target, timeout=0.3) as short:
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            short.generate("What is 6 times 7?", mode="single")
        # The call's own timeout wins over the client's.
        with pytest.raises(DeadlineExceededError):
            list(short.stream("What is 6 times 7?", mode="single", timeout=0.2))
        assert time.monotonic() - started < 1.5


def test_leaving_a_stream_early_cancels_the_work(client: SmoaClient, fake: FakeOpenAI) -> None:
    fake.script = slow
    events = client.stream("What is 6 times 7?", n=3, k=2, roles=ROLES)
    assert isinstance(next(events), Progress)  # roles ready; the proposers now wait on the slow fake
    while fake.in_flight < 3:
        time.sleep(0.01)
    events.close()  # what `break` does too
    started = time.monotonic()
    while fake.in_flight:  # the services hang up on the LLM long before it would answer (2 s)
        assert time.monotonic() - started < 1.0
        time.sleep(0.01)


def test_an_unreachable_server_is_unavailable() -> None:
    with SmoaClient("127.0.0.1:1", timeout=5) as nowhere:
        started = time.monotonic()
        with pytest.raises(UnavailableError):
            nowhere.health()
        with pytest.raises(UnavailableError):
            nowhere.generate("What is 6 times 7?")
    assert time.monotonic() - started < 3  # fails fast: no waiting for the server to appear


def test_stop_sequences_over_the_services_limit_are_refused_by_the_service(client: SmoaClient) -> None:
    with pytest.raises(ValueError, match="stop"):
        client.generate("What is 6 times 7?", stop=["END", ""])
    with pytest.raises(InvalidArgumentError) as caught:
        client.generate("What is 6 times 7?", stop=["a", "b", "c", "d", "e"])
    assert [v.field for v in caught.value.violations] == ["stop"]
