"""ModeratorService on a real server, its LLM a scripted FakeOpenAI."""

import json
from collections.abc import Sequence
from typing import Any

from smoa.v1 import common_pb2, moderator_pb2, moderator_pb2_grpc
from smoa_services import moderator
from smoa_testing.fake_llm.chat_script import Reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.running_service import QUESTION, candidate, serving

PARIS = "Paris is the capital of France and its largest city."
LYON = "Lyon was the capital of Roman Gaul, which is a different question."


def moderate_request(
    texts: Sequence[str], layer: int = 1, max_layers: int = 3
) -> moderator_pb2.ModerateRequest:
    kept = [candidate(f"L{layer}-P{i}", text) for i, text in enumerate(texts, 1)]
    return moderator_pb2.ModerateRequest(messages=QUESTION, kept=kept, layer=layer, max_layers=max_layers)


async def run_moderator(
    fake: FakeOpenAI, request: moderator_pb2.ModerateRequest
) -> tuple[moderator_pb2.ModerateResponse, dict[str, Any]]:
    async with serving(moderator.create_server, fake.base_url) as service:
        reply = await moderator_pb2_grpc.ModeratorServiceStub(service.channel).Moderate(request, timeout=10)
        attributes = dict(service.rpc_span("Moderate").attributes or {})
    return reply, attributes


def decision(value: str, reason: str = "because") -> Reply:
    return Reply(json.dumps({"decision": value, "reason": reason}))


async def test_agreeing_answers_stop_without_an_llm_call() -> None:
    with FakeOpenAI(lambda r: decision("continue")) as fake:
        reply, attributes = await run_moderator(fake, moderate_request(["The answer is 42.", "\\boxed{42}"]))
    assert len(fake.requests) == 0
    assert reply.decision == common_pb2.DECISION_STOP and reply.reason == "answers agree on 42"
    assert reply.agreement == 1.0 and not reply.llm_used and reply.usage.calls == 0
    assert attributes["smoa.decision"] == "stop" and attributes["smoa.llm_used"] is False
    assert attributes["smoa.agreement"] == 1.0


async def test_near_identical_answers_stop_without_an_llm_call() -> None:
    with FakeOpenAI(lambda r: decision("continue")) as fake:
        reply, _ = await run_moderator(fake, moderate_request([PARIS, PARIS.replace(".", "!")]))
    assert len(fake.requests) == 0 and reply.reason == "answers are near-identical" and not reply.llm_used


async def test_the_llm_decides_to_stop() -> None:
    with FakeOpenAI(lambda r: decision("stop", "Paris is correct.")) as fake:
        reply, attributes = await run_moderator(fake, moderate_request([PARIS, LYON]))
    [request] = fake.requests
    assert request["response_format"]["type"] == "json_schema"
    schema = request["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["decision"] == {"enum": ["stop", "continue"]}
    prompt = request["messages"][1]["content"]
    assert PARIS in prompt and LYON in prompt and "round 1 of at most 3" in prompt
    assert (reply.decision, reply.reason, reply.llm_used) == (
        common_pb2.DECISION_STOP,
        "Paris is correct.",
        True,
    )
    assert reply.usage.calls == 1 and 0.0 <= reply.agreement < 0.75
    assert attributes["smoa.llm_used"] is True


async def test_the_llm_decides_to_continue() -> None:
    with FakeOpenAI(lambda r: decision("continue", "They disagree.")) as fake:
        reply, _ = await run_moderator(fake, moderate_request([PARIS, LYON]))
    assert reply.decision == common_pb2.DECISION_CONTINUE and reply.reason == "They disagree."


async def test_a_single_kept_answer_goes_to_the_llm() -> None:
    with FakeOpenAI(lambda r: decision("stop")) as fake:
        reply, _ = await run_moderator(fake, moderate_request(["The answer is 42."]))
    assert reply.llm_used and len(fake.requests) == 1 and reply.agreement == 0.0


async def test_an_invalid_decision_is_retried_with_the_error() -> None:
    def script(request: dict[str, Any]) -> Reply:
        return decision("maybe") if len(request["messages"]) == 2 else decision("stop", "fixed")

    with FakeOpenAI(script) as fake:
        reply, _ = await run_moderator(fake, moderate_request([PARIS, LYON]))
    retry = fake.requests[1]["messages"]
    assert '"decision" must be "stop" or "continue"' in retry[-1]["content"]
    assert (reply.decision, reply.reason, reply.usage.calls) == (common_pb2.DECISION_STOP, "fixed", 2)


async def test_a_failing_moderator_continues_while_layers_remain() -> None:
    with FakeOpenAI(lambda r: Reply("no idea")) as fake:
        reply, _ = await run_moderator(fake, moderate_request([PARIS, LYON], layer=1, max_layers=3))
    assert reply.decision == common_pb2.DECISION_CONTINUE and "moderator failed" in reply.reason
    assert reply.llm_used and reply.usage.calls == 2


async def test_a_failing_moderator_stops_at_the_last_layer() -> None:
    with FakeOpenAI(lambda r: Reply("no idea")) as fake:
        reply, _ = await run_moderator(fake, moderate_request([PARIS, LYON], layer=3, max_layers=3))
    assert reply.decision == common_pb2.DECISION_STOP and "moderator failed" in reply.reason
