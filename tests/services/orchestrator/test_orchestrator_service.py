"""OrchestratorService on a real socket against scripted gRPC peers (and a FakeOpenAI for its own LLM
calls): the wire, validation, streaming, cancellation, deadlines and peer failures."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from smoa.v1 import (
    common_pb2,
    judge_pb2,
    judge_pb2_grpc,
    moderator_pb2,
    moderator_pb2_grpc,
    orchestrator_pb2,
    proposer_pb2,
    proposer_pb2_grpc,
)
from smoa_services.config import Settings
from smoa_services.llm import ChatModel
from smoa_services.orchestrator.prompt import AGGREGATOR_PROMPT, GENERIC_ROLES, ROLE_WRITER_PROMPT
from smoa_services.platform.server import Server
from smoa_services.rpc.failure import InvalidArgument, Violation, violations_of
from smoa_testing.eventually import eventually
from smoa_testing.fake_llm.chat_script import Reply, system_prompt
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.orchestrator_stack import (
    EVERY_CALL,
    CreateServer,
    collect,
    orchestrator_stack,
    question,
)

Context = grpc.aio.ServicerContext[Any, Any]


class ScriptedProposer(proposer_pb2_grpc.ProposerServiceServicer):
    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.requests: list[proposer_pb2.ProposeRequest] = []
        self.cancelled = 0

    async def Propose(
        self, request: proposer_pb2.ProposeRequest, context: Context
    ) -> proposer_pb2.ProposeResponse:
        self.requests.append(request)
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        usage = common_pb2.Usage(input_tokens=10, output_tokens=5, calls=1)
        # Each role commits to its own number: the kept answers do not agree, so the moderator is asked.
        text = f"{request.role} says {len(request.references)}: {sum(map(ord, request.role))}"
        return proposer_pb2.ProposeResponse(text=text, usage=usage)


class ScriptedJudge(judge_pb2_grpc.JudgeServiceServicer):
    async def Judge(self, request: judge_pb2.JudgeRequest, context: Context) -> judge_pb2.JudgeResponse:
        kept = [c.id for c in request.candidates][-request.k :]
        return judge_pb2.JudgeResponse(
            ranking=kept, kept_ids=kept, usage=common_pb2.Usage(input_tokens=20, output_tokens=2, calls=1)
        )


class ScriptedModerator(moderator_pb2_grpc.ModeratorServiceServicer):
    async def Moderate(
        self, request: moderator_pb2.ModerateRequest, context: Context
    ) -> moderator_pb2.ModerateResponse:
        return moderator_pb2.ModerateResponse(decision=common_pb2.DECISION_CONTINUE, llm_used=True)


def scripted(name: str, servicer: object) -> CreateServer:
    adders = {
        "proposer": proposer_pb2_grpc.add_ProposerServiceServicer_to_server,
        "judge": judge_pb2_grpc.add_JudgeServiceServicer_to_server,
        "moderator": moderator_pb2_grpc.add_ModeratorServiceServicer_to_server,
    }

    def create(settings: Settings, telemetry: Any, chat: ChatModel | None) -> Server:
        def register(server: Server) -> list[str]:
            adders[name](servicer, server.server)  # type: ignore[operator]
            return [f"smoa.v1.{name.capitalize()}Service"]

        return Server(name, settings, telemetry, register)

    return create


def scripted_peers(proposer: ScriptedProposer | None = None) -> dict[str, CreateServer]:
    return {
        "proposer": scripted("proposer", proposer or ScriptedProposer()),
        "judge": scripted("judge", ScriptedJudge()),
        "moderator": scripted("moderator", ScriptedModerator()),
    }


def aggregator_or_roles(request: dict[str, Any]) -> Reply:
    if system_prompt(request).startswith(ROLE_WRITER_PROMPT):
        return Reply('{"roles": ["historian", "chemist", "poet"]}')
    assert system_prompt(request).startswith(AGGREGATOR_PROMPT)
    return Reply("The answer is 42 , all agree")


@pytest.fixture
def fake() -> Any:
    with FakeOpenAI(aggregator_or_roles) as endpoint:
        yield endpoint


async def test_stream_is_progress_then_tokens_then_summary(fake: FakeOpenAI) -> None:
    async with orchestrator_stack(fake.base_url, scripted_peers(), **EVERY_CALL) as stack:
        request = orchestrator_pb2.GenerateRequest(
            messages=question(), n=3, k=2, max_layers=2, fused_judge_moderator=False
        )
        messages = await collect(stack, request)
    kinds = [m.WhichOneof("event") for m in messages]
    first_token = kinds.index("token")
    assert set(kinds[:first_token]) == {"progress"} and kinds[-1] == "summary"
    assert set(kinds[first_token:-1]) == {"token"}
    stages = [(m.progress.stage, m.progress.layer) for m in messages[:first_token]]
    P = orchestrator_pb2.Progress
    assert stages == [
        (P.STAGE_ROLES_READY, 0),
        (P.STAGE_PROPOSALS_DONE, 1),
        (P.STAGE_JUDGED, 1),
        (P.STAGE_MODERATED, 1),
        (P.STAGE_PROPOSALS_DONE, 2),
        (P.STAGE_JUDGED, 2),
        (P.STAGE_AGGREGATING, 0),
    ]
    summary = messages[-1].summary
    assert (
        "".join(m.token for m in messages[first_token:-1]) == summary.text == "The answer is 42 , all agree"
    )
    assert summary.stop_reason == common_pb2.STOP_REASON_MAX_LAYERS
    assert summary.mode == orchestrator_pb2.MODE_SMOA
    assert [layer.kept_ids for layer in summary.layers] == [["L1-P1", "L1-P2"], ["L2-P1", "L2-P2"]]
    assert list(summary.roles) == list(GENERIC_ROLES[:3])
    # 6 proposals + 2 judgements + 1 moderation (scripted peers report no usage for it) + the aggregator.
    assert summary.cost.total.calls == 6 + 2 + 1
    assert summary.cost.total.input_tokens == 6 * 10 + 2 * 20 + 11
    stages_costed = [(s.stage, s.layer) for s in summary.cost.stages]
    assert stages_costed == [
        ("proposer", 1),
        ("judge", 1),
        ("moderator", 1),
        ("proposer", 2),
        ("judge", 2),
        ("aggregator", 0),
    ]
    assert [t.stage for t in summary.timings] == ["roles", "layer 1", "layer 2", "aggregator", "total"]


async def test_generate_matches_the_streams_summary(fake: FakeOpenAI) -> None:
    async with orchestrator_stack(fake.base_url, scripted_peers()) as stack:
        request = orchestrator_pb2.GenerateRequest(
            messages=question(), n=2, max_layers=1, mode=orchestrator_pb2.MODE_MOA
        )
        unary = await stack.stub.Generate(request, timeout=10)
        streamed = (await collect(stack, request))[-1].summary
    for response in (unary, streamed):
        assert response.stop_reason == common_pb2.STOP_REASON_FIXED_LAYERS
        assert response.text == "The answer is 42 , all agree"
        assert [c.id for c in response.layers[0].candidates] == ["L1-P0", "L1-P1"]


async def test_roles_from_a_task_description_are_cached_across_requests(fake: FakeOpenAI) -> None:
    proposer = ScriptedProposer()
    async with orchestrator_stack(fake.base_url, scripted_peers(proposer)) as stack:
        request = orchestrator_pb2.GenerateRequest(
            messages=question(), n=3, max_layers=1, task_description="history"
        )
        first = await stack.stub.Generate(request, timeout=10)
        second = await stack.stub.Generate(request, timeout=10)
    assert list(first.roles) == list(second.roles) == ["historian", "chemist", "poet"]
    assert len(fake.calls(lambda r: system_prompt(r).startswith(ROLE_WRITER_PROMPT))) == 1
    assert first.cost.stages[0].stage == "roles"
    assert "roles" not in [s.stage for s in second.cost.stages]
    assert sorted(r.role for r in proposer.requests[:3]) == ["chemist", "historian", "poet"]


async def test_a_cancelled_stream_cancels_the_proposers_and_the_server_stays_healthy(
    fake: FakeOpenAI,
) -> None:
    proposer = ScriptedProposer(delay=30)
    async with orchestrator_stack(fake.base_url, scripted_peers(proposer)) as stack:
        call = stack.stub.GenerateStream(
            orchestrator_pb2.GenerateRequest(messages=question(), n=3), timeout=10
        )
        first = await call.read()
        assert isinstance(first, orchestrator_pb2.GenerateStreamResponse)
        assert first.progress.stage == orchestrator_pb2.Progress.STAGE_ROLES_READY
        while len(proposer.requests) < 3:
            await asyncio.sleep(0.01)
        call.cancel()
        await eventually(lambda: proposer.cancelled == 3, 4, "the three proposer calls cancelled")
        proposer.delay = 0
        again = await stack.stub.Generate(
            orchestrator_pb2.GenerateRequest(messages=question(), n=2, max_layers=1), timeout=10
        )
        assert again.text


async def test_a_short_deadline_fails_fast_with_deadline_exceeded(fake: FakeOpenAI) -> None:
    proposer = ScriptedProposer(delay=10)
    async with orchestrator_stack(fake.base_url, scripted_peers(proposer)) as stack:
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stack.stub.Generate(orchestrator_pb2.GenerateRequest(messages=question()), timeout=0.5)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert time.monotonic() - started < 2
        # The fan-out did not outlive the request.
        await eventually(
            lambda: proposer.cancelled == len(proposer.requests) > 0, 3, "every proposer call cancelled"
        )


async def test_an_unreachable_proposer_service_fails_the_quorum_at_once_naming_it(fake: FakeOpenAI) -> None:
    peers = scripted_peers()
    del peers["proposer"]
    async with orchestrator_stack(fake.base_url, peers, proposer_target="dns:///127.0.0.1:1") as stack:
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stack.stub.Generate(orchestrator_pb2.GenerateRequest(messages=question(), n=3), timeout=30)
        waited = time.monotonic() - started
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert waited < 10, "it must not wait for the caller's deadline"
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
    assert any(d.Unpack(info) for d in status.details if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR))
    assert any(d.Unpack(retry) for d in status.details if d.Is(error_details_pb2.RetryInfo.DESCRIPTOR))
    assert info.reason == "QUORUM_NOT_MET"
    assert (info.metadata["layer"], info.metadata["answered"], info.metadata["quorum"]) == ("1", "0", "2")
    # What happened to the proposers, with the peer's own status: two failed, and the third was not
    # waited for, since the quorum was out of reach.
    assert (caught.value.details() or "").count("failed UNAVAILABLE: proposer service:") >= 2


async def test_a_failing_llm_is_unavailable_naming_the_backend() -> None:
    with FakeOpenAI(lambda r: Reply(status=503)) as fake:
        async with orchestrator_stack(fake.base_url, scripted_peers()) as stack:
            request = orchestrator_pb2.GenerateRequest(messages=question(), mode=orchestrator_pb2.MODE_SINGLE)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await collect(stack, request)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "LLM backend" in (caught.value.details() or "")


USER = question()[0]
BAD_REQUESTS = [
    (orchestrator_pb2.GenerateRequest(), "messages"),
    (orchestrator_pb2.GenerateRequest(messages=[USER], n=33), "n"),
    (orchestrator_pb2.GenerateRequest(messages=[USER], n=2, k=3), "k"),
    (orchestrator_pb2.GenerateRequest(messages=[USER], k=-1), "k"),
    (orchestrator_pb2.GenerateRequest(messages=[USER], max_layers=11), "max_layers"),
    (orchestrator_pb2.GenerateRequest(messages=[USER], mode=7), "mode"),  # type: ignore[arg-type]
    (
        orchestrator_pb2.GenerateRequest(messages=[USER], model=common_pb2.ModelSettings(max_tokens=0)),
        "model.max_tokens",
    ),
    (
        orchestrator_pb2.GenerateRequest(
            messages=[USER],
            agents=[orchestrator_pb2.AgentOverride(index=0, model=common_pb2.ModelSettings(max_tokens=-2))],
        ),
        "agents[0].model.max_tokens",
    ),
    (
        orchestrator_pb2.GenerateRequest(
            messages=[USER], n=2, agents=[orchestrator_pb2.AgentOverride(index=5)]
        ),
        "agents[0].index",
    ),
    (
        orchestrator_pb2.GenerateRequest(messages=[USER], roles=orchestrator_pb2.Roles(roles=["ok", ""])),
        "roles.roles[1]",
    ),
    (orchestrator_pb2.GenerateRequest(messages=[USER], token_budget=-1), "token_budget"),
    (orchestrator_pb2.GenerateRequest(messages=[USER], n=3, quorum=4), "quorum"),
    # Enums and limits are checked before any LLM call.
    (orchestrator_pb2.GenerateRequest(messages=[USER], aggregation=99), "aggregation"),  # type: ignore[arg-type]
    (orchestrator_pb2.GenerateRequest(messages=[USER], selection=7), "selection"),  # type: ignore[arg-type]
    (
        orchestrator_pb2.GenerateRequest(
            messages=[USER], model=common_pb2.ModelSettings(max_tokens=2**31 - 1)
        ),
        "model.max_tokens",
    ),
    (
        orchestrator_pb2.GenerateRequest(
            messages=[USER], roles=orchestrator_pb2.Roles(roles=["r" * 300_000])
        ),
        "roles.roles[0]",
    ),
    (orchestrator_pb2.GenerateRequest(messages=[USER], task_description="t" * 300_000), "task_description"),
    (orchestrator_pb2.GenerateRequest(messages=[USER] * 300), "messages"),
    (orchestrator_pb2.GenerateRequest(messages=[USER], quorum=-1), "quorum"),
    (orchestrator_pb2.GenerateRequest(messages=[USER], n=3, first_layer_start=4), "first_layer_start"),
    (orchestrator_pb2.GenerateRequest(messages=[USER], first_layer_step=-1), "first_layer_step"),
    (
        orchestrator_pb2.GenerateRequest(
            messages=[common_pb2.ChatMessage(role=common_pb2.CHAT_ROLE_USER, content="x" * 2000)]
        ),
        "messages",
    ),
]


async def test_bad_requests_are_invalid_argument_naming_the_field(fake: FakeOpenAI) -> None:
    async with orchestrator_stack(fake.base_url, scripted_peers(), max_prompt_chars=1000) as stack:
        for request, field in BAD_REQUESTS:
            for rpc in ("unary", "stream"):
                with pytest.raises(grpc.aio.AioRpcError) as caught:
                    if rpc == "unary":
                        await stack.stub.Generate(request, timeout=5)
                    else:
                        await collect(stack, request, timeout=5)
                assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (rpc, field)
                assert field in [v.field for v in violations_of(caught.value)], (rpc, field)
    assert not fake.requests


class RefusingProposer(proposer_pb2_grpc.ProposerServiceServicer):
    """Refuses every request as its own validation would: a peer's INVALID_ARGUMENT."""

    async def Propose(
        self, request: proposer_pb2.ProposeRequest, context: Context
    ) -> proposer_pb2.ProposeResponse:
        raise InvalidArgument([Violation("messages", "the prompt would be 900000 characters, over 200000")])


