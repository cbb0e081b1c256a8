"""The whole pipeline on the embedded default model (SmolLM2-135M under llama-cpp-python): real model,
real services, real sockets. Small max_tokens keep it to about half a minute on two cores."""

from collections.abc import Iterator

import pytest

from smoa.v1 import common_pb2, orchestrator_pb2
from smoa_services.config import EMBEDDED_MODEL
from smoa_services.llm.model_pool import free_port
from smoa_services.llm.model_server import EmbeddedModelServer
from smoa_testing.stacks.orchestrator_stack import collect, orchestrator_stack, question

pytestmark = pytest.mark.embedded


@pytest.fixture(scope="module")
def model() -> Iterator[EmbeddedModelServer]:
    server = EmbeddedModelServer(port=free_port(), n_ctx=4096)
    server.start()
    try:
        server.wait_ready(timeout=120)
        yield server
    finally:
        server.stop()


async def test_smoa_answers_a_question_with_the_embedded_model(model: EmbeddedModelServer) -> None:
    request = orchestrator_pb2.GenerateRequest(
        messages=question("What is 2 + 3? Answer with the number."),
        mode=orchestrator_pb2.MODE_SMOA,
        n=2,
        k=1,
        max_layers=2,
        model=common_pb2.ModelSettings(max_tokens=32, temperature=0.2),
        seed=7,
    )
    # The embedded server answers one request at a time: the second proposer is late by its place in that
    # queue, not slow, so it is waited for (as `make run` does).
    async with orchestrator_stack(
        model.base_url, llm_timeout_seconds=120, straggler_wait_factor=4.0, straggler_max_wait_seconds=120.0
    ) as stack:
        events = await collect(stack, request, timeout=300)
        # Calls the backend refused (e.g. probing which structured-output form it takes) spend nothing.
        llm_spans = [s for s in stack.finished(f"chat {EMBEDDED_MODEL}") if s.status.is_ok]
    summary = events[-1].summary
    tokens = "".join(e.token for e in events if e.WhichOneof("event") == "token")
    assert summary.text.strip(), "the model wrote nothing"
    assert tokens == summary.text
    assert summary.model == EMBEDDED_MODEL
    assert 1 <= len(summary.layers) <= 2
    assert [c.id for c in summary.layers[0].candidates] == ["L1-P0", "L1-P1"]
    assert len(summary.layers[0].kept_ids) == 1
    assert summary.stop_reason != common_pb2.STOP_REASON_UNSPECIFIED
    # llama-cpp-python reports usage for plain completions: the proposers' counts are measured, not guessed.
    proposer = [s.usage for s in summary.cost.stages if s.stage == "proposer"]
    assert proposer and all(u.input_tokens > 0 and u.output_tokens > 0 and not u.estimated for u in proposer)
    assert summary.cost.total.calls == len(llm_spans)
    input_tokens = [(s.attributes or {}).get("gen_ai.usage.input_tokens") for s in llm_spans]
    assert all(isinstance(t, int) and t > 0 for t in input_tokens)
