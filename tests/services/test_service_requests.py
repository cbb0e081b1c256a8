"""What every service refuses (INVALID_ARGUMENT naming the fields), and what every service offers
(health, reflection), on real servers."""

from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from smoa.v1 import (
    common_pb2,
    judge_pb2,
    judge_pb2_grpc,
    moderator_pb2,
    moderator_pb2_grpc,
    proposer_pb2,
    proposer_pb2_grpc,
)
from smoa_services import judge, moderator, proposer
from smoa_services.rpc.failure import violations_of
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.running_service import QUESTION, CreateServer, candidate, serving

A, B = candidate("a", "Paris."), candidate("b", "Lyon.")
BAD_MODEL = common_pb2.ModelSettings(max_tokens=-1)


def judge_request(**fields: Any) -> judge_pb2.JudgeRequest:
    values: dict[str, Any] = {"messages": QUESTION, "candidates": [A, B], "k": 1, **fields}
    return judge_pb2.JudgeRequest(**values)


def moderate_request(**fields: Any) -> moderator_pb2.ModerateRequest:
    values: dict[str, Any] = {"messages": QUESTION, "kept": [A, B], "layer": 1, "max_layers": 3, **fields}
    return moderator_pb2.ModerateRequest(**values)


async def call(service: str, channel: grpc.aio.Channel, request: Message) -> Message:
    if service == "proposer":
        assert isinstance(request, proposer_pb2.ProposeRequest)
        return await proposer_pb2_grpc.ProposerServiceStub(channel).Propose(request, timeout=5)
    if service == "judge":
        assert isinstance(request, judge_pb2.JudgeRequest)
        return await judge_pb2_grpc.JudgeServiceStub(channel).Judge(request, timeout=5)
    assert isinstance(request, moderator_pb2.ModerateRequest)
    return await moderator_pb2_grpc.ModeratorServiceStub(channel).Moderate(request, timeout=5)


SERVERS: dict[str, CreateServer] = {
    "proposer": proposer.create_server,
    "judge": judge.create_server,
    "moderator": moderator.create_server,
}

BAD_REQUESTS: list[tuple[str, Message, set[str]]] = [
    ("proposer", proposer_pb2.ProposeRequest(), {"messages"}),
    ("proposer", proposer_pb2.ProposeRequest(messages=QUESTION, model=BAD_MODEL), {"model.max_tokens"}),
    ("proposer", proposer_pb2.ProposeRequest(messages=QUESTION, references=[A, A]), {"references[1].id"}),
    (
        "proposer",
        proposer_pb2.ProposeRequest(
            messages=[common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_ASSISTANT, content="")]
        ),
        {"messages[0].content", "messages[0].role"},
    ),
    ("judge", judge_request(messages=[]), {"messages"}),
    ("judge", judge_request(candidates=[]), {"candidates"}),
    ("judge", judge_request(candidates=[A, A]), {"candidates[1].id"}),
    ("judge", judge_request(candidates=[A, candidate("", "x")]), {"candidates[1].id"}),
    ("judge", judge_request(k=3), {"k"}),
    ("judge", judge_request(k=0), {"k"}),
    ("judge", judge_request(passes=-1), {"passes"}),
    ("judge", judge_request(passes=9), {"passes"}),
    ("judge", judge_request(aggregation=99), {"aggregation"}),
    ("judge", judge_request(selection=7), {"selection"}),
    ("judge", judge_request(model=BAD_MODEL), {"model.max_tokens"}),
    ("judge", judge_request(model=common_pb2.ModelSettings(backend="nowhere")), {"model.backend"}),
    ("judge", judge_request(fused=True, layer=0, max_layers=0), {"layer", "max_layers"}),
    ("judge", judge_request(k=0, passes=-1, messages=[]), {"k", "passes", "messages"}),
    ("moderator", moderate_request(kept=[]), {"kept"}),
    ("moderator", moderate_request(messages=[]), {"messages"}),
    ("moderator", moderate_request(layer=0), {"layer"}),
    ("moderator", moderate_request(layer=4, max_layers=3), {"max_layers"}),
    ("moderator", moderate_request(model=BAD_MODEL), {"model.max_tokens"}),
    # The limits (config/limits.py): nothing unbounded reaches an LLM.
    # Both: the role is over its limit, and so is the prompt it would make.
    ("proposer", proposer_pb2.ProposeRequest(messages=QUESTION, role="r" * 300_000), {"role", "messages"}),
    (
        "proposer",
        proposer_pb2.ProposeRequest(messages=QUESTION, model=common_pb2.ModelSettings(max_tokens=2**31 - 1)),
        {"model.max_tokens"},
    ),
    ("proposer", proposer_pb2.ProposeRequest(messages=QUESTION * 300), {"messages"}),
    (
        "proposer",
        proposer_pb2.ProposeRequest(
            messages=[common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="x" * 150_000)]
        ),
        {"messages[0].content"},
    ),
    ("judge", judge_request(candidates=[candidate(f"c{i}", "x") for i in range(257)]), {"candidates"}),
    ("moderator", moderate_request(kept=[candidate(f"c{i}", "x") for i in range(257)]), {"kept"}),
]


@pytest.mark.parametrize(("service", "request_", "fields"), BAD_REQUESTS)
async def test_bad_requests_name_the_fields(service: str, request_: Message, fields: set[str]) -> None:
    with FakeOpenAI() as fake:
        async with serving(SERVERS[service], fake.base_url) as running:
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await call(service, running.channel, request_)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in violations_of(error.value)} == fields
    assert not fake.requests


async def test_an_oversized_prompt_is_refused_up_front() -> None:
    huge = candidate("a", "x" * 2_000)
    with FakeOpenAI() as fake:
        async with serving(judge.create_server, fake.base_url, max_prompt_chars=1_000) as running:
            with pytest.raises(grpc.aio.AioRpcError) as error:
                await call("judge", running.channel, judge_request(candidates=[huge, B]))
    assert [v.field for v in violations_of(error.value)] == ["messages"]


@pytest.mark.parametrize("service", sorted(SERVERS))
async def test_health_and_reflection(service: str) -> None:
    full_name = f"smoa.v1.{service.capitalize()}Service"
    with FakeOpenAI() as fake:
        async with serving(SERVERS[service], fake.base_url) as running:
            # Called by method path: the health and reflection stubs are typed for sync channels only.
            check = running.channel.unary_unary(
                "/grpc.health.v1.Health/Check",
                request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                response_deserializer=health_pb2.HealthCheckResponse.FromString,
            )
            for name in ("", full_name):
                reply = await check(health_pb2.HealthCheckRequest(service=name), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
            reflect = running.channel.stream_stream(
                "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
            )
            request = reflection_pb2.ServerReflectionRequest(list_services="")
            async for answer in reflect(iter([request])):
                names = {s.name for s in answer.list_services_response.service}
                break
    assert full_name in names
