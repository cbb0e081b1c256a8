"""All four real services on 127.0.0.1:0, every LLM call answered by one scripted FakeOpenAI that tells
the callers apart by their system prompts (the peers' own prompt constants)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import grpc
import pytest
from opentelemetry.trace import SpanKind

from smoa.v1 import common_pb2, orchestrator_pb2
from smoa_services.proposer.prompt import SYNTHESIZE
from smoa_testing.eventually import eventually
from smoa_testing.fake_llm.chat_script import Reply, system_prompt
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.fake_llm.role_script import AGREEING, ANSWERS, caller, counts, judge_reply, script, smoa
from smoa_testing.stacks.orchestrator_stack import collect, orchestrator_stack


async def test_call_counts_smoa_moa_single() -> None:
    expected = {
        orchestrator_pb2.MODE_SMOA: {"proposer": 6, "judge": 2, "moderator": 1, "aggregator": 1},
        orchestrator_pb2.MODE_MOA: {"proposer": 6, "aggregator": 1},
        orchestrator_pb2.MODE_SINGLE: {"aggregator": 0},
    }
    for mode, calls in expected.items():
        with FakeOpenAI(lambda r: Reply("single answer") if not system_prompt(r) else script()(r)) as fake:
            async with orchestrator_stack(fake.base_url) as stack:
                response = await stack.stub.Generate(smoa(mode=mode), timeout=10)
            if mode == orchestrator_pb2.MODE_SINGLE:
                assert len(fake.requests) == 1 and response.text == "single answer"
                assert not response.layers and [s.stage for s in response.cost.stages] == ["single"]
                continue
            assert counts(fake) == calls, mode
            assert response.cost.total.calls == sum(calls.values())
            assert response.cost.total.input_tokens == 11 * sum(calls.values())


async def test_judge_passes_are_the_requests_own_and_bounded() -> None:
    with FakeOpenAI(script()) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            response = await stack.stub.Generate(smoa(max_layers=1, judge_passes=3), timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stack.stub.Generate(smoa(judge_passes=9), timeout=10)
    assert counts(fake)["judge"] == 3 and len(response.layers[0].kept_ids) == 2
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "judge_passes" in (refused.value.details() or "")


async def test_kept_references_reach_the_next_layers_prompts() -> None:
    with FakeOpenAI(script()) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            response = await stack.stub.Generate(smoa(), timeout=10)
    first = response.layers[0]
    assert first.kept_ids == ["L1-P0", "L1-P1"]  # A and B score best
    assert response.stop_reason == common_pb2.STOP_REASON_MAX_LAYERS
    layer_two = [r for r in fake.calls(lambda r: caller(r) == "proposer") if SYNTHESIZE in system_prompt(r)]
    assert len(layer_two) == 3
    for request in layer_two:
        system = system_prompt(request)
        assert ANSWERS["ROLE-A"] in system and ANSWERS["ROLE-B"] in system
        assert ANSWERS["ROLE-C"] not in system  # dropped by the judge: not a reference


async def test_judge_retry_and_centrality_fallback_show_in_the_layers() -> None:
    with FakeOpenAI(script(judge=lambda r: "no json at all")) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            response = await stack.stub.Generate(smoa(max_layers=1), timeout=10)
    assert counts(fake)["judge"] == 2  # the reply, then one corrective retry
    assert response.layers[0].judge_fallback
    assert len(response.layers[0].kept_ids) == 2


async def test_agreement_stops_early_without_a_moderator_call() -> None:
    with FakeOpenAI(script(answers=AGREEING)) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            response = await stack.stub.Generate(smoa(max_layers=3), timeout=10)
    assert response.stop_reason == common_pb2.STOP_REASON_CONSENSUS
    assert len(response.layers) == 1 and response.layers[0].decision == common_pb2.DECISION_STOP
    assert "moderator" not in counts(fake)
    assert counts(fake)["proposer"] == 3


async def test_the_moderators_word_stops_early() -> None:
    stop = '{"decision": "stop", "reason": "the chemist is right"}'
    with FakeOpenAI(script(moderator=stop)) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            response = await stack.stub.Generate(smoa(max_layers=3), timeout=10)
    assert response.stop_reason == common_pb2.STOP_REASON_MODERATOR
    assert (response.layers[0].reason, len(response.layers)) == ("the chemist is right", 1)
    assert counts(fake) == {"proposer": 3, "judge": 1, "moderator": 1, "aggregator": 1}


async def test_fused_judge_decides_and_no_moderator_is_called() -> None:
    def fused(request: dict[str, Any]) -> str:
        reply = json.loads(judge_reply(request))
        return json.dumps({**reply, "decision": "stop", "reason": "good"})

    with FakeOpenAI(script(judge=fused)) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            response = await stack.stub.Generate(smoa(max_layers=3, fused_judge_moderator=True), timeout=10)
    assert response.stop_reason == common_pb2.STOP_REASON_MODERATOR and len(response.layers) == 1
    assert "moderator" not in counts(fake)


async def test_stream_tokens_make_the_summary_text() -> None:
    with FakeOpenAI(script()) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            messages = await collect(stack, smoa(max_layers=1))
    kinds = [m.WhichOneof("event") for m in messages]
    assert kinds[0] == "progress" and kinds[-1] == "summary"
    rank = {"progress": 0, "token": 1, "summary": 2}
    assert kinds == sorted(kinds, key=lambda kind: rank[kind or ""])
    tokens = "".join(m.token for m in messages if m.WhichOneof("event") == "token")
    assert tokens == messages[-1].summary.text == "Forty two is the synthesized answer"


async def test_cancelling_the_stream_stops_waiting_for_the_llm() -> None:
    # The fake would answer after 6 s and the calls time out after 5: the peers' RPCs must end well before.
    with FakeOpenAI(script(delay=6.0)) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            call = stack.stub.GenerateStream(smoa(), timeout=20)
            await call.read()  # roles ready; the proposers are now waiting on the slow fake
            await eventually(lambda: fake.in_flight >= 3, 10, "three proposer calls at the fake")
            call.cancel()

            def proposers_ended() -> bool:
                spans = stack.finished("/smoa.v1.ProposerService/Propose")
                return len([s for s in spans if s.kind == SpanKind.SERVER]) >= 3

            await eventually(proposers_ended, 4, "the proposers' RPCs ended with the cancelled stream")
            fake.script = script()
            response = await stack.stub.Generate(smoa(max_layers=1), timeout=10)
            assert response.text


async def test_a_short_deadline_is_deadline_exceeded_at_once() -> None:
    # The fake would take 6 s (the calls time out after 5): a 0.3 s deadline must end it long before.
    with FakeOpenAI(script(delay=6.0)) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            started = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stack.stub.Generate(smoa(), timeout=0.3)
            assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            assert time.monotonic() - started < 3.0


def _parent(span: Any) -> int | None:
    return span.parent.span_id if span.parent is not None else None


async def test_one_generate_is_one_trace_across_the_services() -> None:
    with FakeOpenAI(script()) as fake:
        async with orchestrator_stack(fake.base_url) as stack:
            await stack.stub.Generate(smoa(max_layers=2), timeout=10)
            spans = stack.spans.get_finished_spans()
    [generate] = [s for s in spans if s.name == "/smoa.v1.OrchestratorService/Generate"]
    assert generate.kind == SpanKind.SERVER
    assert generate.attributes is not None
    assert (generate.attributes["smoa.mode"], generate.attributes["smoa.stop_reason"]) == (
        "smoa",
        "max_layers",
    )
    assert generate.attributes["smoa.layers"] == 2
    trace_id = generate.context.trace_id
    assert all(s.context.trace_id == trace_id for s in spans)
    by_id = {s.context.span_id: s for s in spans}
    layers = {s.name: s for s in spans if s.name.startswith("smoa.layer ")}
    assert set(layers) == {"smoa.layer 1", "smoa.layer 2"}
    layer_one = layers["smoa.layer 1"]
    assert _parent(layer_one) == generate.context.span_id
    assert layer_one.attributes is not None
    assert (
        layer_one.attributes["smoa.layer"],
        layer_one.attributes["smoa.n"],
        layer_one.attributes["smoa.k"],
    ) == (1, 3, 2)
    assert list(layer_one.attributes["smoa.kept_ids"]) == ["L1-P0", "L1-P1"]  # type: ignore[arg-type]
    assert layer_one.attributes["smoa.dedup_removed"] == 0
    for method in ("ProposerService/Propose", "JudgeService/Judge", "ModeratorService/Moderate"):
        servers = [s for s in spans if s.name == f"/smoa.v1.{method}" and s.kind == SpanKind.SERVER]
        assert servers, method
        for server in servers:
            client = by_id[_parent(server)]
            assert (client.name, client.kind) == (server.name, SpanKind.CLIENT)
            layer = by_id[_parent(client)]
            assert layer.name.startswith("smoa.layer ") and _parent(layer) == generate.context.span_id
    chats = [s for s in spans if re.fullmatch(r"chat .+", s.name)]
    assert len(chats) == len(fake.requests)
    for chat in chats:
        assert chat.attributes is not None
        assert chat.attributes["gen_ai.usage.input_tokens"] == 11
        assert chat.attributes["gen_ai.usage.output_tokens"] > 0  # type: ignore[operator]
        parent = by_id[_parent(chat)]
        # Each LLM call hangs under the server span of the service that made it (or, for the
        # aggregator, the Generate span itself).
        assert parent.kind == SpanKind.SERVER