async def test_a_peers_refusal_keeps_its_code_and_details(fake: FakeOpenAI) -> None:
    peers = scripted_peers()
    peers["proposer"] = scripted("proposer", RefusingProposer())
    async with orchestrator_stack(fake.base_url, peers) as stack:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stack.stub.Generate(orchestrator_pb2.GenerateRequest(messages=question(), n=3), timeout=10)
    # Not INTERNAL: the caller learns which field, as the proposer said it.
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations_of(caught.value) == [
        Violation("messages", "the prompt would be 900000 characters, over 200000")
    ]


class SlowFirstJudge(ScriptedJudge):
    """Its first call hangs (a replica gone slow); later ones answer at once."""

    def __init__(self) -> None:
        self.calls = 0
        self.cancelled = 0

    async def Judge(self, request: judge_pb2.JudgeRequest, context: Context) -> judge_pb2.JudgeResponse:
        self.calls += 1
        if self.calls == 1:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        return await super().Judge(request, context)


async def test_a_hedged_judge_call_answers_for_a_slow_one_and_its_cost_counts(fake: FakeOpenAI) -> None:
    judge = SlowFirstJudge()
    peers = scripted_peers()
    peers["judge"] = scripted("judge", judge)
    async with orchestrator_stack(fake.base_url, peers, peer_hedge_after="0.3", **EVERY_CALL) as stack:
        started = time.monotonic()
        reply = await stack.stub.Generate(
            orchestrator_pb2.GenerateRequest(messages=question(), n=3, k=2, max_layers=1), timeout=20
        )
        took = time.monotonic() - started
        await eventually(lambda: judge.cancelled > 0, 5, "the losing hedge cancelled")
    assert 0.3 <= took < 3 and judge.calls == 2 and judge.cancelled == 1
    assert not reply.degraded and list(reply.layers[0].kept_ids) == ["L1-P1", "L1-P2"]
    # ScriptedJudge's usage is 20/2 tokens in 1 call: the abandoned hedge adds another call's prompt.
    [judged] = [s for s in reply.cost.stages if s.stage == "judge"]
    assert (judged.usage.calls, judged.usage.input_tokens, judged.usage.estimated) == (2, 40, True)


