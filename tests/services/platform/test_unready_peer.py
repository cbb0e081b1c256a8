"""A peer with no replica ready says why: the orchestrator's channels skip unready replicas, so gRPC's
own UNAVAILABLE ("connections to all backends failing") is all it would see; the replicas' health entries
name the open circuit breaker and its backend, or the drain. Asked within half a second, and a peer that
is down or frozen leaves gRPC's words as they were."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import grpc
import openai
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from smoa.v1 import orchestrator_pb2
from smoa_services.orchestrator.peer_readiness import PeerReadiness, not_ready
from smoa_testing.fake_llm.chat_script import Reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.in_process_gateway import gateway, openai_client
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack, question

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
BREAKER = "the circuit breaker of LLM backend 'default' is open"


def entries(**statuses: int) -> dict[str, health_pb2.HealthCheckResponse]:
    """Health entries by name; `live` is liveness (""), `x` is smoa.v1.Readiness/x."""
    return {
        ("" if name == "live" else f"smoa.v1.Readiness/{name}"): health_pb2.HealthCheckResponse(status=status)
        for name, status in statuses.items()
    }


async def test_an_open_breaker_behind_every_proposer_is_named_over_grpc_and_http() -> None:
    with FakeOpenAI(lambda request: Reply(status=503)) as llm:
        async with (
            orchestrator_stack(
                llm.base_url,
                peer_settings={"breaker_consecutive_failures": 2, "breaker_cooldown_seconds": 60},
            ) as stack,
            gateway(stack.port) as url,
        ):
            request = orchestrator_pb2.GenerateRequest(messages=question(), n=2, k=1, max_layers=1)
            with pytest.raises(grpc.aio.AioRpcError):
                await stack.stub.Generate(request, timeout=10)  # the failures that open it
            calls = len(llm.calls())
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stack.stub.Generate(request, timeout=10)
            with pytest.raises(openai.InternalServerError) as http:
                await openai_client(url).chat.completions.create(model="smoa:n=2,k=1,layers=1", messages=[
                    {"role": "user", "content": "What is 6 times 7?"}
                ])  # fmt: skip
            assert len(llm.calls()) == calls  # refused without a call to the backend
    error = refused.value
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error.details() == f"proposer service: no replica is ready: {BREAKER}"
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    info = error_details_pb2.ErrorInfo()
    assert status and any(d.Unpack(info) for d in status.details)
    assert info.reason == "BREAKER_OPEN" and dict(info.metadata) == {"backend": "default", "peer": "proposer"}
    assert http.value.status_code == 503 and BREAKER in http.value.message


def test_what_the_health_entries_say() -> None:
    breaker = not_ready("judge", entries(live=SERVING, default=NOT_SERVING, big=NOT_SERVING, small=SERVING))
    assert breaker and breaker.reason == "BREAKER_OPEN" and breaker.metadata["backend"] == "big,default"
    assert "circuit breakers of LLM backends 'big', 'default' are open" in str(breaker)
    # The drain turns every entry NOT_SERVING, liveness included: that is the drain, not the breakers.
    drain = not_ready("judge", entries(live=NOT_SERVING, default=NOT_SERVING))
    assert drain and drain.reason == "PEER_DRAINING" and "draining" in str(drain)
    assert not_ready("judge", entries(live=SERVING, default=SERVING)) is None


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers: a frozen replica."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("port", ["silent_port", "closed_port"])
async def test_a_peer_down_or_frozen_is_not_explained_and_not_waited_for(
    port: str, request: pytest.FixtureRequest
) -> None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{request.getfixturevalue(port)}") as channel:
        readiness = PeerReadiness({"proposer": health_pb2_grpc.HealthStub(channel)})
        started = time.monotonic()
        answers = await asyncio.gather(*(readiness.explain("proposer", 5.0) for _ in range(8)))
        assert answers == [None] * 8 and time.monotonic() - started < 2.0
        assert await readiness.explain("judge", 5.0) is None  # no channel to ask
