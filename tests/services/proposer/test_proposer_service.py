"""ProposerService on a real server, its LLM a scripted FakeOpenAI."""

from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from smoa.v1 import common_pb2, proposer_pb2, proposer_pb2_grpc
from smoa_services import proposer
from smoa_services.config import Settings
from smoa_services.proposer.prompt import SYNTHESIZE
from smoa_testing.fake_llm.chat_script import Reply, system_prompt
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.running_service import QUESTION, candidate, serving


async def propose(fake: FakeOpenAI, request: proposer_pb2.ProposeRequest) -> proposer_pb2.ProposeResponse:
    async with serving(proposer.create_server, fake.base_url) as service:
        stub = proposer_pb2_grpc.ProposerServiceStub(service.channel)
        return await stub.Propose(request, timeout=10)


async def test_answer_usage_and_metadata_are_mapped() -> None:
    with FakeOpenAI(lambda r: Reply("Paris is the capital.", prompt_tokens=20)) as fake:
        reply = await propose(
            fake, proposer_pb2.ProposeRequest(messages=QUESTION, role="You are a geographer.")
        )
    assert reply.text == "Paris is the capital."
    assert (reply.usage.input_tokens, reply.usage.output_tokens, reply.usage.calls) == (20, 4, 1)
    assert not reply.usage.estimated
    assert reply.finish_reason == proposer_pb2.FINISH_REASON_STOP
    assert reply.model == Settings().llm_model  # the fake echoes the model asked for
    assert reply.latency.ToNanoseconds() > 0
    [request] = fake.requests
    assert request["messages"][0] == {"role": "system", "content": "You are a geographer."}
    assert request["messages"][-1]["content"] == "What is the capital of France?"


async def test_references_reach_the_prompt() -> None:
    references = [candidate("L1-P1", "It is Paris."), candidate("L1-P2", "Lyon, surely.")]
    with FakeOpenAI() as fake:
        await propose(fake, proposer_pb2.ProposeRequest(messages=QUESTION, references=references))
    system = system_prompt(fake.requests[0])
    assert SYNTHESIZE in system
    assert "It is Paris." in system and "Lyon, surely." in system
    # Ids and agents are for traces, never for the model.
    assert "L1-P1" not in system and "agent of" not in system


async def test_model_settings_reach_the_backend() -> None:
    model = common_pb2.ModelSettings(model="big-model", temperature=0.2, max_tokens=64, seed=9)
    with FakeOpenAI() as fake:
        reply = await propose(fake, proposer_pb2.ProposeRequest(messages=QUESTION, model=model))
    request: dict[str, Any] = fake.requests[0]
    assert (request["model"], request["temperature"], request["max_tokens"], request["seed"]) == (
        "big-model",
        0.2,
        64,
        9,
    )
    assert reply.model == "big-model"


async def test_usage_is_estimated_when_the_backend_reports_none() -> None:
    with FakeOpenAI(lambda r: Reply("Paris.", usage=False)) as fake:
        reply = await propose(fake, proposer_pb2.ProposeRequest(messages=QUESTION))
    assert reply.usage.estimated and reply.usage.input_tokens > 0 and reply.usage.output_tokens > 0


@pytest.mark.parametrize(
    ("finish", "expected"),
    [
        ("length", proposer_pb2.FINISH_REASON_LENGTH),
        ("content_filter", proposer_pb2.FINISH_REASON_CONTENT_FILTER),
        ("tool_calls", proposer_pb2.FINISH_REASON_OTHER),
    ],
)
async def test_finish_reasons(finish: str, expected: int) -> None:
    with FakeOpenAI(lambda r: Reply("Par", finish_reason=finish)) as fake:
        reply = await propose(fake, proposer_pb2.ProposeRequest(messages=QUESTION))
    assert reply.finish_reason == expected


async def test_backend_down_is_unavailable_with_error_info() -> None:
    with FakeOpenAI(lambda r: Reply(status=503)) as fake, pytest.raises(grpc.aio.AioRpcError) as error:
        await propose(fake, proposer_pb2.ProposeRequest(messages=QUESTION))
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE
    status = rpc_status.from_call(error.value)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    retry = error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(info) and status.details[1].Unpack(retry)
    assert info.reason == "LLM_UNAVAILABLE" and info.metadata["backend"] == "default"


async def test_backend_refusal_is_failed_precondition() -> None:
    with FakeOpenAI(lambda r: Reply(status=400)) as fake, pytest.raises(grpc.aio.AioRpcError) as error:
        await propose(fake, proposer_pb2.ProposeRequest(messages=QUESTION))
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    status = rpc_status.from_call(error.value)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info) and info.reason == "LLM_REJECTED"


async def test_readiness_follows_the_backends_breaker_and_liveness_does_not() -> None:
    with FakeOpenAI(lambda r: Reply(status=503)) as fake:
        async with serving(
            proposer.create_server, fake.base_url, breaker_consecutive_failures=2, breaker_cooldown_seconds=30
        ) as service:
            stub = proposer_pb2_grpc.ProposerServiceStub(service.channel)
            health = health_pb2_grpc.HealthStub(service.channel)

            async def status(name: str) -> int:
                reply = await health.Check(health_pb2.HealthCheckRequest(service=name), timeout=2)
                return int(reply.status)

            assert await status("smoa.v1.Readiness") == health_pb2.HealthCheckResponse.SERVING
            for _ in range(2):
                with pytest.raises(grpc.aio.AioRpcError):
                    await stub.Propose(proposer_pb2.ProposeRequest(messages=QUESTION), timeout=5)
            with pytest.raises(grpc.aio.AioRpcError) as fast:
                await stub.Propose(proposer_pb2.ProposeRequest(messages=QUESTION), timeout=5)
            assert "circuit breaker open" in (fast.value.details() or "") and len(fake.requests) == 2
            assert await status("smoa.v1.Readiness") == health_pb2.HealthCheckResponse.NOT_SERVING
            assert await status("smoa.v1.Readiness/default") == health_pb2.HealthCheckResponse.NOT_SERVING
            assert await status("") == health_pb2.HealthCheckResponse.SERVING
            assert await status("smoa.v1.ProposerService") == health_pb2.HealthCheckResponse.SERVING
