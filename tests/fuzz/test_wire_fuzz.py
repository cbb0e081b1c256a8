"""The judge and moderator services on real servers, sent arbitrary requests (messages of their types,
valid ones with a few fields drawn, corrupted encodings, random bytes) while their LLM answers with
arbitrary replies: every call ends OK or INVALID_ARGUMENT, never UNKNOWN, INTERNAL or a status the client
cannot read, and the servers still answer their health checks at the end."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2
from hypothesis import event, example, given
from hypothesis import strategies as st

from smoa.v1 import common_pb2, judge_pb2, moderator_pb2
from smoa_services import judge, moderator
from smoa_services.config import Settings
from smoa_testing.fake_llm.chat_script import Reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.running_service import RunningService, serving
from tests.fuzz.protobuf_messages import Shape, corrupted, messages
from tests.fuzz.replies import Obj, json_values, objects, replies
from tests.fuzz.test_request_validators import VALIDATORS, blended, plausible
from tests.fuzz_budget import fuzz_wire

ANSWERED = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT}
METHODS = {"judge": "/smoa.v1.JudgeService/Judge", "moderator": "/smoa.v1.ModeratorService/Moderate"}
TYPES: dict[str, type[Message]] = {
    "judge": judge_pb2.JudgeRequest,
    "moderator": moderator_pb2.ModerateRequest,
}
# Past the servers' defaults (256 items, 100,000 characters) but well within a message's 4 MB.
SHAPE = Shape(lengths=(1, 4_001, 100_001), counts=(256, 257, 2_000))

SCORES = st.one_of(st.integers(-1, 11), st.floats(), json_values(max_leaves=3))
LLM_REPLIES = replies(
    objects(
        {
            "scores": st.lists(st.tuples(st.sampled_from(["1", "2", "3", "[1]", "9"]), SCORES)).map(
                lambda pairs: Obj(tuple(pairs))
            ),
            "decision": st.sampled_from(["stop", "continue", "maybe", None]),
            "reason": st.text(max_size=20),
        }
    )
)


@dataclass
class Wire:
    """The running services, and the reply their LLM gives next (set by each example)."""

    loop: asyncio.AbstractEventLoop
    services: dict[str, RunningService]
    llm_reply: str = "{}"


@contextmanager
def running() -> Iterator[Wire]:
    loop = asyncio.new_event_loop()
    stack = AsyncExitStack()
    wire = Wire(loop, {})
    with FakeOpenAI(lambda request: Reply(wire.llm_reply)) as fake:
        backends = json.dumps({"alt": {"base_url": fake.base_url, "model": "alt"}})
        try:
            for name, create in (("judge", judge.create_server), ("moderator", moderator.create_server)):
                context = serving(create, fake.base_url, backends=backends)
                wire.services[name] = loop.run_until_complete(stack.enter_async_context(context))
            yield wire
        finally:
            loop.run_until_complete(stack.aclose())
            loop.close()


async def send(service: RunningService, method: str, payload: bytes) -> tuple[grpc.StatusCode, str]:
    # No (de)serializers: bytes in, bytes out.
    call: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = service.channel.unary_unary(method)
    try:
        await call(payload, timeout=30)
    except grpc.aio.AioRpcError as e:
        return e.code(), e.details() or ""
    return grpc.StatusCode.OK, ""


async def serving_health(service: RunningService) -> int:
    check = service.channel.unary_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
        response_deserializer=health_pb2.HealthCheckResponse.FromString,
    )
    reply = await check(health_pb2.HealthCheckRequest(), timeout=5)
    return int(reply.status)


@st.composite
def payloads(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(TYPES)))
    request = draw(messages(TYPES[name], SHAPE))
    validator = VALIDATORS[name]
    form = draw(st.sampled_from(["drawn", "blended", "corrupted", "random"]))
    if form == "blended":
        names = sorted(validator.base.DESCRIPTOR.fields_by_name.keys())
        request = blended(validator.base, request, draw(st.sets(st.sampled_from(names), max_size=2)))
        plausible(request, Settings())
    encoded = request.SerializeToString()
    if form == "corrupted":
        return name, draw(corrupted(st.just(encoded)))
    if form == "random":
        return name, draw(st.binary(max_size=500))
    return name, encoded


EMPTY = common_pb2.ChatMessage()


@pytest.fixture(scope="module")
def wire() -> Iterator[Wire]:
    with running() as started:
        yield started


@given(payload=payloads(), llm_reply=LLM_REPLIES)
@fuzz_wire()
# Once RESOURCE_EXHAUSTED at the client: the refusal's trailers were over 16 KiB.
@example(payload=("judge", judge_pb2.JudgeRequest(messages=[EMPTY] * 300).SerializeToString()), llm_reply="")
@example(
    payload=("moderator", moderator_pb2.ModerateRequest(messages=[EMPTY] * 2_000).SerializeToString()),
    llm_reply="",
)
@example(payload=("judge", b"\x0a\x02\x12\xff"), llm_reply="")  # a string that is not UTF-8
def test_every_call_is_answered_ok_or_invalid_argument(
    wire: Wire, payload: tuple[str, bytes], llm_reply: str
) -> None:
    name, data = payload
    wire.llm_reply = llm_reply
    code, details = wire.loop.run_until_complete(send(wire.services[name], METHODS[name], data))
    event(f"{name}: {code.name}")
    if len(data) > Settings().max_message_bytes:
        # gRPC's own limit on a message, met before any smoa code runs: its status, as documented.
        assert code == grpc.StatusCode.RESOURCE_EXHAUSTED, (code, details[:300])
    else:
        assert code in ANSWERED, (code, details[:300])


def test_the_servers_still_serve_afterwards(wire: Wire) -> None:
    for service in wire.services.values():
        assert wire.loop.run_until_complete(serving_health(service)) == health_pb2.HealthCheckResponse.SERVING


def test_a_valid_request_sent_as_bytes_is_judged(wire: Wire) -> None:
    # Guards the tests above: what they send reaches the service as a request.
    wire.llm_reply = '{"scores": {"1": 7, "2": 3}}'
    request = VALIDATORS["judge"].base.SerializeToString()
    code, details = wire.loop.run_until_complete(send(wire.services["judge"], METHODS["judge"], request))
    assert code == grpc.StatusCode.OK, details
