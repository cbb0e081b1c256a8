"""GenerateRequest.stop reaches every call that writes the answer (the proposers, the aggregator, SINGLE's
call) and no call whose reply is JSON (the judge, the moderator); GenerateRequest.metadata is recorded on
the generation's span. Over real services on 127.0.0.1, the LLM endpoint recording what it was asked."""

from __future__ import annotations

import grpc
import pytest

from smoa.v1 import orchestrator_pb2
from smoa_testing.fake_llm.callers import caller_of
from smoa_testing.fake_llm.instant_llm import instant_reply
from smoa_testing.fake_llm.openai_endpoint import FakeOpenAI
from smoa_testing.stacks.orchestrator_stack import orchestrator_stack, question

STOP = ["\nObservation:", "###"]


@pytest.mark.parametrize(
    "mode", [orchestrator_pb2.MODE_SMOA, orchestrator_pb2.MODE_SINGLE], ids=["smoa", "single"]
)
async def test_stop_goes_to_the_answer_writers_only(mode: orchestrator_pb2.Mode.ValueType) -> None:
    request = orchestrator_pb2.GenerateRequest(
        messages=question(),
        mode=mode,
        n=3,
        k=2,
        max_layers=2,
        stop=STOP,
        fused_judge_moderator=False,
        skips=orchestrator_pb2.Skips(judge_on_consensus=False, synthesis_on_agreement=False),
    )
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack:
            await stack.stub.Generate(request, timeout=30)
        asked = {caller_of(r): r.get("stop") for r in llm.calls()}
        by_caller = [(caller_of(r), r.get("stop")) for r in llm.calls()]
    writers = {"proposer", "aggregator"} if mode == orchestrator_pb2.MODE_SMOA else {"single"}
    assert writers <= set(asked)
    for caller, stop in by_caller:
        assert stop == (STOP if caller in writers else None), (caller, stop)
    if mode == orchestrator_pb2.MODE_SMOA:
        assert {"judge", "moderator"} <= set(asked)


async def test_metadata_is_recorded_on_the_generations_span() -> None:
    request = orchestrator_pb2.GenerateRequest(
        messages=question(), mode=orchestrator_pb2.MODE_SINGLE, metadata={"user": "u-17", "team": "search"}
    )
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack:
            await stack.stub.Generate(request, timeout=30)
            spans = [s for s in stack.spans.get_finished_spans() if "smoa.mode" in (s.attributes or {})]
    [generation] = spans
    attributes = dict(generation.attributes or {})
    assert attributes["smoa.request.metadata.user"] == "u-17"
    assert attributes["smoa.request.metadata.team"] == "search"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"stop": ["x" * 257]}, "stop[0]"),
        ({"metadata": {f"k{i}": "v" for i in range(17)}}, "metadata"),
        ({"metadata": {"user": "x" * 513}}, "metadata"),
    ],
)
async def test_too_many_or_too_long_is_invalid_argument_naming_the_field(
    fields: dict[str, object], field: str
) -> None:
    request = orchestrator_pb2.GenerateRequest(messages=question(), **fields)  # type: ignore[arg-type]
    with FakeOpenAI(instant_reply) as llm:
        async with orchestrator_stack(llm.base_url) as stack:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stack.stub.Generate(request, timeout=30)
        assert not llm.calls()
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and field in (
        refused.value.details() or ""
    )