def aggregator_breaks_after(pieces: int) -> Any:
    def script(request: dict[str, Any]) -> Reply:
        assert system_prompt(request).startswith(AGGREGATOR_PROMPT)
        return Reply("The answer is 42 , all agree", break_after=pieces)

    return script


async def test_a_stream_that_broke_after_tokens_ends_with_a_clear_status() -> None:
    with FakeOpenAI(aggregator_breaks_after(2)) as fake:
        async with orchestrator_stack(fake.base_url, scripted_peers(), **EVERY_CALL) as stack:
            request = orchestrator_pb2.GenerateRequest(messages=question(), n=2, max_layers=1)
            received: list[orchestrator_pb2.GenerateStreamResponse] = []
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                async for message in stack.stub.GenerateStream(request, timeout=10):
                    received.append(message)
            # Unary: nothing was sent yet, so the best kept answer stands in, flagged.
            unary = await stack.stub.Generate(request, timeout=10)
    assert [m.token for m in received if m.WhichOneof("event") == "token"] == ["The", " answer"]
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert any(d.Unpack(info) for d in status.details if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR))
    assert (info.reason, info.metadata["tokens_sent"]) == ("STREAM_INTERRUPTED", "2")
    assert unary.degraded and [d.stage for d in unary.degradations] == ["aggregator"]
    assert unary.text == next(
        c.text for c in unary.layers[0].candidates if c.id == unary.layers[0].kept_ids[0]
    )


async def test_invalid_utf8_in_a_string_field_is_invalid_argument(fake: FakeOpenAI) -> None:
    # GenerateRequest{messages: [{role: USER, content: b"\xff"}]}, written by hand: protobuf refuses to.
    raw = b"\x0a\x05\x08\x02\x12\x01\xff"
    async with orchestrator_stack(fake.base_url, scripted_peers()) as stack:
        for method in ("Generate", "GenerateStream"):
            path = f"/smoa.v1.OrchestratorService/{method}"
            unary: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = stack.channel.unary_unary(path)
            stream: grpc.aio.UnaryStreamMultiCallable[bytes, bytes] = stack.channel.unary_stream(path)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                if method == "Generate":
                    await unary(raw, timeout=5)
                else:
                    async for _ in stream(raw, timeout=5):
                        pass
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, method
            [violation] = violations_of(caught.value)
            assert violation.field == "request" and "UTF-8" in violation.description
    assert not fake.requests
